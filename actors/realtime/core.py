"""What a WebSocket connection asks of the realtime feed: attach, replay, resume checks.

:class:`Realtime` is the node's entry point: it owns the :class:`StreamRouter` (shared with
the stream hub actor), reads cursors and replays from the events table, and asks the
market-data manager for feeds. Built by :func:`actors.realtime.wiring.start_realtime`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Never

import attrs

from actors import ActorError, ActorRef
from actors.realtime.event_pruner import PruneNow
from actors.realtime.market_data import FeedKey, FeedMessage, Want
from testudo.db import Database
from testudo.realtime import channels, events, market
from testudo.realtime.outbox import Outbox
from testudo.realtime.router import StreamRouter, StreamSink
from testudo.realtime.settings import RealtimeSettings

log = logging.getLogger("testudo.realtime")

ReconnectHook = Callable[[], Awaitable[None]]


class ResyncRequired(Exception):
    """Events the client asked for are gone (pruned) or never existed: reload and resubscribe."""


@attrs.define(eq=False)
class Realtime:
    db: Database
    settings: RealtimeSettings
    router: StreamRouter = attrs.Factory(StreamRouter)
    hub: ActorRef[Never] | None = None
    pruner: ActorRef[PruneNow] | None = None
    feeds: ActorRef[FeedMessage] | None = None
    _reconnect_hooks: list[ReconnectHook] = attrs.Factory(list)

    # -- private streams ---------------------------------------------------------------------

    async def resume_problems(self, since: dict[str, int]) -> dict[str, str]:
        """For each ``stream -> seq`` a client resumes from, why it must resync (if it must)."""
        if not since:
            return {}
        found = await self.db.run(lambda conn: events.heads(conn, list(since)))
        problems = {}
        for stream, after in since.items():
            head = found[stream]
            if after > head.last_seq:
                problems[stream] = (
                    f"Resync required: {stream} has no seq {after} (its last is {head.last_seq})"
                )
            elif after < head.pruned_through:
                problems[stream] = (
                    f"Resync required: events of {stream} after {after} are past the "
                    f"{self.settings.retention_days:g}-day retention"
                )
        return problems

    async def attach(
        self, stream: str, outbox: Outbox, since: int | None
    ) -> tuple[StreamSink, int]:
        """Subscribe ``outbox`` to ``stream``; returns the sink (buffering) and the cursor.

        The sink receives every event after the cursor. With ``since`` below the cursor the
        caller replays ``(since, cursor]`` with :meth:`replay`; otherwise it calls
        ``sink.go_live()`` once its acknowledgement is queued.
        """
        cursor_if_new = self.router.cursor(stream)
        if cursor_if_new is None:
            found = await self.db.run(lambda conn: events.heads(conn, [stream]))
            cursor_if_new = found[stream].last_seq
        sink = StreamSink(stream, outbox, 0, self.settings.replay_buffer)
        cursor = self.router.attach(sink, cursor_if_new)
        sink.floor = cursor if since is None else since
        return sink, cursor

    def detach(self, sink: StreamSink) -> None:
        self.router.detach(sink)

    async def replay(self, sink: StreamSink, since: int, cursor: int) -> None:
        """Send ``sink`` the events ``(since, cursor]`` from the table, paced, then go live."""
        outbox = sink.outbox
        limit = max(1, min(self.settings.page_size, outbox.capacity // 2))
        after = since
        while after < cursor:
            if not await outbox.wait_room(limit):
                return
            rows = await self.db.run(
                functools.partial(
                    events.page, stream=sink.stream, after=after, through=cursor, limit=limit
                )
            )
            if not rows or rows[0].seq != after + 1:
                raise ResyncRequired(
                    f"Resync required: events of {sink.stream} after {after} were pruned"
                )
            for event in rows:
                text = events.frame(sink.stream, event.seq, event.payload)
                sink.replayed(event.seq, events.ws_text(text))
            after = rows[-1].seq
        sink.go_live()

    # -- public streams ----------------------------------------------------------------------

    def attach_public(self, channel: channels.Channel, outbox: Outbox) -> None:
        self.router.attach_public(channel.name, outbox, market.CONFLATION_KEEP[channel.kind])

    def detach_public(self, stream: str, outbox: Outbox) -> None:
        self.router.detach_public(stream, outbox)

    async def want_feed(self, channel: channels.Channel) -> None:
        """Start the market-data feed of a public channel now (the manager's sweep retries)."""
        if not self.settings.market_data or self.feeds is None:
            return
        exchange, symbol = channels.feed_key(channel, self.settings.market_data_exchange)
        with contextlib.suppress(ActorError):
            await self.feeds.ask(Want(exchange, symbol), timeout=10)

    def wanted_feeds(self) -> set[FeedKey]:
        """The feeds this node's public subscriptions need."""
        if not self.settings.market_data:
            return set()
        keys = set()
        for name in self.router.public_streams():
            channel = channels.parse_channel(name)
            if channel is not None and channel.symbol is not None:
                keys.add(channels.feed_key(channel, self.settings.market_data_exchange))
        return keys

    # -- listener reconnects -----------------------------------------------------------------

    def on_reconnected(self, hook: ReconnectHook) -> None:
        """Run ``hook()`` after every listener reconnect (NOTIFYs may have been missed)."""
        self._reconnect_hooks.append(hook)

    async def reconnected(self) -> None:
        for hook in list(self._reconnect_hooks):
            try:
                await hook()
            except Exception as exc:
                log.warning(
                    "reconnect hook failed",
                    extra={"json_fields": {"event": "reconnect_hook_failed", "error": repr(exc)}},
                )
