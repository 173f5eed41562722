"""What an import writes: raw fills (deduplicated), watermarks, and round-trip trades.

Every function takes a connection inside the caller's transaction. Raw fills are keyed by
(user, exchange, fill id as text) and inserted with ``ON CONFLICT DO NOTHING``; trades are
keyed by (user, exchange, hash of their fill ids), so importing the same history twice, or
the same account added twice, never creates a second copy of anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from testudo.db.database import Conn
from testudo.exchanges.models import Fill
from testudo.exchanges.venues.history import HistoryFill
from testudo.journal.formulas import trip_figures
from testudo.journal.roundtrips import RoundTrip, fill_order_key

SEPARATOR = "\x1f"
TRADE_BATCH = 5000

INSERT_FILLS = """
INSERT INTO raw_fills (user_id, exchange, exchange_account_id, fill_id, order_id,
                       client_order_id, symbol, side, price, quantity, fee, fee_asset,
                       realized_pnl, start_position, executed_at)
SELECT %(user)s, %(exchange)s, %(account)s, f.*
FROM unnest(%(fill_id)s::text[], %(order_id)s::text[], %(client_order_id)s::text[],
            %(symbol)s::text[], %(side)s::text[], %(price)s::numeric[], %(quantity)s::numeric[],
            %(fee)s::numeric[], %(fee_asset)s::text[], %(realized_pnl)s::numeric[],
            %(start_position)s::numeric[], %(executed_at)s::timestamptz[]) AS f
ON CONFLICT (user_id, exchange, fill_id) DO NOTHING
"""
GET_CURSORS = """
SELECT stream, last_fill_id, last_time, opening_position FROM import_cursors
WHERE exchange_account_id = %s
"""
SAVE_CURSOR = """
INSERT INTO import_cursors (exchange_account_id, stream, last_fill_id, last_time,
                            opening_position, updated_at)
VALUES (%(account)s, %(stream)s, %(last_fill_id)s, %(last_time)s, %(opening)s, %(now)s)
ON CONFLICT (exchange_account_id, stream) DO UPDATE
SET last_fill_id = coalesce(EXCLUDED.last_fill_id, import_cursors.last_fill_id),
    last_time = coalesce(EXCLUDED.last_time, import_cursors.last_time),
    opening_position = coalesce(import_cursors.opening_position, EXCLUDED.opening_position),
    updated_at = EXCLUDED.updated_at
"""
NET_FILLS_UNTIL = """
SELECT symbol, sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END) AS net
FROM raw_fills WHERE exchange_account_id = %s AND symbol = ANY(%s) AND executed_at <= %s
GROUP BY symbol
"""
LOAD_FILLS = """
SELECT exchange, fill_id, order_id, client_order_id, symbol, side, price, quantity, fee,
       fee_asset, realized_pnl, start_position, executed_at
FROM raw_fills WHERE exchange_account_id = %s AND symbol = ANY(%s)
"""
INSERT_TRADES = """
INSERT INTO journal_trades (user_id, exchange_account_id, exchange, symbol, side, entry_price,
    exit_price, quantity, leverage, realized_pnl, realized_pnl_pct, fees, net_pnl, opened_at,
    closed_at, order_ids, client_order_ids, fill_count, source, exchange_fill_id,
    source_fills_hash)
SELECT %(user)s, %(account)s, t.exchange, t.symbol, t.side, t.entry, t.exit, t.qty, 1, t.pnl,
       t.pct, t.fees, t.net, t.opened, t.closed,
       coalesce(string_to_array(nullif(t.orders, ''), E'\\x1f'), '{}'),
       coalesce(string_to_array(nullif(t.clients, ''), E'\\x1f'), '{}'),
       t.fills, %(source)s, t.closing, t.hash
FROM unnest(%(exchange)s::text[], %(symbol)s::text[], %(side)s::text[], %(entry)s::numeric[],
            %(exit)s::numeric[], %(qty)s::numeric[], %(pnl)s::numeric[], %(pct)s::numeric[],
            %(fees)s::numeric[], %(net)s::numeric[], %(opened)s::timestamptz[],
            %(closed)s::timestamptz[], %(orders)s::text[], %(clients)s::text[],
            %(fills)s::integer[], %(closing)s::text[], %(hash)s::text[])
     AS t(exchange, symbol, side, entry, exit, qty, pnl, pct, fees, net, opened, closed,
          orders, clients, fills, closing, hash)
