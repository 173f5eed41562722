"""One connection's outbound frames: a strict queue and conflated public streams.

Frames are complete WebSocket frames (:func:`~testudo.realtime.events.ws_text`), built once
per event and shared by every subscriber.

* :meth:`Outbox.put` (replies, errors, private events) is strict: frames are never dropped.
  When ``capacity`` frames are already waiting, the outbox closes itself as a slow consumer
  (close code 1013) instead of dropping one; the client resumes from its last ``seq``.
* :meth:`Outbox.put_latest` (public market data) conflates: each stream keeps at most ``keep``
  waiting frames and a newer frame pushes out the oldest, so a slow client gets the latest
  state, not a growing backlog.

Pushing never blocks. When nothing is queued or being sent, a frame is written to the socket
at once (``direct``, a non-blocking write: no task switch, which is what keeps fan-out latency
low); otherwise, or for what the socket did not take, the connection's writer awaits
:meth:`take` and writes everything queued in one system call. Strict frames go first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs
import trio

from .events import ws_text

CLOSE_SLOW_CONSUMER = 1013


@attrs.frozen
class CloseRequest:
    """Why the outbox was closed; ``flush`` says whether queued strict frames go first."""

    code: int
    reason: str
    flush: bool


class Outbox:
    """Frames waiting for one WebSocket connection."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._strict: deque[bytes] = deque()
        self._latest: dict[str, deque[bytes]] = {}
        self._ready: deque[str] = deque()
        self._writer = trio.lowlevel.ParkingLot()
        self._room = trio.lowlevel.ParkingLot()
        self.closing: CloseRequest | None = None
        #: Called once when the outbox closes (the connection arms its close watchdog).
        self.on_close: Callable[[], None] | None = None
        #: Writes bytes to the socket without blocking: how many it took (None: not now).
        self.direct: Callable[[bytes], int | None] | None = None
        self._in_flight = False

    def __len__(self) -> int:
        return len(self._strict) + sum(len(q) for q in self._latest.values())

    @property
    def closed(self) -> bool:
        return self.closing is not None

    def put(self, frame: bytes) -> bool:
        """Queue a frame that must not be dropped; on overflow close as a slow consumer."""
        if self.closing is not None:
            return False
        if len(self._strict) >= self.capacity:
            self.close(CLOSE_SLOW_CONSUMER, "slow consumer: resume from your last seq")
            return False
        rest = self._write_now(frame)
        if rest is not None:
            self._strict.append(rest)
            self._writer.unpark()
        return True

    def put_text(self, text: str) -> bool:
        """:meth:`put` a text message (a reply or an error)."""
        return self.put(ws_text(text))

    def put_latest(self, stream: str, frame: bytes, keep: int = 1) -> None:
        """Queue a conflatable frame of ``stream``; beyond ``keep`` waiting, the oldest goes."""
        if self.closing is not None:
            return
        rest = self._write_now(frame)
        if rest is None:
            return
        if rest is not frame:  # the socket took part of it: the rest must go next
            self._strict.append(rest)
            self._writer.unpark()
            return
        queue = self._latest.get(stream)
        if queue is None:
            queue = self._latest[stream] = deque(maxlen=keep)
        if not queue:
            self._ready.append(stream)
        queue.append(frame)
        self._writer.unpark()

    def _write_now(self, frame: bytes) -> bytes | None:
        """Write ``frame`` directly if nothing is ahead of it; returns what is left to send."""
        if self.direct is None or self._in_flight or self._strict or self._ready:
            return frame
        written = self.direct(frame)
        if not written:
            return frame
        return None if written >= len(frame) else frame[written:]

    def sent(self) -> None:
        """The writer finished sending what :meth:`take` gave it."""
        self._in_flight = False

    def discard(self, stream: str) -> None:
        """Drop the waiting frames of a public stream (it was unsubscribed)."""
        queue = self._latest.pop(stream, None)
        if queue:
            self._ready.remove(stream)

    def room(self) -> int:
        """How many strict frames can be queued now without overflowing."""
        return self.capacity - len(self._strict)

    async def wait_room(self, frames: int) -> bool:
        """Wait until ``frames`` strict frames fit; False when the outbox closed meanwhile."""
        frames = min(frames, self.capacity)
        while self.closing is None and self.room() < frames:
            await self._room.park()
        return self.closing is None

    def close(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Stop taking frames; the writer sends what ``flush`` keeps, then closes with ``code``."""
        if self.closing is not None:
            return
        self.closing = CloseRequest(code, reason, flush)
        self._latest.clear()
        self._ready.clear()
        if not flush:
            self._strict.clear()
        self._writer.unpark_all()
        self._room.unpark_all()
        if self.on_close is not None:
            self.on_close()

    async def take(self, max_bytes: int = 64 * 1024) -> list[bytes] | None:
        """The next frames to send (at least one, about ``max_bytes`` at most), waiting for
        one; None once closed and drained."""
        while True:
            batch: list[bytes] = []
            size = 0
            strict = self._strict
            while strict and (not batch or size + len(strict[0]) <= max_bytes):
                frame = strict.popleft()
                batch.append(frame)
                size += len(frame)
            if batch and len(strict) <= self.capacity // 2:
                self._room.unpark_all()
            if self.closing is None:
                ready = self._ready
                while ready and (not batch or size < max_bytes):
                    stream = ready.popleft()
                    queue = self._latest.get(stream)
                    if queue:
                        frame = queue.popleft()
                        batch.append(frame)
                        size += len(frame)
                        if queue:
                            ready.append(stream)
            if batch:
                self._in_flight = True
                return batch
            if self.closing is not None:
                return None
            await self._writer.park()
