"""Hyperliquid fill history: ``userFillsByTime``, one stream (``*``) for the whole account.

Each answer holds at most 2000 fills from ``startTime``, oldest first; the next page starts at
the last fill's time (fills already stored are skipped by the database) and a short page ends
the range. The watermark is the last fill's time. Only the 10,000 most recent fills are ever
available from Hyperliquid; older ones cannot be imported.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from testudo.exchanges.models import Fill
from testudo.exchanges.symbols import from_ccxt
from testudo.money import to_decimal

from .history import (
    BadFill,
    HistoryFill,
    Page,
    Stream,
    Watermark,
    datetime_to_ms,
    decimal_of,
    iso,
    ms_to_datetime,
    parse_rows,
)

PAGE = 2000


@attrs.frozen
class Cursor:
    start_ms: int
    done: bool = False


def start(saved: Watermark | None, start_ms: int) -> Cursor:
    if saved is not None and saved.last_time is not None:
        start_ms = max(start_ms, datetime_to_ms(saved.last_time))
    return Cursor(start_ms)


def advance(cursor: Cursor, rows: list[dict[str, Any]], end_ms: int) -> Cursor:
    """Next page from the last fill's time (+1 ms when a page did not move forward)."""
    if len(rows) < PAGE:
        return Cursor(cursor.start_ms, done=True)
    last = max(int(r["time"]) for r in rows)
    following = last if last > cursor.start_ms else cursor.start_ms + 1
    return Cursor(following, done=following > end_ms)


def fill_of(exchange: str, settle: str, row: dict[str, Any]) -> HistoryFill | None:
    """A ``userFills`` row as a fill; None for a spot fill (``@``-coins and pairs)."""
    try:
        coin = str(row["coin"])
        if coin.startswith("@") or "/" in coin:
            return None
        side = {"B": "buy", "A": "sell"}.get(str(row["side"]))
        if side is None:
            raise BadFill(f"unknown side {row['side']!r}")
        cloid = row.get("cloid")
        fill = Fill(
            exchange=exchange,
            fill_id=str(int(row["tid"])),
            order_id=str(row["oid"]),
            client_order_id=str(cloid) if cloid else None,
            symbol=from_ccxt(f"{coin}/{settle}:{settle}"),
            side=side,
            price=decimal_of(row, "px"),
            quantity=decimal_of(row, "sz"),
            fee=decimal_of(row, "fee") + (to_decimal(row.get("builderFee")) or Decimal(0)),
            fee_asset=str(row.get("feeToken") or settle),
            realized_pnl=to_decimal(row.get("closedPnl")),
            timestamp=ms_to_datetime(int(row["time"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None
    return HistoryFill(fill, to_decimal(row.get("startPosition")))


def page(
    client: Any, exchange: str, settle: str, stream: Stream, cursor: Cursor, end_ms: int
) -> Page:
    """One ``POST /info`` ``userFillsByTime`` (worker thread)."""
    if not stream.wallet:
        raise BadFill("the account has no wallet")
    request = {
        "type": "userFillsByTime",
        "user": stream.wallet,
        "startTime": cursor.start_ms,
        "endTime": end_ms,
        "aggregateByTime": False,
    }
    rows = list(client.publicPostInfo(request) or [])
    fills, skipped, errors = parse_rows(rows, lambda r: fill_of(exchange, settle, r))
    last = max((int(r["time"]) for r in rows), default=None)
    watermark = None if last is None else Watermark(last_time=ms_to_datetime(last))
    window = {"from": iso(ms_to_datetime(cursor.start_ms)), "to": iso(ms_to_datetime(end_ms))}
    following = advance(cursor, rows, end_ms)
    return Page(fills, len(rows), skipped, errors, watermark, window, following.done, following)


@attrs.frozen
class HyperliquidHistory:
    """:class:`~testudo.exchanges.venues.history.HistorySource` of Hyperliquid (the fills
    carry the position before them, so no opening position is computed)."""

    exchange: str
    settle: str
    source: str = "import_hl"
    needs_opening: bool = False

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        del client
        return [Stream("*", wallet=wallet)]

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Cursor:
        return start(saved, start_ms)

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        return page(client, self.exchange, self.settle, stream, state, end_ms)
