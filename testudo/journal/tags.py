"""User tags: unique names per user (case-insensitive), an optional colour, linked to trades."""

from __future__ import annotations

from typing import Any

import attrs
from psycopg import errors

from testudo.db.database import Conn

LIST_TAGS = (
    "SELECT id, user_id, name, color FROM journal_tags WHERE user_id = %s ORDER BY lower(name)"
)
INSERT_TAG = """
INSERT INTO journal_tags (user_id, name, color) VALUES (%s, %s, %s)
RETURNING id, user_id, name, color
"""
UPDATE_TAG = """
UPDATE journal_tags SET name = COALESCE(%(name)s, name),
       color = CASE WHEN %(set_color)s THEN %(color)s ELSE color END
WHERE id = %(id)s AND user_id = %(user)s
RETURNING id, user_id, name, color
"""
DELETE_TAG = "DELETE FROM journal_tags WHERE id = %s AND user_id = %s"


@attrs.frozen
class DuplicateTag:
    name: str


def list_tags(conn: Conn, user_id: str) -> list[dict[str, Any]]:
    return conn.execute(LIST_TAGS, (user_id,)).fetchall()


def create_tag(
    conn: Conn, user_id: str, name: str, color: str | None
) -> dict[str, Any] | DuplicateTag:
    try:
        with conn.transaction():
            row = conn.execute(INSERT_TAG, (user_id, name, color)).fetchone()
    except errors.UniqueViolation:
        return DuplicateTag(name)
    assert row is not None
    return row


def update_tag(
    conn: Conn, user_id: str, tag_id: str, *, name: str | None, color: str | None, set_color: bool
) -> dict[str, Any] | DuplicateTag | None:
    params = {"name": name, "color": color, "set_color": set_color, "id": tag_id, "user": user_id}
    try:
        with conn.transaction():
            row = conn.execute(UPDATE_TAG, params).fetchone()
    except errors.UniqueViolation:
        return DuplicateTag(name or "")
    return row


def delete_tag(conn: Conn, user_id: str, tag_id: str) -> bool:
    """Delete a tag; its links to trades go with it (foreign key cascade)."""
    return conn.execute(DELETE_TAG, (tag_id, user_id)).rowcount == 1
