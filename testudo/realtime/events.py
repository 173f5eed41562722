"""The durable event log: publishing, reading pages, stream heads, frames (no trio here).

Producers call :func:`publish` (``SELECT publish_event(...)``) inside the transaction that makes
the change the event describes. Every function taking ``conn`` runs inside one
:meth:`testudo.db.Database.run` unit of work.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import attrs
from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from testudo.db.database import Conn

NOTIFY_CHANNEL = "testudo_events"


@attrs.frozen
class Event:
    """One stored event."""

    stream: str
    seq: int
    payload: Any


@attrs.frozen
class Head:
    """Where a stream stands: its last sequence and the highest sequence pruned."""

    last_seq: int = 0
    pruned_through: int = 0


@attrs.frozen
class Hint:
    """A NOTIFY from ``publish_event``: the event itself, or only its position when too big."""

    stream: str
    seq: int
    payload: Any = None
    complete: bool = True


class _Framer(threading.local):
    """wsproto's post-handshake server ``Connection``, one per thread.

    A ``Connection`` is wsproto's documented way to serialise frames without a handshake.
    Sending only complete messages leaves it as it started (OPEN, no fragment pending), so one
    is reused for every frame; per thread, because a send briefly marks a message as open.
    """

    def __init__(self) -> None:
        self.connection = Connection(ConnectionType.SERVER)


_FRAMER = _Framer()


def ws_text(text: str) -> bytes:
    """``text`` as one WebSocket text frame from a server (unmasked, no extension).

    Built once per event and written as is to every subscriber's socket, so wsproto frames each
    event once, not once per connection.
    """
    return _FRAMER.connection.send(TextMessage(data=text))


def frame(stream: str, seq: int, payload: Any) -> str:
    """The text of a private-stream event: ``{"stream", "data": {..., "seq"}}``.

    ``seq`` is added to the payload object (a payload that is not an object is sent as
    ``{"value": payload, "seq": n}``).
    """
    data = {**payload, "seq": seq} if isinstance(payload, dict) else {"value": payload, "seq": seq}
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":"))


def public_frame(stream: str, data: dict[str, Any]) -> str:
    """The text of a public (market-data) message."""
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":"))


def parse_notification(payload: str) -> Hint | None:
    """Decode a ``testudo_events`` NOTIFY payload; None when it is not one of ours."""
    try:
        data = json.loads(payload)
        stream, seq = data["stream"], data["seq"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(stream, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    if data.get("hint"):
        return Hint(stream, seq, complete=False)
    return Hint(stream, seq, data.get("data"))


# -- writing ----------------------------------------------------------------------------------


def publish(conn: Conn, stream: str, payload: Any) -> int:
    """Append an event to ``stream`` in the caller's transaction; returns its sequence."""
    row = conn.execute(
        "SELECT publish_event(%s, %s::jsonb) AS seq", (stream, json.dumps(payload))
    ).fetchone()
    assert row is not None
    return int(row["seq"])


def prune(conn: Conn, before: dt.datetime, batch: int) -> int:
    """Delete up to ``batch`` events created before ``before``; returns how many."""
    row = conn.execute("SELECT prune_events(%s, %s) AS n", (before, batch)).fetchone()
    return int(row["n"]) if row is not None else 0


# -- reading ----------------------------------------------------------------------------------


def heads(conn: Conn, streams: list[str]) -> dict[str, Head]:
    """The head of every stream in ``streams`` (streams never written have ``Head()``)."""
    rows = conn.execute(
        "SELECT stream, last_seq, pruned_through FROM event_streams WHERE stream = ANY(%s)",
        (streams,),
    ).fetchall()
    found = {r["stream"]: Head(r["last_seq"], r["pruned_through"]) for r in rows}
    return {stream: found.get(stream, Head()) for stream in streams}


def page(conn: Conn, stream: str, after: int, through: int | None, limit: int) -> list[Event]:
    """Events of ``stream`` with ``after < seq <= through`` (no upper bound: None), in order."""
    rows = conn.execute(
        "SELECT seq, payload FROM events WHERE stream = %s AND seq > %s"
        " AND (%s::bigint IS NULL OR seq <= %s::bigint) ORDER BY seq LIMIT %s",
        (stream, after, through, through, limit),
    ).fetchall()
    return [Event(stream, r["seq"], r["payload"]) for r in rows]


@attrs.frozen
class CatchUp:
    """One catch-up read: each stream's head and its next events after the given cursor."""

    heads: dict[str, Head]
    events: dict[str, list[Event]]


def catch_up(conn: Conn, cursors: dict[str, int], limit: int) -> CatchUp:
    """Heads and up to ``limit`` events after each cursor, for many streams in one query."""
    streams = list(cursors)
    after = [cursors[s] for s in streams]
    rows = conn.execute(
        """
        SELECT c.stream, s.last_seq, s.pruned_through, e.seq, e.payload
        FROM unnest(%s::text[], %s::bigint[]) AS c(stream, after)
        LEFT JOIN event_streams s ON s.stream = c.stream
        LEFT JOIN LATERAL (
            SELECT seq, payload FROM events
            WHERE events.stream = c.stream AND events.seq > c.after
            ORDER BY seq LIMIT %s
        ) e ON true
        ORDER BY c.stream, e.seq
        """,
        (streams, after, limit),
    ).fetchall()
    found_heads: dict[str, Head] = {}
    events: dict[str, list[Event]] = {}
    for r in rows:
        found_heads[r["stream"]] = Head(r["last_seq"] or 0, r["pruned_through"] or 0)
        if r["seq"] is not None:
            events.setdefault(r["stream"], []).append(Event(r["stream"], r["seq"], r["payload"]))
    return CatchUp({s: found_heads.get(s, Head()) for s in streams}, events)
