"""A user's realtime streams (``order.<user_id>``, ``balance.<user_id>``) as an async iterator."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from .siwe import WebSession

WAIT = 30.0  # a hang guard: every wait ends as soon as the awaited event arrives


@attrs.frozen
class Event:
    """One private event: its stream (``order.<user_id>``) and payload (``e`` names it)."""

    stream: str
    data: dict[str, Any]

    @property
    def name(self) -> str:
        """The event's ``e`` (``trade_created``, ``stop_loss_placed``, ``balance_update``)."""
        return str(self.data.get("e", ""))

    @property
    def channel(self) -> str:
        """The stream's kind: ``order`` or ``balance``."""
        return self.stream.split(".", 1)[0]


class StreamError(RuntimeError):
    """The service refused a request on the stream."""


class EventStream:
    """The events of one user's subscribed streams, in arrival order.

    ``async for event in stream`` yields each new event; :meth:`wait_for` waits until an event
    has been seen (counting those already received); :attr:`seen` keeps them all.
    """

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.seen: list[Event] = []
        self._ids = 0

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        return await self.next()

    async def request(self, method: str, params: list[str]) -> Any:
        """Send a request (``SUBSCRIBE``, ``UNSUBSCRIBE``, ``LIST_SUBSCRIPTIONS``) and return
        its ``result``; events arriving meanwhile are kept."""
        self._ids += 1
        await self.ws.send_message(
            json.dumps({"method": method, "params": params, "id": self._ids})
        )
        with trio.fail_after(WAIT):
            while True:
                frame = json.loads(await self.ws.get_message())
                if "stream" in frame:
                    self.seen.append(Event(frame["stream"], frame["data"]))
                elif frame.get("id") == self._ids:
                    if "error" in frame:
                        raise StreamError(f"{method} {params}: {frame['error']}")
                    return frame.get("result")

    async def next(self, timeout: float = WAIT) -> Event:
        """The next event to arrive (raise ``trio.TooSlowError`` after ``timeout`` seconds)."""
        with trio.fail_after(timeout):
            while True:
                frame = json.loads(await self.ws.get_message())
                if "stream" in frame:
                    event = Event(frame["stream"], frame["data"])
                    self.seen.append(event)
                    return event

    async def wait_for(
        self,
        name: str,
        *,
        count: int = 1,
        where: Callable[[Event], bool] | None = None,
        timeout: float = WAIT,
    ) -> Event:
        """Wait until ``count`` events called ``name`` (and matching ``where``) have been seen
        since the stream opened; return the last of them. Raise ``AssertionError`` with the
        names seen when they do not all arrive within ``timeout`` seconds."""

        def matching() -> list[Event]:
            return [e for e in self.seen if e.name == name and (where is None or where(e))]

        with trio.move_on_after(timeout):
            while len(matching()) < count:
                await self.next(timeout=math.inf)
            return matching()[count - 1]
        raise AssertionError(f"{count} x {name} never arrived; seen: {self.names()}")

    def names(self, channel: str | None = None) -> list[str]:
        """The names of the events seen so far, of one ``channel`` (``order``) or all."""
        return [e.name for e in self.seen if channel is None or e.channel == channel]


@asynccontextmanager
async def open_events(
    ws_url: str, session: WebSession, channels: tuple[str, ...] = ("order", "balance")
) -> AsyncIterator[EventStream]:
    """Connect to the service's WebSocket as ``session``'s user and subscribe to its private
    ``channels``; the stream is open for the block."""
    headers = [(name.encode(), value.encode()) for name, value in session.bearer().items()]
    async with open_websocket_url(ws_url + "/ws", extra_headers=headers) as ws:
        stream = EventStream(ws)
        await stream.request("SUBSCRIBE", [f"{kind}.{session.user_id}" for kind in channels])
        yield stream
