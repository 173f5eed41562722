"""The Postgres listener actor: LISTEN/NOTIFY on one dedicated connection, no thread.

It owns one autocommit connection. Its pump task waits for the socket with
``trio.lowlevel.wait_readable``, calls ``pgconn.consume_input()`` and routes every
``pgconn.notifies()`` entry to the subscribers of that channel (bounded memory channels,
``send_nowait``). LISTEN/UNLISTEN commands go over the same connection through the pump, which
is the only task reading the socket.

NOTIFY is lossy while disconnected, so after every (re)connect the actor LISTENs to every
channel *first* and then sends :class:`Reconnected` to every subscriber, who catches up from the
database (events carry gapless per-stream sequences). A subscriber that cannot keep up has its
channel closed (it sees ``EndOfChannel``): it resubscribes and catches up the same way. Nothing
the listener drops is lost, because the events table is the source of truth.
"""

from __future__ import annotations

import random
from typing import Any

import attrs
import psycopg
import trio
from psycopg import pq, sql

from actors.runtime.actor import Actor, ActorContext, Ask
from actors.runtime.supervisor import Backoff


@attrs.frozen
class Notification:
    """One NOTIFY as received: channel name and payload text."""

    channel: str
    payload: str


@attrs.frozen
class Reconnected:
    """The listener (re)connected: notifications may have been missed; catch up now."""


Delivery = Notification | Reconnected


@attrs.frozen
class Subscribe(Ask[bool]):
    """Route NOTIFYs of ``channel`` to ``send``. Replies True once LISTEN is active."""

    channel: str
    send: trio.MemorySendChannel[Delivery]


@attrs.frozen
class Unsubscribe(Ask[bool]):
    channel: str
    send: trio.MemorySendChannel[Delivery]


@attrs.frozen
class ListenerStatus:
    connected: bool
    channels: tuple[str, ...]
    reconnects: int
    last_error: str | None


@attrs.frozen
class Status(Ask[ListenerStatus]):
    """Ask for the listener's health: replies a :class:`ListenerStatus`."""


ListenerMessage = Subscribe | Unsubscribe | Status


RECONNECT_BACKOFF = Backoff(initial=0.2, maximum=10.0)


class _Command:
    def __init__(self, query: bytes) -> None:
        self.query = query
        self.done = trio.Event()
        self.error: str | None = None


