"""Reading and annotating journal trades: the list (offset pages and keyset cursors), one trade
with its tags and entries, notes, and tag links. Every function takes a connection inside one
transaction and is scoped to one user: another user's trade is simply not found.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from psycopg import sql

from testudo.db.database import Conn

from .filters import TradeFilter, rollup_compatible, rollup_where, where_clause

SORTS = {
    "closed_at": "timestamptz",
    "net_pnl": "numeric",
    "r_multiple": "numeric",
    "duration_secs": "integer",
}
NULLABLE = frozenset({"r_multiple"})
MAX_LIMIT = 100

TRADE_COLUMNS = sql.SQL(
    "t.id, t.user_id, t.exchange_account_id, t.exchange, t.symbol, t.side, t.entry_price,"
    " t.exit_price, t.quantity, t.leverage, t.realized_pnl, t.realized_pnl_pct, t.fees,"
    " t.funding, t.net_pnl, t.stop_price, t.target_price, t.risk_amount, t.r_multiple, t.opened_at,"
    " t.closed_at, t.duration_secs, t.trade_group_id, t.notes, t.source, t.exchange_fill_id,"
    " t.setup_tag, t.close_reason, t.fill_count, t.created_at, t.updated_at"
)
LIST_TRADES = sql.SQL(
    "SELECT {columns}, {key} AS sort_key FROM journal_trades t WHERE {where}"
    " ORDER BY {key} {direction}, t.id {direction} LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_TRADES = sql.SQL("SELECT count(*) AS n FROM journal_trades t WHERE {where}")
# The same count from the per-day rollups when the filter allows (a million trades: ms, not s).
COUNT_ROLLUPS = sql.SQL(
    "SELECT coalesce(sum(r.trade_count), 0) AS n FROM journal_day_rollups r WHERE {where}"
)
TAGS_OF_TRADES = """
SELECT tt.trade_id, g.id, g.user_id, g.name, g.color
FROM journal_trade_tags tt JOIN journal_tags g ON g.id = tt.tag_id
WHERE tt.trade_id = ANY(%s) ORDER BY lower(g.name)
"""
GET_TRADE = sql.SQL("SELECT {columns} FROM journal_trades t WHERE t.id = %s AND t.user_id = %s")
ENTRIES_OF_TRADE = """
SELECT id, user_id, trade_id, entry_date, title, body, entry_type, created_at, updated_at
FROM journal_entries WHERE trade_id = %s AND user_id = %s ORDER BY created_at DESC, id DESC
"""
UPDATE_NOTES = (
    "UPDATE journal_trades SET notes = %s, updated_at = now() WHERE id = %s AND user_id = %s"
)
OWNED_TAGS = "SELECT id FROM journal_tags WHERE user_id = %s AND id = ANY(%s)"
LINK_TAGS = """
INSERT INTO journal_trade_tags (trade_id, tag_id) SELECT %s, unnest(%s::uuid[])
ON CONFLICT DO NOTHING
"""
UNLINK_TAG = """
DELETE FROM journal_trade_tags tt USING journal_trades t
WHERE tt.trade_id = t.id AND t.id = %s AND t.user_id = %s AND tt.tag_id = %s
"""
TRADE_EXISTS = "SELECT 1 FROM journal_trades WHERE id = %s AND user_id = %s"


class CursorError(ValueError):
    """The cursor is malformed or belongs to another sort order."""


@attrs.frozen
class Sort:
    column: str = "closed_at"
    descending: bool = True

    @classmethod
    def parse(cls, column: str | None, order: str | None) -> Sort:
        name = (column or "closed_at").strip().lower()
        if name not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")
        return cls(name, (order or "desc").strip().lower() != "asc")


@attrs.frozen
class Cursor:
    """Where the next keyset page starts: the last row's sort value and id."""

    sort: Sort
    value: str
    last_id: str

    def encode(self) -> str:
        raw = json.dumps(
            {"s": self.sort.column, "d": self.sort.descending, "v": self.value, "i": self.last_id},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            cursor = cls(
                Sort(str(data["s"]), bool(data["d"])), data["v"], str(uuid.UUID(data["i"]))
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise CursorError("malformed cursor") from exc
        if cursor.sort != sort:
            raise CursorError("the cursor belongs to another sort order")
        if not isinstance(cursor.value, str):
            raise CursorError("malformed cursor")
        _check_value(sort.column, cursor.value)
        return cursor


def _check_value(column: str, value: str) -> None:
    try:
        if SORTS[column] == "timestamptz":
            dt.datetime.fromisoformat(value)
        elif SORTS[column] == "integer":
            int(value)
        else:
            Decimal(value)
    except (ValueError, InvalidOperation) as exc:
        raise CursorError("malformed cursor") from exc


def _cursor_value(row: dict[str, Any]) -> str:
    value = row["sort_key"]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _sort_key(sort: Sort) -> sql.Composable:
    """The expression trades are ordered by. ``r_multiple`` has nulls: they sort last both
    ways through ``±Infinity`` (indexed as such, migration 0009), so the key is never null."""
    column = sql.SQL("t.{c}").format(c=sql.Identifier(sort.column))
    if sort.column not in NULLABLE:
        return column
    last = "-Infinity" if sort.descending else "Infinity"
    return sql.SQL("coalesce({c}, {last}::numeric)").format(c=column, last=sql.Literal(last))


def _after(cursor: Cursor) -> sql.Composable:
    """Rows strictly after ``cursor``: a row comparison the (user, key, id) indexes serve."""
    op = sql.SQL("<" if cursor.sort.descending else ">")
    cast = sql.SQL(SORTS[cursor.sort.column])
    return sql.SQL("({key}, t.id) {op} (%(c_value)s::{cast}, %(c_id)s::uuid)").format(
        key=_sort_key(cursor.sort), op=op, cast=cast
    )


@attrs.frozen
class TradePage:
    rows: list[dict[str, Any]]
    tags: dict[str, list[dict[str, Any]]]
    total: int
    next_cursor: str | None


def tags_of(conn: Conn, trade_ids: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {str(i): [] for i in trade_ids}
    if trade_ids:
        for row in conn.execute(TAGS_OF_TRADES, (list(trade_ids),)).fetchall():
            out[str(row["trade_id"])].append(row)
    return out


def list_trades(
    conn: Conn,
    user_id: str,
    flt: TradeFilter,
    sort: Sort,
    *,
    limit: int,
    page: int = 1,
    cursor: Cursor | None = None,
    with_total: bool = True,
) -> TradePage:
    """One page of trades: by ``cursor`` when given (keyset), else by ``page`` (offset)."""
    where, params = where_clause(user_id, flt)
    total = 0
    if with_total:
        if rollup_compatible(flt):
            rwhere, rparams = rollup_where(user_id, flt)
            total_row = conn.execute(COUNT_ROLLUPS.format(where=rwhere), rparams).fetchone()
        else:
            total_row = conn.execute(COUNT_TRADES.format(where=where), params).fetchone()
        total = int(total_row["n"]) if total_row else 0
    condition = where
    if cursor is not None:
        condition = sql.SQL("{w} AND {after}").format(w=where, after=_after(cursor))
        params = {**params, "c_value": cursor.value, "c_id": cursor.last_id}
    params = {
        **params,
        "limit": limit + 1,
        "offset": 0 if cursor is not None else (page - 1) * limit,
    }
    query = LIST_TRADES.format(
        columns=TRADE_COLUMNS,
        key=_sort_key(sort),
        where=condition,
        direction=sql.SQL("DESC" if sort.descending else "ASC"),
    )
    rows = conn.execute(query, params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = Cursor(sort, _cursor_value(last), str(last["id"])).encode()
    return TradePage(rows, tags_of(conn, [r["id"] for r in rows]), total, next_cursor)


def get_trade(conn: Conn, user_id: str, trade_id: str) -> dict[str, Any] | None:
    """The trade with ``tags`` and ``entries`` (newest first), or None."""
    row = conn.execute(GET_TRADE.format(columns=TRADE_COLUMNS), (trade_id, user_id)).fetchone()
    if row is None:
        return None
    row["tags"] = tags_of(conn, [row["id"]])[str(row["id"])]
    row["entries"] = conn.execute(ENTRIES_OF_TRADE, (trade_id, user_id)).fetchall()
    return row


def update_notes(conn: Conn, user_id: str, trade_id: str, notes: str | None) -> bool:
    return conn.execute(UPDATE_NOTES, (notes, trade_id, user_id)).rowcount == 1


@attrs.frozen
class MissingTags:
    tag_ids: tuple[str, ...]


def add_tags(
    conn: Conn, user_id: str, trade_id: str, tag_ids: Sequence[str]
) -> list[dict[str, Any]] | MissingTags | None:
    """Link tags to a trade (idempotent); the trade's full tag list, or what was not found."""
    if conn.execute(TRADE_EXISTS, (trade_id, user_id)).fetchone() is None:
        return None
    wanted = list(dict.fromkeys(tag_ids))
    found = {str(r["id"]) for r in conn.execute(OWNED_TAGS, (user_id, wanted)).fetchall()}
    missing = tuple(t for t in wanted if t not in found)
    if missing:
        return MissingTags(missing)
    conn.execute(LINK_TAGS, (trade_id, wanted))
    return tags_of(conn, [trade_id])[trade_id]


def remove_tag(conn: Conn, user_id: str, trade_id: str, tag_id: str) -> bool:
    return conn.execute(UNLINK_TAG, (trade_id, user_id, tag_id)).rowcount == 1


def trade_exists(conn: Conn, user_id: str, trade_id: str) -> bool:
    return conn.execute(TRADE_EXISTS, (trade_id, user_id)).fetchone() is not None
