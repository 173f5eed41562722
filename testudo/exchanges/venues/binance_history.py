"""Binance USD-M fill history: ``/fapi/v1/userTrades``, one stream per symbol.

The endpoint needs a symbol, covers at most 7 days per ``startTime``/``endTime`` window and
returns at most 1000 rows. Per symbol: 7-day windows from the start of the import range until
one holds a fill, then ``fromId`` paging (every later fill of the symbol, 1000 at a time) until
a short page. The watermark is the last trade id (``<symbol>:<id>``: trade ids are per symbol)
or, while no fill was found, the time scanned up to; the next run pages on from there.
"""

from __future__ import annotations

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

WEEK_MS = 7 * 86_400_000
PAGE = 1000


@attrs.frozen
class Cursor:
    """Paging state of one symbol: the last trade id seen, or the next window to scan."""

    last_id: int | None = None
    window_start_ms: int | None = None
    done: bool = False


def start(saved: Watermark | None, start_ms: int) -> Cursor:
    if saved is not None and saved.last_fill_id is not None:
        return Cursor(last_id=int(saved.last_fill_id.rsplit(":", 1)[-1]))
    resume = datetime_to_ms(saved.last_time) + 1 if saved and saved.last_time else start_ms
    return Cursor(window_start_ms=max(start_ms, resume))


def request_of(market_id: str, cursor: Cursor, start_ms: int, end_ms: int) -> dict[str, Any]:
    """The ``userTrades`` parameters of the next page."""
    if cursor.last_id is not None:
        return {"symbol": market_id, "fromId": cursor.last_id + 1, "limit": PAGE}
    window = cursor.window_start_ms if cursor.window_start_ms is not None else start_ms
    # A run right after the last one (no time passed) resumes past its end: ask for the end
    # instant alone (Binance refuses startTime > endTime with -1128).
    window = min(window, end_ms)
    return {
        "symbol": market_id,
        "startTime": window,
        "endTime": min(window + WEEK_MS - 1, end_ms),
        "limit": PAGE,
    }


def advance(
    cursor: Cursor, request: dict[str, Any], rows: list[dict[str, Any]], end_ms: int
) -> Cursor:
    """The state after a page: fromId paging once a fill was seen, else the next window."""
    if rows:
        # Found fills: continue with fromId (every later fill of the symbol); only a short
        # fromId page ends the symbol, since a window page ends at its window.
        last = max(int(r["id"]) for r in rows)
        return Cursor(last_id=last, done=cursor.last_id is not None and len(rows) < PAGE)
    if cursor.last_id is not None:
        return attrs.evolve(cursor, done=True)
    following = int(request["endTime"]) + 1
    return Cursor(window_start_ms=following, done=following > end_ms)


def fill_of(exchange: str, symbol: str, row: dict[str, Any]) -> HistoryFill:
    """A ``userTrades`` row as a fill (fill id ``<symbol>:<trade id>``)."""
    try:
        side = str(row["side"]).lower()
        if side not in ("buy", "sell"):
            raise BadFill(f"unknown side {row['side']!r}")
        return HistoryFill(
            Fill(
                exchange=exchange,
                fill_id=f"{symbol}:{int(row['id'])}",
                order_id=str(row["orderId"]),
                client_order_id=None,
                symbol=symbol,
                side=side,
                price=decimal_of(row, "price"),
                quantity=decimal_of(row, "qty"),
                fee=abs(decimal_of(row, "commission")),
                fee_asset=str(row.get("commissionAsset") or ""),
                realized_pnl=to_decimal(row.get("realizedPnl")),
                timestamp=ms_to_datetime(int(row["time"])),
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None


def markets(client: Any, settle: str) -> dict[str, str]:
    """Testudo symbol → market id of every active linear perpetual settled in ``settle``."""
    client.load_markets()
    out: dict[str, str] = {}
    for market in client.markets.values():
        if (
            market.get("swap")
            and market.get("linear")
            and market.get("settle") == settle
            and market.get("active", True) is not False
        ):
            out[from_ccxt(market["symbol"])] = market["id"]
    return dict(sorted(out.items()))


def page(
    client: Any, exchange: str, stream: Stream, cursor: Cursor, start_ms: int, end_ms: int
) -> Page:
    """One ``GET /fapi/v1/userTrades`` (worker thread)."""
    assert stream.market_id is not None
    request = request_of(stream.market_id, cursor, start_ms, end_ms)
    rows = list(client.fapiPrivateGetUserTrades(request))
    fills, skipped, errors = parse_rows(rows, lambda r: fill_of(exchange, stream.name, r))
    following = advance(cursor, request, rows, end_ms)
    if following.last_id is not None:
        watermark = Watermark(last_fill_id=f"{stream.name}:{following.last_id}")
    else:
        watermark = Watermark(last_time=ms_to_datetime(int(request["endTime"])))
    return Page(
        fills,
        len(rows),
        skipped,
        errors,
        watermark,
        window_of(stream.name, request),
        following.done,
        following,
    )


def window_of(symbol: str, request: dict[str, Any]) -> dict[str, Any]:
    if "fromId" in request:
        return {"symbol": symbol, "from_id": request["fromId"]}
    return {
        "symbol": symbol,
        "from": iso(ms_to_datetime(int(request["startTime"]))),
        "to": iso(ms_to_datetime(int(request["endTime"]))),
    }


@attrs.frozen
class BinanceHistory:
    """:class:`~testudo.exchanges.venues.history.HistorySource` of Binance USD-M."""

    exchange: str
    settle: str
    source: str = "import_ccxt"
    needs_opening: bool = True

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        del wallet
        return [Stream(s, market_id) for s, market_id in markets(client, self.settle).items()]

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Cursor:
        return start(saved, start_ms)

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        return page(client, self.exchange, stream, state, start_ms, end_ms)
