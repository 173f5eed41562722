"""Journal entries: free-form markdown notes of five types, optionally linked to a trade."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from testudo.db.database import Conn

ENTRY_TYPES = ("note", "pre-trade", "post-trade", "daily-review", "weekly-review")
COLUMNS = "id, user_id, trade_id, entry_date, title, body, entry_type, created_at, updated_at"

LIST_ENTRIES = f"""
SELECT {COLUMNS} FROM journal_entries
WHERE user_id = %(user)s
  AND (%(trade)s::uuid IS NULL OR trade_id = %(trade)s::uuid)
  AND (%(type)s::text IS NULL OR entry_type = %(type)s::text)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_ENTRIES = """
SELECT count(*) AS n FROM journal_entries
WHERE user_id = %(user)s
  AND (%(trade)s::uuid IS NULL OR trade_id = %(trade)s::uuid)
  AND (%(type)s::text IS NULL OR entry_type = %(type)s::text)
"""
GET_ENTRY = f"SELECT {COLUMNS} FROM journal_entries WHERE id = %s AND user_id = %s"
OWNS_TRADE = "SELECT 1 FROM journal_trades WHERE id = %s AND user_id = %s"
INSERT_ENTRY = f"""
INSERT INTO journal_entries (user_id, trade_id, entry_date, title, body, entry_type)
VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}
"""
UPDATE_ENTRY = f"""
UPDATE journal_entries SET title = %(title)s, body = %(body)s,
       entry_type = COALESCE(%(type)s, entry_type),
       trade_id = CASE WHEN %(set_trade)s THEN %(trade)s::uuid ELSE trade_id END,
       entry_date = CASE WHEN %(set_date)s THEN %(date)s::date ELSE entry_date END,
       updated_at = now()
WHERE id = %(id)s AND user_id = %(user)s RETURNING {COLUMNS}
"""
DELETE_ENTRY = "DELETE FROM journal_entries WHERE id = %s AND user_id = %s"


@attrs.frozen
class TradeNotFound:
    trade_id: str


@attrs.frozen
class EntryDraft:
    title: str
    body: str
    entry_type: str | None = None
    trade_id: str | None = None
    entry_date: dt.date | None = None
    set_trade: bool = False
    set_date: bool = False


def list_entries(
    conn: Conn,
    user_id: str,
    *,
    limit: int,
    page: int,
    trade_id: str | None = None,
    entry_type: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    params = {
        "user": user_id,
        "trade": trade_id,
        "type": entry_type,
        "limit": limit,
        "offset": (page - 1) * limit,
    }
    rows = conn.execute(LIST_ENTRIES, params).fetchall()
    total = conn.execute(COUNT_ENTRIES, params).fetchone()
    return rows, int(total["n"]) if total else 0


def get_entry(conn: Conn, user_id: str, entry_id: str) -> dict[str, Any] | None:
    return conn.execute(GET_ENTRY, (entry_id, user_id)).fetchone()


def _owns_trade(conn: Conn, user_id: str, trade_id: str | None) -> bool:
    return trade_id is None or conn.execute(OWNS_TRADE, (trade_id, user_id)).fetchone() is not None


def create_entry(conn: Conn, user_id: str, draft: EntryDraft) -> dict[str, Any] | TradeNotFound:
    if not _owns_trade(conn, user_id, draft.trade_id):
        return TradeNotFound(draft.trade_id or "")
    row = conn.execute(
        INSERT_ENTRY,
        (
            user_id,
            draft.trade_id,
            draft.entry_date,
            draft.title,
            draft.body,
            draft.entry_type or "note",
        ),
    ).fetchone()
    assert row is not None
    return row


def update_entry(
    conn: Conn, user_id: str, entry_id: str, draft: EntryDraft
) -> dict[str, Any] | TradeNotFound | None:
    """Replace title and body; type, trade link and date change only when given."""
    if draft.set_trade and not _owns_trade(conn, user_id, draft.trade_id):
        return TradeNotFound(draft.trade_id or "")
    params = {
        "title": draft.title,
        "body": draft.body,
        "type": draft.entry_type,
        "set_trade": draft.set_trade,
        "trade": draft.trade_id,
        "set_date": draft.set_date,
        "date": draft.entry_date,
        "id": entry_id,
        "user": user_id,
    }
    return conn.execute(UPDATE_ENTRY, params).fetchone()


def delete_entry(conn: Conn, user_id: str, entry_id: str) -> bool:
    return conn.execute(DELETE_ENTRY, (entry_id, user_id)).rowcount == 1
