"""The stream hub: NOTIFYs from the listener to this node's subscribers, gaps filled from the table.

It subscribes to the listener's ``testudo_events`` channel and hands every event to the
:class:`~testudo.realtime.router.StreamRouter`, which delivers only the next sequence of each
stream. Anything else marks the stream dirty and the hub's catch-up task reads the missing
events from the ``events`` table:

* a hint-only NOTIFY (the event was too big for NOTIFY);
* a gap (NOTIFYs missed);
* ``Reconnected`` from the listener, or being cut off by it (all streams);
* a newly tracked stream (its cursor was read from the table a moment before tracking);
* the safety poll, which compares every stream's head in the table with its cursor every few
  seconds, so even a NOTIFY lost in a way nobody noticed is delivered late rather than never.

The routing table lives outside the actor, so a restarted hub continues from the same cursors
(it catches up everything on start). Database errors are retried with backoff; a stream whose
missing events were pruned is failed (its subscribers are closed with 1013 and resume, which
tells them to resync).
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Never

import psycopg
import trio
from psycopg_pool import PoolTimeout

from actors.realtime.pg_listener import (
    Delivery as ListenerDelivery,
    ListenerMessage,
    Notification,
    Reconnected,
    Subscribe,
)
from actors.runtime.actor import Actor, ActorContext, ActorRef
from actors.runtime.supervisor import Backoff
from testudo.db import Database
from testudo.realtime import events
from testudo.realtime.router import Delivery, StreamRouter
from testudo.realtime.settings import RealtimeSettings

log = logging.getLogger("testudo.realtime")

RETRY = Backoff(initial=0.2, maximum=5.0)
DB_ERRORS = (psycopg.Error, PoolTimeout, OSError)
LISTENER_BUFFER = 8192


class StreamHub(Actor[Never]):
    """Feeds the router from the listener and the events table (one per process)."""

    kind = "stream_hub"

    def __init__(
        self,
        listener: ActorRef[ListenerMessage],
        db: Database,
        router: StreamRouter,
        settings: RealtimeSettings,
        on_reconnected: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._listener = listener
        self._db = db
        self._router = router
        self._settings = settings
        self._on_reconnected = on_reconnected
        self._wake = trio.Event()
        self._rng = random.Random()

    async def started(self, ctx: ActorContext[Never]) -> None:
        self._router.on_dirty(self._wake.set)
        send, receive = trio.open_memory_channel[ListenerDelivery](LISTENER_BUFFER)
        await self._listener.ask(Subscribe(events.NOTIFY_CHANNEL, send))
        ctx.nursery.start_soon(self._pump, receive, ctx.nursery)
        ctx.nursery.start_soon(self._catch_up_loop)
        ctx.nursery.start_soon(self._safety_poll)
        self._router.mark_all_dirty()  # whatever happened while no hub was running

    async def stopping(self) -> None:
        self._router.on_dirty(lambda: None)

    # -- live path --------------------------------------------------------------------------

    async def _pump(
        self, receive: trio.MemoryReceiveChannel[ListenerDelivery], nursery: trio.Nursery
    ) -> None:
        router = self._router
        while True:
            with receive:
                await self._route(receive, nursery)
            # The listener cut us off (we fell behind) or stopped: subscribe again, catch up.
            log.warning("stream hub resubscribing", extra={"json_fields": {"event": "cut_off"}})
            send, receive = trio.open_memory_channel[ListenerDelivery](LISTENER_BUFFER)
            await self._listener.ask(Subscribe(events.NOTIFY_CHANNEL, send))
            router.mark_all_dirty()

    async def _route(
        self, receive: trio.MemoryReceiveChannel[ListenerDelivery], nursery: trio.Nursery
    ) -> None:
        router = self._router
        async for item in receive:
            if isinstance(item, Notification):
                hint = events.parse_notification(item.payload)
                if hint is None:
                    continue
                if hint.complete:
                    router.deliver(hint.stream, hint.seq, hint.payload)
                elif router.cursor(hint.stream) is not None:
                    router.mark_dirty(hint.stream)
            elif isinstance(item, Reconnected):
                router.mark_all_dirty()
                if self._on_reconnected is not None:
                    nursery.start_soon(self._on_reconnected)

    # -- catch-up from the table ------------------------------------------------------------

    async def _catch_up_loop(self) -> None:
        attempt = 0
        while True:
            if not self._router.dirty:
                await self._wake.wait()
                self._wake = trio.Event()
                self._router.on_dirty(self._wake.set)
                continue
            batch = self._router.dirty
            self._router.dirty = set()
            try:
                await self._catch_up(batch)
                attempt = 0
            except DB_ERRORS as exc:
                self._router.dirty.update(s for s in batch if self._router.cursor(s) is not None)
                attempt += 1
                log.warning(
                    "catch-up failed; retrying",
                    extra={"json_fields": {"event": "catch_up_failed", "error": _brief(exc)}},
                )
                await trio.sleep(RETRY.delay(attempt, self._rng))

    async def _catch_up(self, streams: set[str]) -> None:
        cursors = {s: c for s in streams if (c := self._router.cursor(s)) is not None}
        if not cursors:
            return
        limit = self._settings.page_size
        result = await self._db.run(lambda conn: events.catch_up(conn, cursors, limit))
        router = self._router
        for stream, head in result.heads.items():
            cursor = router.cursor(stream)
            if cursor is None:
                continue  # unsubscribed meanwhile
            if head.pruned_through > cursor:
                log.warning(
                    "events pruned before delivery; subscribers must resync",
                    extra={"json_fields": {"event": "stream_failed", "stream": stream}},
                )
                router.fail(stream, f"resync: events of {stream} after {cursor} were pruned")
                continue
            rows = result.events.get(stream, [])
            for event in rows:
                if router.deliver(stream, event.seq, event.payload) is Delivery.GAP:
                    break
            if len(rows) >= limit:
                router.mark_dirty(stream)  # more pages to read

    async def _safety_poll(self) -> None:
        while True:
            await trio.sleep(self._settings.safety_poll_interval)
            streams = list(self._router.cursors())
            if not streams:
                continue
            try:
                found = await self._db.run(functools.partial(events.heads, streams=streams))
            except DB_ERRORS as exc:
                log.warning(
                    "safety poll failed",
                    extra={"json_fields": {"event": "safety_poll_failed", "error": _brief(exc)}},
                )
                continue
            for stream, head in found.items():
                cursor = self._router.cursor(stream)
                if cursor is not None and head.last_seq > cursor:
                    self._router.mark_dirty(stream)


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
