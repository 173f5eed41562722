"""WOO X funding payments: ``GET /v3/futures/fundingFee/history``, read with ccxt's
``fetch_funding_history``.

WOO answers one ``symbol``'s payments between ``startTime`` and ``endTime`` newest first, paged
by ``page`` number (from 1), at most 500 a page (``size``). A span is read with its bounds
fixed, page after page, until a short page; a payment made meanwhile shifts the later pages by
a row, which only repeats a row (the payment's ``id`` keeps it once).

``fundingFee`` is the amount without its sign, ``paymentType`` which way it went (``Pay``:
the account paid it, ``Receive``); ccxt's ``amount`` is the same as a float.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from testudo.money import to_decimal

PAGE = 500  # fundingFee/history: size up to 500


def funding_rows(
    client: Any, market: str, since_ms: int, until_ms: int | None
) -> Iterator[Mapping[str, Any]]:
    """The funding payments of ``market`` from ``since_ms`` (to ``until_ms``), page after
    page."""
    params: dict[str, Any] = {} if until_ms is None else {"until": until_ms}
    number = 1
    while True:
        rows = client.fetch_funding_history(market, since_ms, PAGE, {**params, "page": number})
        yield from rows
        if len(rows) < PAGE:
            return
        number += 1


def funding_amount(row: Mapping[str, Any]) -> Decimal:
    """What one payment received (negative: paid)."""
    info = row.get("info") or {}
    fee = abs(to_decimal(info.get("fundingFee")) or Decimal(0))
    return -fee if info.get("paymentType") == "Pay" else fee
