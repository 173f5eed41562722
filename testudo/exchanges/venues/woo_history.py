"""WOO X fill history: ``GET /v3/trade/transactionHistory``, one stream per symbol.

WOO keeps two years of executions and pages them two ways: without ``fromId`` newest first by
``page`` number (pages shift as new fills arrive), with ``fromId`` the fills whose id is at
least ``fromId``, oldest first, ``limit`` (at most 500) at a time. Testudo uses the second:
per symbol, ``startTime`` (the start of the import range) and ``fromId`` (one past the last id
read), until a short page. Fill ids only grow, so the watermark is the last fill id read
(``<symbol>:<id>``); a page cut short by a crash is read again from there, and a later run
reads only newer fills.

Executions carry no position before them, so the opening position is computed from today's
positions minus the imported fills (``needs_opening``), which needs one stream per symbol. The
streams are the symbols the account traded in the import range, found by reading the same
history account-wide first (no ``symbol``), 500 fills a request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from testudo.exchanges.models import Fill
from testudo.exchanges.symbols import from_ccxt

from .base import contract_size
from .history import (
    BadFill,
    HistoryFill,
    Page,
    Stream,
    Watermark,
    decimal_of,
    iso,
    ms_to_datetime,
    parse_rows,
    traded_ids,
    traded_streams,
)

PAGE = 500  # transactionHistory: limit up to 500


@attrs.frozen
class Cursor:
    """Paging state of one symbol: the last fill id read."""

    last_id: int | None = None
    done: bool = False


def start(saved: Watermark | None) -> Cursor:
    """From the saved watermark's fill id, or from the start of the range."""
    if saved is None or saved.last_fill_id is None:
        return Cursor()
    return Cursor(int(saved.last_fill_id.rsplit(":", 1)[-1]))


def request_of(market_id: str | None, cursor: Cursor, start_ms: int, end_ms: int) -> dict[str, Any]:
    """The ``transactionHistory`` parameters of the next page (every market when
    ``market_id`` is None)."""
    request: dict[str, Any] = {
        "startTime": start_ms,
        "endTime": end_ms,
        "fromId": 1 if cursor.last_id is None else cursor.last_id + 1,
        "limit": PAGE,
    }
    if market_id is not None:
        request["symbol"] = market_id
    return request


def time_ms(value: Any) -> int:
    """A WOO ``"seconds.millis"`` time in milliseconds."""
    return int(Decimal(str(value)) * 1000)


def fill_of(exchange: str, symbol: str, size: Any, row: dict[str, Any]) -> HistoryFill | None:
    """An execution as a fill (WOO's execution ``id`` is the fill id)."""
    try:
        side = str(row["side"]).lower()
        if side not in ("buy", "sell"):
            raise BadFill(f"unknown side {row['side']!r}")
        return HistoryFill(
            Fill(
                exchange=exchange,
                fill_id=str(row["id"]),
                order_id=str(row["orderId"]),
                client_order_id=None,
                symbol=symbol,
                side=side,
                price=decimal_of(row, "executedPrice"),
                quantity=decimal_of(row, "executedQuantity") * size,
                fee=decimal_of(row, "fee"),
                fee_asset=str(row.get("feeAsset") or "USDT"),
                realized_pnl=decimal_of(row, "realizedPnl") if "realizedPnl" in row else None,
                timestamp=ms_to_datetime(time_ms(row["executedTimestamp"])),
            )
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise BadFill(str(exc)) from None


def perpetuals(client: Any, settle: str) -> dict[str, tuple[str, Any]]:
    """Market id → (Testudo symbol, contract size) of the ``settle`` perpetuals."""
    client.load_markets()
    out: dict[str, tuple[str, Any]] = {}
    for market in client.markets.values():
        if market.get("swap") and market.get("settle") == settle:
            out[str(market["id"])] = (from_ccxt(market["symbol"]), contract_size(market))
    return out


def rows_of(answer: Any) -> list[dict[str, Any]]:
    """The rows of a raw ``transactionHistory`` answer."""
    return list(((answer or {}).get("data") or {}).get("rows") or [])


def traded_market_ids(client: Any, start_ms: int, end_ms: int) -> set[str]:
    """The market ids with at least one execution between ``start_ms`` and ``end_ms``, read
    account-wide by fill id until a short page (worker thread)."""

    def read(cursor: Cursor) -> tuple[list[str], Cursor]:
        request = request_of(None, cursor, start_ms, end_ms)
        rows = rows_of(client.v3PrivateGetTradeTransactionHistory(request))
        following = Cursor(cursor.last_id, done=True)
        if len(rows) >= PAGE:
            following = Cursor(int(rows[-1]["id"]))
        return [str(row.get("symbol")) for row in rows], following

    return traded_ids(Cursor(), lambda c: not c.done, read)


def page(
    client: Any,
    exchange: str,
    settle: str,
    stream: Stream,
    cursor: Cursor,
    window: tuple[int, int],
) -> Page:
    """One ``GET /v3/trade/transactionHistory`` page of one symbol (worker thread)."""
    assert stream.market_id is not None
    start_ms, end_ms = window
    request = request_of(stream.market_id, cursor, start_ms, end_ms)
    rows = rows_of(client.v3PrivateGetTradeTransactionHistory(request))
    size = perpetuals(client, settle).get(stream.market_id, (stream.name, 1))[1]
    fills, skipped, errors = parse_rows(rows, lambda r: fill_of(exchange, stream.name, size, r))
    last_id = max((int(r["id"]) for r in rows if str(r.get("id", "")).isdigit()), default=None)
    following = Cursor(cursor.last_id if last_id is None else last_id, len(rows) < PAGE)
    watermark = None if last_id is None else Watermark(f"{stream.name}:{last_id}")
    shown = {"symbol": stream.name, "from": iso(ms_to_datetime(start_ms))}
    if fills:
        shown["to"] = iso(fills[-1].fill.timestamp)
    return Page(fills, len(rows), skipped, errors, watermark, shown, following.done, following)


@attrs.frozen
class WooHistory:
    """:class:`~testudo.exchanges.venues.history.HistorySource` of WOO X (USDT perpetuals)."""

    exchange: str
    settle: str
    source: str = "import_ccxt"
    needs_opening: bool = True

    def streams(self, client: Any, wallet: str | None) -> list[Stream]:
        """The symbols the account traded in the last :data:`~.history.DISCOVERY_DAYS` days."""
        del wallet
        return traded_streams(client, perpetuals(client, self.settle), traded_market_ids)

    def start(self, stream: Stream, saved: Watermark | None, start_ms: int) -> Cursor:
        del stream, start_ms
        return start(saved)

    def page(self, client: Any, stream: Stream, state: Any, start_ms: int, end_ms: int) -> Page:
        return page(client, self.exchange, self.settle, stream, state, (start_ms, end_ms))