class PgListener(Actor[ListenerMessage]):
    """Owns the LISTEN connection; routes notifications to subscribers."""

    kind = "pg_listener"

    def __init__(
        self,
        conninfo: str,
        *,
        backoff: Backoff = RECONNECT_BACKOFF,
        rng: random.Random | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._subscribers: dict[str, set[trio.MemorySendChannel[Delivery]]] = {}
        self._pgconn: pq.abc.PGconn | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._command: _Command | None = None
        self._command_lock = trio.Lock()
        self._connected = trio.Event()
        self._reconnects = -1
        self._last_error: str | None = None

    async def started(self, ctx: ActorContext[ListenerMessage]) -> None:
        ctx.nursery.start_soon(self._maintain)

    async def handle(self, message: ListenerMessage) -> bool | ListenerStatus:
        match message:
            case Subscribe(channel, send):
                new = channel not in self._subscribers
                self._subscribers.setdefault(channel, set()).add(send)
                if new:  # (when disconnected, LISTEN is replayed on connect)
                    await self._run_command(b"LISTEN " + _ident(channel))
                return message.reply(True)
            case Unsubscribe(channel, send):
                subs = self._subscribers.get(channel)
                if subs is not None:
                    subs.discard(send)
                    if not subs:
                        del self._subscribers[channel]
                        await self._run_command(b"UNLISTEN " + _ident(channel))
                return message.reply(True)
            case Status():
                status = ListenerStatus(
                    connected=self._connected.is_set(),
                    channels=tuple(sorted(self._subscribers)),
                    reconnects=max(self._reconnects, 0),
                    last_error=self._last_error,
                )
                return message.reply(status)
        self.unhandled(message)

    async def stopping(self) -> None:
        self._close()
        # Subscribers of this incarnation would otherwise wait forever: end their channels so
        # they subscribe again (to the next incarnation) and catch up from the database.
        for subs in self._subscribers.values():
            for send in subs:
                send.close()
        self._subscribers.clear()

    # -- connection life ---------------------------------------------------------------

    async def _maintain(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect()
                attempt = 0
                await self._pump()
            except* (psycopg.Error, OSError) as group:
                first = group.exceptions[0]
                self._last_error = f"{type(first).__name__}: {str(first).strip()}"
            finally:
                self._connected = trio.Event() if self._connected.is_set() else self._connected
                self._close()
            attempt += 1
            await trio.sleep(self._backoff.delay(attempt, self._rng))

    async def _connect(self) -> None:
        conn = await trio.to_thread.run_sync(
            lambda: psycopg.Connection.connect(self._conninfo, autocommit=True)
        )
        self._conn = conn
        self._pgconn = conn.pgconn
        self._pgconn.nonblocking = 1
        self._reconnects += 1

    async def _pump(self) -> None:
        pgconn = self._pgconn
        assert pgconn is not None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._listen_all_then_announce, nursery.cancel_scope)
            while True:
                await trio.lowlevel.wait_readable(pgconn.socket)
                pgconn.consume_input()
                if pgconn.status != pq.ConnStatus.OK:
                    raise psycopg.OperationalError("the LISTEN connection was closed")
                self._finish_command(pgconn)
                self._route(pgconn)

    async def _listen_all_then_announce(self, pump_scope: trio.CancelScope) -> None:
        """LISTEN to every channel first, then tell subscribers to catch up."""
        for channel in list(self._subscribers):
            await self._run_command(b"LISTEN " + _ident(channel))
        self._connected.set()
        for subs in list(self._subscribers.values()):
            for send in list(subs):
                self._deliver(send, Reconnected())

    async def _run_command(self, query: bytes) -> None:
        async with self._command_lock:
            pgconn = self._pgconn
            if pgconn is None:
                return  # not connected: the command will be replayed on connect
            command = _Command(query)
            self._command = command
            try:
                pgconn.send_query(query)
                while pgconn.flush():
                    await trio.lowlevel.wait_writable(pgconn.socket)
                await command.done.wait()
            finally:
                self._command = None
            if command.error:
                raise psycopg.OperationalError(command.error)

    def _finish_command(self, pgconn: pq.abc.PGconn) -> None:
        command = self._command
        if command is None or command.done.is_set():
            return
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                command.done.set()
                return
            if result.status != pq.ExecStatus.COMMAND_OK:
                command.error = (result.error_message or b"").decode(errors="replace")

    def _route(self, pgconn: pq.abc.PGconn) -> None:
        while (notify := pgconn.notifies()) is not None:
            channel = notify.relname.decode()
            payload = notify.extra.decode()
            for send in list(self._subscribers.get(channel, ())):
                self._deliver(send, Notification(channel, payload))

    def _deliver(self, send: trio.MemorySendChannel[Delivery], item: Delivery) -> None:
        try:
            send.send_nowait(item)
        except trio.WouldBlock:
            # A subscriber that cannot keep up is cut off; it catches up from the database.
            self._drop(send)
            send.close()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._drop(send)

    def _drop(self, send: trio.MemorySendChannel[Delivery]) -> None:
        for subs in self._subscribers.values():
            subs.discard(send)

    def _close(self) -> None:
        conn, self._conn, self._pgconn = self._conn, None, None
        if self._command is not None:
            self._command.error = "connection lost"
            self._command.done.set()
        if conn is not None:
            conn.close()


def _ident(channel: str) -> bytes:
    return sql.Identifier(channel).as_bytes(None)
