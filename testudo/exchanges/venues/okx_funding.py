"""OKX funding payments: the account bills of ``type`` 8 (funding fee), read with ccxt's
``fetch_funding_history`` (``GET /api/v5/account/bills-archive``, the last 3 months).

Bills come newest first, at most 100 a page, bounded by bill time (``begin`` / ``end``) and
paged by ``billId`` (``after`` the oldest bill of a page gives the older ones). The swap is
named by ``instId`` and no ccxt symbol is passed: with one, ccxt drops the bills of other
swaps from a page after the fact, and a full page would look like the last one.

A bill's ``balChg`` is the signed change of the balance (negative: paid), as OKX wrote it
(``posBalChg`` when the payment went to an isolated position's margin instead); ccxt's
``amount`` is the same number as a float.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from testudo.money import to_decimal

PAGE = 100  # bills-archive: limit up to 100


def funding_rows(
    client: Any, market: str, since_ms: int, until_ms: int | None
) -> Iterator[Mapping[str, Any]]:
    """The funding bills of ``market`` (a ccxt symbol) from ``since_ms`` (to ``until_ms``),
    newest first, page after page."""
    # ``begin`` / ``end`` widened by a millisecond: a bill at either end is in the answer
    # whether OKX counts its bounds in or not (the span itself is kept by the caller).
    params: dict[str, Any] = {
        "instType": "SWAP",
        "instId": client.load_markets()[market]["id"],
        "begin": str(max(since_ms - 1, 0)),
    }
    if until_ms is not None:
        params["end"] = str(until_ms + 1)
    while True:
        rows = client.fetch_funding_history(None, None, PAGE, params)
        yield from rows
        if len(rows) < PAGE:
            return
        params["after"] = str(min(int(row["info"]["billId"]) for row in rows))


def funding_amount(row: Mapping[str, Any]) -> Decimal:
    """What one funding bill received (negative: paid)."""
    info = row.get("info") or {}
    change = to_decimal(info.get("balChg"))
    if change is None or change == 0:
        change = to_decimal(info.get("posBalChg"))
    return change or Decimal(0)
