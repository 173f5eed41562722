"""OKX fill history: ``/trade/fills`` (the last 3 days) and ``/trade/fills-history`` (the last
3 months, ``instType`` required), one stream per swap.

Both answer fills newest first, at most 100 a page, bounded by fill time (``begin`` / ``end``,
milliseconds) and paged by ``billId``: ``after`` the last bill id of a page gives the older
fills that follow it. Per symbol: windows of at most :data:`WINDOW_MS` from the start of the
import range (or from the saved watermark) to now, each read page by page; a window that ends
more than :data:`RECENT_MS` ago is read from ``fills-history``, the recent ones from ``fills``
(OKX's list of the last three days, the first to show a new fill). The window boundary at
``now - RECENT_MS`` (plus a margin) is never crossed, so each window has one source.

The watermark is the end of the last window read completely; a window cut short (a crash, an
outage) is read again from its start, and the fills already stored are skipped by the database
(keyed by OKX's ``billId``, unique per account). The next run starts :data:`OVERLAP_MS` before
the watermark, so a fill OKX shows a moment late is still read.

Sizes are contracts (``fillSz``): times the instrument's ``ctVal`` they are base units. OKX's
``fee`` is negative when charged and positive for a rebate; Testudo's fee is a cost (positive
when charged).

Fills carry no position before them, so the opening position is computed from today's
positions minus the imported fills (``needs_opening``), which needs one stream per symbol; the
streams are the swaps the account traded in the last :data:`~.history.DISCOVERY_DAYS` days,
found by reading ``fills-history`` account-wide first (every swap at once).
"""

from __future__ import annotations

from decimal import Decimal
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

WINDOW_MS = 7 * DAY_MS
RECENT_MS = 3 * DAY_MS - 3_600_000  # /trade/fills keeps 3 days; an hour's margin
PAGE = 100
OVERLAP_MS = 60_000
RECENT = "fills"
ARCHIVE = "fills-history"


@attrs.frozen
class Cursor:
    """Paging state of one symbol: the window being read and the ``after`` bill id in it."""

    window_start_ms: int
    after: str | None = None
    done: bool = False


def start(saved: Watermark | None, start_ms: int) -> Cursor:
    """From the saved watermark (the end of the last window read, less the overlap) or the
    range's start."""
    if saved is None or saved.last_time is None:
        return Cursor(start_ms)
    return Cursor(max(start_ms, datetime_to_ms(saved.last_time) + 1 - OVERLAP_MS))


def recent_from(end_ms: int) -> int:
    """The first millisecond read from ``/trade/fills`` rather than the archive."""
    return end_ms - RECENT_MS


def window_end(window_start_ms: int, end_ms: int) -> int:
    """The last millisecond of the window starting at ``window_start_ms``: 7 days at most,
    never crossing into the recent part from the archive."""
    end = min(window_start_ms + WINDOW_MS - 1, end_ms)
    boundary = recent_from(end_ms)
    if window_start_ms < boundary:
        end = min(end, boundary - 1)
    return end


def source_of(window_start_ms: int, end_ms: int) -> str:
    """``fills`` for a window in the last three days, ``fills-history`` before."""
    return RECENT if window_start_ms >= recent_from(end_ms) else ARCHIVE


def request_of(inst_id: str | None, cursor: Cursor, end_ms: int) -> dict[str, Any]:
    """The parameters of the next page (every swap when ``inst_id`` is None)."""
    request: dict[str, Any] = {
        "instType": "SWAP",
        "begin": str(cursor.window_start_ms),
        "end": str(window_end(cursor.window_start_ms, end_ms)),
        "limit": str(PAGE),
    }
    if inst_id is not None:
        request["instId"] = inst_id
    if cursor.after:
        request["after"] = cursor.after
    return request


def advance(
    cursor: Cursor, request: dict[str, Any], rows: list[dict[str, Any]], end_ms: int
) -> Cursor:
    """The next page of the window (a full page may have more), or the next window."""
    if len(rows) >= PAGE and rows[-1].get("billId"):
        return Cursor(cursor.window_start_ms, str(rows[-1]["billId"]))
    following = int(request["end"]) + 1
    return Cursor(following, done=following > end_ms)