ON CONFLICT (user_id, exchange, source_fills_hash) WHERE source_fills_hash IS NOT NULL
DO NOTHING
"""


@attrs.frozen
class Cursor:
    stream: str
    last_fill_id: str | None
    last_time: dt.datetime | None
    opening_position: Decimal | None


def store_fills(
    conn: Conn, user_id: str, account_id: str, exchange: str, fills: Sequence[HistoryFill]
) -> int:
    """Insert new fills; return how many were new (the rest were already stored)."""
    if not fills:
        return 0
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "fill_id",
            "order_id",
            "client_order_id",
            "symbol",
            "side",
            "price",
            "quantity",
            "fee",
            "fee_asset",
            "realized_pnl",
            "start_position",
            "executed_at",
        )
    }
    for item in fills:
        f = item.fill
        columns["fill_id"].append(f.fill_id)
        columns["order_id"].append(f.order_id)
        columns["client_order_id"].append(f.client_order_id)
        columns["symbol"].append(f.symbol)
        columns["side"].append(f.side)
        columns["price"].append(f.price)
        columns["quantity"].append(f.quantity)
        columns["fee"].append(f.fee)
        columns["fee_asset"].append(f.fee_asset)
        columns["realized_pnl"].append(f.realized_pnl)
        columns["start_position"].append(item.start_position)
        columns["executed_at"].append(f.timestamp)
    params = {"user": user_id, "exchange": exchange, "account": account_id, **columns}
    return conn.execute(INSERT_FILLS, params).rowcount


def cursors(conn: Conn, account_id: str) -> dict[str, Cursor]:
    return {
        r["stream"]: Cursor(r["stream"], r["last_fill_id"], r["last_time"], r["opening_position"])
        for r in conn.execute(GET_CURSORS, (account_id,)).fetchall()
    }


def save_cursor(
    conn: Conn,
    account_id: str,
    stream: str,
    now: dt.datetime,
    *,
    last_fill_id: str | None = None,
    last_time: dt.datetime | None = None,
    opening_position: Decimal | None = None,
) -> None:
    """Advance a watermark (the opening position, once set, never changes)."""
    conn.execute(
        SAVE_CURSOR,
        {
            "account": account_id,
            "stream": stream,
            "last_fill_id": last_fill_id,
            "last_time": last_time,
            "opening": opening_position,
            "now": now,
        },
    )


def net_fills_until(
    conn: Conn, account_id: str, symbols: Sequence[str], until: dt.datetime
) -> dict[str, Decimal]:
    rows = conn.execute(NET_FILLS_UNTIL, (account_id, list(symbols), until)).fetchall()
    return {r["symbol"]: r["net"] for r in rows}


def load_fills(
    conn: Conn, account_id: str, symbols: Sequence[str]
) -> tuple[list[Fill], dict[str, Decimal]]:
    """The account's stored fills of ``symbols`` and, per symbol, the position before the
    earliest one when the exchange reported it."""
    fills: list[Fill] = []
    starts: dict[str, tuple[tuple[Any, ...], Decimal]] = {}
    for r in conn.execute(LOAD_FILLS, (account_id, list(symbols))).fetchall():
        fill = Fill(
            exchange=r["exchange"],
            fill_id=r["fill_id"],
            order_id=r["order_id"],
            client_order_id=r["client_order_id"],
            symbol=r["symbol"],
            side=r["side"],
            price=r["price"],
            quantity=r["quantity"],
            fee=r["fee"],
            fee_asset=r["fee_asset"] or "",
            realized_pnl=r["realized_pnl"],
            timestamp=r["executed_at"],
        )
        fills.append(fill)
        if r["start_position"] is not None:
            key = fill_order_key(fill)
            known = starts.get(fill.symbol)
            if known is None or key < known[0]:
                starts[fill.symbol] = (key, r["start_position"])
    return fills, {symbol: value for symbol, (_, value) in starts.items()}


def store_trades(
    conn: Conn, user_id: str, account_id: str, source: str, trips: Iterable[RoundTrip]
) -> int:
    """Insert round trips as journal trades; return how many were new."""
    inserted = 0
    batch: list[RoundTrip] = []
    for trip in trips:
        batch.append(trip)
        if len(batch) >= TRADE_BATCH:
            inserted += _insert_trades(conn, user_id, account_id, source, batch)
            batch = []
    if batch:
        inserted += _insert_trades(conn, user_id, account_id, source, batch)
    return inserted


def _insert_trades(
    conn: Conn, user_id: str, account_id: str, source: str, trips: Sequence[RoundTrip]
) -> int:
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "exchange",
            "symbol",
            "side",
            "entry",
            "exit",
            "qty",
            "pnl",
            "pct",
            "fees",
            "net",
            "opened",
            "closed",
            "orders",
            "clients",
            "fills",
            "closing",
            "hash",
        )
    }
    for trip in trips:
        figures = trip_figures(trip)
        columns["exchange"].append(trip.exchange)
        columns["symbol"].append(trip.symbol)
        columns["side"].append(trip.side)
        columns["entry"].append(trip.entry_price)
        columns["exit"].append(trip.exit_price)
        columns["qty"].append(trip.quantity)
        columns["pnl"].append(figures.realized_pnl)
        columns["pct"].append(figures.realized_pnl_pct)
        columns["fees"].append(figures.fees)
        columns["net"].append(figures.net_pnl)
        columns["opened"].append(trip.opened_at)
        columns["closed"].append(trip.closed_at)
        columns["orders"].append(SEPARATOR.join(trip.order_ids))
        columns["clients"].append(SEPARATOR.join(trip.client_order_ids))
        columns["fills"].append(len(trip.fill_parts))
        columns["closing"].append(trip.closing_fill_id)
        columns["hash"].append(trip.fills_hash)
    params = {"user": user_id, "account": account_id, "source": source, **columns}
    return conn.execute(INSERT_TRADES, params).rowcount
