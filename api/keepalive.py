"""Keep-alive after an early answer: the connection serves the next request or is closed.

Two defects meet on hypercorn's trio worker with QuartTrio (both pinned versions):

* hypercorn runs its end-of-response bookkeeping (recycle the HTTP/1.1 connection for the next
  request and re-arm the keep-alive timer, or close it) inside the application's final ``send``
  call, and that bookkeeping tells the application ``http.disconnect``;
* quart-trio cancels the request's task as soon as it reads ``http.disconnect``: the
  bookkeeping is cancelled half-way. The connection is neither recycled nor closed, its idle
  timer is never re-armed, and when the answer came before the request body was read (a 401,
  403, 404, 405, 413 or 422 that did not need the body) the next request on the connection is
  never answered: the socket stays open for good.

:class:`KeepAliveGuard` sits between hypercorn and the app. It runs the final ``send`` of every
response shielded, so hypercorn's bookkeeping completes. When the app answers before the
request body has arrived, it first lets the body arrive (Quart reads it and keeps at most the
body limit in memory), at most ``drain_bytes`` more bytes within ``drain_seconds``; the
connection is then recycled as usual. A body too large or too slow to wait for makes the answer
carry ``Connection: close`` and the connection is closed after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import hypercorn.typing
import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[..., Awaitable[None]]  # hypercorn and Quart type their ASGI events apart

DRAIN_BYTES = 1024 * 1024 + 64 * 1024
DRAIN_SECONDS = 5.0


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None (chunked, absent or unreadable)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _Exchange:
    """One request/response pair: how much of the body arrived, whether it is complete."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int, wait: float):
        self._receive = receive
        self._send = send
        self._declared = declared_length(scope)
        self._limit = limit
        self._wait = wait
        self._received = 0
        self._done = False
        self._settled = trio.Event()  # the body is complete, or past what we would drain

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self._done = True
        elif message["type"] == "http.disconnect":
            self._done = True
        if self._done or self._received > self._limit:
            self._settled.set()
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self._done and not await self._drained():
            headers = [h for h in message.get("headers", ()) if h[0].lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        if kind == "http.response.body" and not message.get("more_body", False):
            with trio.CancelScope(shield=True):
                await self._send(message)
            return
        await self._send(message)

    async def _drained(self) -> bool:
        """Wait (bounded) for the rest of the body; True when it all arrived."""
        if self._declared is not None and self._declared - self._received > self._limit:
            return False
        with trio.move_on_after(self._wait):
            await self._settled.wait()
        return self._done


class KeepAliveGuard:
    """ASGI wrapper: see the module docstring."""

    def __init__(
        self, app: AsgiApp, drain_bytes: int = DRAIN_BYTES, drain_seconds: float = DRAIN_SECONDS
    ) -> None:
        self.app = app
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    async def __call__(
        self, scope: hypercorn.typing.Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(
            cast(Scope, scope),
            cast(Receive, receive),
            cast(Send, send),
            self.drain_bytes,
            self.drain_seconds,
        )
        await self.app(scope, exchange.receive, exchange.send)