def fill_of(
    exchange: str, symbol: str, size: Decimal, settle: str, row: dict[str, Any]
) -> HistoryFill | None:
    """A fill (``billId`` is its id); None for anything but a swap trade."""
    try:
        if str(row.get("instType") or "SWAP") != "SWAP":
            return None
        side = str(row["side"]).lower()
        if side not in ("buy", "sell"):
            raise BadFill(f"unknown side {row['side']!r}")
        link = str(row.get("clOrdId") or "")
        return HistoryFill(
            Fill(
                exchange=exchange,
                fill_id=str(row["billId"]),
                order_id=str(row["ordId"]),
                client_order_id=link or None,
                symbol=symbol,
                side=side,
                price=decimal_of(row, "fillPx"),
                quantity=decimal_of(row, "fillSz") * size,
                fee=-decimal_of(row, "fee"),  # OKX: negative when charged
                fee_asset=str(row.get("feeCcy") or settle),
                realized_pnl=to_decimal(row.get("fillPnl")),
                timestamp=ms_to_datetime(int(row.get("fillTime") or row["ts"])),
            )
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None


def swap_markets(client: Any, settle: str) -> dict[str, tuple[str, Decimal]]:
    """Instrument id -> (Testudo symbol, ``ctVal``) of the linear swaps settled in ``settle``."""
    client.load_markets()
    out: dict[str, tuple[str, Decimal]] = {}
    for market in client.markets.values():
        if market.get("swap") and market.get("linear") and market.get("settle") == settle:
            out[str(market["id"])] = (from_ccxt(market["symbol"]), contract_size(market))
    return out


def rows_of(client: Any, request: dict[str, Any], source: str) -> list[dict[str, Any]]:
    """One raw page from ``/trade/fills`` or ``/trade/fills-history`` (worker thread)."""
    if source == RECENT:
        answer = client.privateGetTradeFills(request)
    else:
        answer = client.privateGetTradeFillsHistory(request)
    return list((answer or {}).get("data") or [])


def traded_inst_ids(client: Any, start_ms: int, end_ms: int) -> set[str]:
    """The instrument ids with at least one fill between ``start_ms`` and ``end_ms``, read
    account-wide window by window (worker thread)."""

    def read(cursor: Cursor) -> tuple[list[str], Cursor]:
        request = request_of(None, cursor, end_ms)
        rows = rows_of(client, request, source_of(cursor.window_start_ms, end_ms))
        return [str(row.get("instId")) for row in rows], advance(cursor, request, rows, end_ms)

    return traded_ids(Cursor(start_ms), lambda c: not c.done and c.window_start_ms <= end_ms, read)


def page(
    client: Any,
    exchange: str,
    settle: str,
    stream: Stream,
    cursor: Cursor,
    end_ms: int,
) -> Page:
    """One page of one symbol's fills (worker thread)."""
    assert stream.market_id is not None
    window: dict[str, Any] = {"symbol": stream.name}
    if cursor.window_start_ms > end_ms:  # the watermark is already at the range's end
        return Page((), 0, 0, 0, None, window, True, cursor)
    source = source_of(cursor.window_start_ms, end_ms)
    request = request_of(stream.market_id, cursor, end_ms)
    rows = rows_of(client, request, source)
    size = swap_markets(client, settle).get(stream.market_id, (stream.name, Decimal(1)))[1]
    fills, skipped, errors = parse_rows(
        rows, lambda r: fill_of(exchange, stream.name, size, settle, r)
    )
    following = advance(cursor, request, rows, end_ms)
    window_done = following.after is None
    watermark = Watermark(last_time=ms_to_datetime(int(request["end"]))) if window_done else None
    window.update(
        {
            "from": iso(ms_to_datetime(int(request["begin"]))),
            "to": iso(ms_to_datetime(int(request["end"]))),
            "source": source,
        }
    )
    return Page(fills, len(rows), skipped, errors, watermark, window, following.done, following)


@attrs.frozen
class OkxHistory:
    """:class:`~testudo.exchanges.venues.history.HistorySource` of OKX (USDT swaps)."""

    exchange: str
    settle: str
    source: str = "import_ccxt"
    needs_opening: bool = True

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        """The swaps the account traded in the last :data:`~.history.DISCOVERY_DAYS` days."""
        del wallet
        return traded_streams(client, swap_markets(client, self.settle), traded_inst_ids)

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Cursor:
        return start(saved, start_ms)

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        del start_ms
        return page(client, self.exchange, self.settle, stream, state, end_ms)
