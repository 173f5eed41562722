"""Bybit fill history: ``GET /v5/execution/list`` (category ``linear``), one stream per symbol.

Bybit answers executions newest first, at most 100 a page, within one window of at most 7 days
(``startTime`` and ``endTime`` further apart are refused with ``10001``), and pages inside a
window with ``cursor`` / ``nextPageCursor`` (``""`` on the last page). Per symbol: the 7-day
windows from the start of the import range (or from the saved watermark) to now, each read
page by page. The watermark is the end of the last window read completely; a window cut short
(a crash, an outage) is read again from its start, and the fills already stored are skipped by
the database (they are keyed by Bybit's ``execId``). The next run starts :data:`OVERLAP_MS`
before the watermark: an execution Bybit shows a moment late, or stamped by its clock a few
seconds behind Testudo's (Bybit refuses requests more than the 5 s receive window apart), is
still read.

Executions carry no position before them, so the opening position is computed from today's
positions minus the imported fills (``needs_opening``), which needs one stream per symbol.
Bybit lists hundreds of USDT perpetuals; reading 13 windows of each would cost thousands of
requests for an account that traded three of them. So the streams are the symbols the account
actually traded in the last :data:`~.history.DISCOVERY_DAYS` days, found by the same windows
read account-wide first (no ``symbol``: every linear market at once).
"""

from __future__ import annotations

from typing import Any

import attrs

from testudo.exchanges.models import Fill
from testudo.exchanges.symbols import from_ccxt
from testudo.money import to_decimal

from .base import contract_size
from .history import (
    DAY_MS,
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
    traded_ids,
    traded_streams,
)

WEEK_MS = 7 * DAY_MS
PAGE = 100  # /v5/execution/list: limit 1..100
OVERLAP_MS = 60_000


@attrs.frozen
class Cursor:
    """Paging state of one symbol: the window being read and Bybit's cursor inside it."""

    window_start_ms: int
    page_cursor: str | None = None
    done: bool = False


def start(saved: Watermark | None, start_ms: int) -> Cursor:
    """From the saved watermark (the end of the last window read, less the overlap) or the
    range's start."""
    if saved is None or saved.last_time is None:
        return Cursor(start_ms)
    return Cursor(max(start_ms, datetime_to_ms(saved.last_time) + 1 - OVERLAP_MS))


def window_end(window_start_ms: int, end_ms: int) -> int:
    """The last millisecond of the window starting at ``window_start_ms`` (7 days at most)."""
    return min(window_start_ms + WEEK_MS - 1, end_ms)


def request_of(market_id: str | None, cursor: Cursor, end_ms: int) -> dict[str, Any]:
    """The ``execution/list`` parameters of the next page (every linear market when
    ``market_id`` is None)."""
    request: dict[str, Any] = {
        "category": "linear",
        "execType": "Trade",
        "startTime": cursor.window_start_ms,
        "endTime": window_end(cursor.window_start_ms, end_ms),
        "limit": PAGE,
    }
    if market_id is not None:
        request["symbol"] = market_id
    if cursor.page_cursor:
        request["cursor"] = cursor.page_cursor
    return request


def advance(cursor: Cursor, request: dict[str, Any], next_page: str, end_ms: int) -> Cursor:
    """The next page of the window, or the next window once this one is read."""
    if next_page:
        return Cursor(cursor.window_start_ms, next_page)
    following = int(request["endTime"]) + 1
    return Cursor(following, done=following > end_ms)


