"""Who receives what on this node: streams, their delivery cursors, and subscribers' sinks.

Pure and synchronous: the stream hub and the connections call it from trio tasks of one
thread, and every method completes without yielding, so each call is atomic.

Private (event-log) streams have a *cursor*: the highest sequence this node has delivered.
:meth:`StreamRouter.deliver` accepts only ``cursor + 1`` (older is a duplicate, newer is a gap
the hub fills from the events table), so every sink sees each sequence once, in order. A sink
attached at cursor ``c`` receives every event after ``c``; until it goes live it buffers them
(its replay of older events from the table runs meanwhile), so there is no gap or duplicate at
the replay/live boundary.

Public (market-data) streams have no sequence: frames are conflated per connection.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from .events import frame, public_frame, ws_text
from .outbox import CLOSE_SLOW_CONSUMER, Outbox


class Delivery(enum.Enum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    GAP = "gap"
    UNTRACKED = "untracked"


class StreamSink:
    """One connection's subscription to one private stream."""

    def __init__(self, stream: str, outbox: Outbox, floor: int, buffer_limit: int) -> None:
        self.stream = stream
        self.outbox = outbox
        #: The highest sequence sent to (or skipped for) the client.
        self.floor = floor
        self.live = False
        self._pending: list[tuple[int, bytes]] = []
        self._buffer_limit = buffer_limit

    def offer(self, seq: int, data: bytes) -> None:
        """A live event (from the hub): buffered until live, then queued."""
        if seq <= self.floor:
            return
        if not self.live:
            if len(self._pending) >= self._buffer_limit:
                self.outbox.close(CLOSE_SLOW_CONSUMER, "slow consumer: resume from your last seq")
                return
            self._pending.append((seq, data))
            return
        self.floor = seq
        self.outbox.put(data)

    def replayed(self, seq: int, data: bytes) -> None:
        """An event read from the table by this sink's replay (always older than live ones)."""
        if seq > self.floor:
            self.floor = seq
            self.outbox.put(data)

    def go_live(self) -> None:
        """The replay is done: send what was buffered, then stream directly."""
        self.live = True
        pending, self._pending = self._pending, []
        for seq, data in pending:
            self.offer(seq, data)


@attrs.define(eq=False)
class _Stream:
    cursor: int
    sinks: set[StreamSink] = attrs.Factory(set)


class StreamRouter:
    """This node's routing table (one per process, shared by the hub and the connections)."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._public: dict[str, dict[Outbox, int]] = {}
        #: Streams whose cursor may be behind the table (gap, hint, new or reconnect).
        self.dirty: set[str] = set()
        self._wake: Callable[[], None] = lambda: None

    # -- private streams --------------------------------------------------------------------

    def on_dirty(self, wake: Callable[[], None]) -> None:
        """Call ``wake()`` whenever a stream needs a catch-up (the hub's catch-up task)."""
        self._wake = wake

    def cursor(self, stream: str) -> int | None:
        tracked = self._streams.get(stream)
        return None if tracked is None else tracked.cursor

    def cursors(self) -> dict[str, int]:
        return {name: s.cursor for name, s in self._streams.items()}

    def attach(self, sink: StreamSink, cursor_if_new: int) -> int:
        """Add ``sink``; track the stream from ``cursor_if_new`` if it is new. Returns the cursor.

        A newly tracked stream is marked dirty: events committed after ``cursor_if_new`` was
        read may have been notified before the stream was tracked.
        """
        tracked = self._streams.get(sink.stream)
        if tracked is None:
            tracked = self._streams[sink.stream] = _Stream(cursor_if_new)
            self.mark_dirty(sink.stream)
        tracked.sinks.add(sink)
        return tracked.cursor

    def detach(self, sink: StreamSink) -> None:
        tracked = self._streams.get(sink.stream)
        if tracked is None:
            return
        tracked.sinks.discard(sink)
        if not tracked.sinks:
            del self._streams[sink.stream]
            self.dirty.discard(sink.stream)

    def mark_dirty(self, stream: str) -> None:
        if stream in self._streams:
            self.dirty.add(stream)
            self._wake()

    def mark_all_dirty(self) -> None:
        self.dirty.update(self._streams)
        self._wake()

    def deliver(self, stream: str, seq: int, payload: Any) -> Delivery:
        """Deliver event ``seq`` of ``stream`` if it is the next one."""
        tracked = self._streams.get(stream)
        if tracked is None:
            return Delivery.UNTRACKED
        if seq <= tracked.cursor:
            return Delivery.DUPLICATE
        if seq != tracked.cursor + 1:
            self.mark_dirty(stream)
            return Delivery.GAP
        tracked.cursor = seq
        data = ws_text(frame(stream, seq, payload))  # framed once for every subscriber
        for sink in list(tracked.sinks):
            sink.offer(seq, data)
        return Delivery.DELIVERED

    def fail(self, stream: str, reason: str) -> None:
        """The stream cannot be continued (events were pruned): close its subscribers."""
        tracked = self._streams.pop(stream, None)
        self.dirty.discard(stream)
        if tracked is not None:
            for sink in tracked.sinks:
                sink.outbox.close(CLOSE_SLOW_CONSUMER, reason)

    def sinks(self, stream: str) -> list[StreamSink]:
        """The sinks subscribed to a private stream on this node."""
        tracked = self._streams.get(stream)
        return [] if tracked is None else list(tracked.sinks)

    # -- public streams ---------------------------------------------------------------------

    def attach_public(self, stream: str, outbox: Outbox, keep: int) -> None:
        self._public.setdefault(stream, {})[outbox] = keep

    def detach_public(self, stream: str, outbox: Outbox) -> None:
        subscribers = self._public.get(stream)
        if subscribers is not None:
            subscribers.pop(outbox, None)
            if not subscribers:
                del self._public[stream]
        outbox.discard(stream)

    def public_streams(self) -> list[str]:
        """Every public stream with at least one subscriber on this node."""
        return list(self._public)

    def has_public(self, *streams: str) -> bool:
        return any(stream in self._public for stream in streams)

    def publish_public(self, stream: str, data: dict[str, Any]) -> int:
        """Send a market-data message to every subscriber of ``stream``; returns how many."""
        subscribers = self._public.get(stream)
        if not subscribers:
            return 0
        framed = ws_text(public_frame(stream, data))
        for outbox, keep in list(subscribers.items()):
            outbox.put_latest(stream, framed, keep)
        return len(subscribers)
