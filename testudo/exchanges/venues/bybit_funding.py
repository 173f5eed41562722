"""Bybit funding payments: the executions of ``execType`` ``Funding``, read with ccxt's
``fetch_funding_history`` (``GET /v5/execution/list``).

Bybit answers executions newest first within one window of at most 7 days (``startTime`` ..
``endTime``), at most 100 a page (``limit``; ccxt's ``size`` is not Bybit's), paged inside a
window with ``cursor`` / ``nextPageCursor`` (ccxt puts the cursor into the first row's
``info``). A span is read window after window from its start.

A funding execution's ``execFee`` is signed as a trading fee is: positive when the position
paid, negative when it received. ccxt's ``amount`` is ``execFee`` as it is, so it reads a
payment as a receipt; Testudo negates ``execFee``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from testudo.money import to_decimal

PAGE = 100  # /v5/execution/list: limit 1..100
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS  # the widest window Bybit answers
RETENTION_MS = 730 * DAY_MS  # how long a unified account's executions are kept


def funding_rows(
    client: Any, market: str, since_ms: int, until_ms: int | None
) -> Iterator[Mapping[str, Any]]:
    """The funding executions of ``market`` from ``since_ms`` to ``until_ms`` (None: now),
    one 7-day window at a time, page after page. Without ``until_ms`` the last window ends a
    week after it starts, so a payment stamped by Bybit's clock a moment ahead of ours is
    still in it; nothing older than Bybit keeps is asked for."""
    now = int(client.milliseconds())
    last = until_ms if until_ms is not None else now
    start = max(since_ms, now - RETENTION_MS)
    while start <= last:
        end = start + WEEK_MS if until_ms is None else min(start + WEEK_MS, until_ms)
        yield from _window(client, market, start, end)
        start = end + 1


def _window(client: Any, market: str, start: int, end: int) -> Iterator[Mapping[str, Any]]:
    params: dict[str, Any] = {"startTime": start, "endTime": end, "limit": PAGE}
    while True:
        rows = client.fetch_funding_history(market, None, PAGE, params)
        yield from rows
        cursor = next(
            (r["info"].get("nextPageCursor") for r in rows if r["info"].get("nextPageCursor")), None
        )
        if not cursor:
            return
        params["cursor"] = cursor


def funding_amount(row: Mapping[str, Any]) -> Decimal:
    """What one funding execution received (negative: paid)."""
    fee = to_decimal((row.get("info") or {}).get("execFee"))
    return -fee if fee is not None else Decimal(0)