def fill_of(
    exchange: str, symbol: str, size: Any, settle: str, row: dict[str, Any]
) -> HistoryFill | None:
    """An execution as a fill (``execId`` is the fill id); None for anything but a trade
    (funding, deliveries)."""
    try:
        if str(row.get("execType") or "Trade") != "Trade":
            return None
        side = str(row["side"]).lower()
        if side not in ("buy", "sell"):
            raise BadFill(f"unknown side {row['side']!r}")
        link = str(row.get("orderLinkId") or "")
        return HistoryFill(
            Fill(
                exchange=exchange,
                fill_id=str(row["execId"]),
                order_id=str(row["orderId"]),
                client_order_id=link or None,
                symbol=symbol,
                side=side,
                price=decimal_of(row, "execPrice"),
                quantity=decimal_of(row, "execQty") * size,
                fee=decimal_of(row, "execFee"),  # negative for a rebate
                fee_asset=str(row.get("feeCurrency") or settle),
                realized_pnl=to_decimal(row.get("closedPnl")),
                timestamp=ms_to_datetime(int(row["execTime"])),
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None


def linear_markets(client: Any, settle: str) -> dict[str, tuple[str, Any]]:
    """Market id → (Testudo symbol, contract size) of the linear perpetuals settled in
    ``settle``."""
    client.load_markets()
    out: dict[str, tuple[str, Any]] = {}
    for market in client.markets.values():
        if market.get("swap") and market.get("linear") and market.get("settle") == settle:
            out[str(market["id"])] = (from_ccxt(market["symbol"]), contract_size(market))
    return out


def result_of(answer: Any) -> tuple[list[dict[str, Any]], str]:
    """Rows and ``nextPageCursor`` of a raw ``execution/list`` answer."""
    result = (answer or {}).get("result") or {}
    return list(result.get("list") or []), str(result.get("nextPageCursor") or "")


def traded_market_ids(client: Any, start_ms: int, end_ms: int) -> set[str]:
    """The market ids with at least one execution between ``start_ms`` and ``end_ms``, read
    account-wide window by window (worker thread)."""

    def read(cursor: Cursor) -> tuple[list[str], Cursor]:
        request = request_of(None, cursor, end_ms)
        rows, next_page = result_of(client.privateGetV5ExecutionList(request))
        return [str(row.get("symbol")) for row in rows], advance(cursor, request, next_page, end_ms)

    return traded_ids(Cursor(start_ms), lambda c: not c.done and c.window_start_ms <= end_ms, read)


def page(
    client: Any,
    exchange: str,
    settle: str,
    stream: Stream,
    cursor: Cursor,
    end_ms: int,
) -> Page:
    """One ``GET /v5/execution/list`` of one symbol (worker thread)."""
    assert stream.market_id is not None
    window = {"symbol": stream.name}
    if cursor.window_start_ms > end_ms:  # the watermark is already at the range's end
        return Page((), 0, 0, 0, None, window, True, cursor)
    request = request_of(stream.market_id, cursor, end_ms)
    rows, next_page = result_of(client.privateGetV5ExecutionList(request))
    size = linear_markets(client, settle).get(stream.market_id, (stream.name, 1))[1]
    fills, skipped, errors = parse_rows(
        rows, lambda r: fill_of(exchange, stream.name, size, settle, r)
    )
    following = advance(cursor, request, next_page, end_ms)
    window_done = following.page_cursor is None
    watermark = (
        Watermark(last_time=ms_to_datetime(int(request["endTime"]))) if window_done else None
    )
    window.update(
        {
            "from": iso(ms_to_datetime(int(request["startTime"]))),
            "to": iso(ms_to_datetime(int(request["endTime"]))),
        }
    )
    return Page(fills, len(rows), skipped, errors, watermark, window, following.done, following)


@attrs.frozen
class BybitHistory:
    """:class:`~testudo.exchanges.venues.history.HistorySource` of Bybit (USDT linear)."""

    exchange: str
    settle: str
    source: str = "import_ccxt"
    needs_opening: bool = True

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        """The symbols the account traded in the last :data:`~.history.DISCOVERY_DAYS` days."""
        del wallet
        return traded_streams(client, linear_markets(client, self.settle), traded_market_ids)

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Cursor:
        return start(saved, start_ms)

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        del start_ms
        return page(client, self.exchange, self.settle, stream, state, end_ms)
