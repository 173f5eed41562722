"""Write pre-built WebSocket frames straight to a trio-websocket connection's stream.

An event's frame is built once (:func:`testudo.realtime.events.ws_text`) and written to every
subscriber, several frames per system call, instead of wsproto framing it again for each
connection. Server frames are unmasked and our server negotiates no extension, so the bytes
are the same for everyone. This uses trio-websocket's internals (its stream and the lock its
own sends take, so frames never interleave with pings and closes) of the pinned version
(0.12.2); every WebSocket test runs through it with real trio-websocket clients.
"""

from __future__ import annotations

import os
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from api.http_metrics import WS_MESSAGES_SENT


class FrameWriter:
    """Sends ready-made frames on one connection."""

    def __init__(self, ws: WebSocketConnection) -> None:
        try:
            self._stream: Any = ws._stream
            self._lock: trio.StrictFIFOLock = ws._stream_lock
        except AttributeError:  # pragma: no cover - guards a trio-websocket upgrade
            raise RuntimeError("api.ws.frames needs trio-websocket 0.12.x") from None
        self._ws = ws
        stream: Any = self._stream
        self._fd: int = stream.socket.fileno()

    def try_now(self, data: bytes) -> int | None:
        """Write without blocking when no send is in progress: bytes written (None: not now).

        Only called when the connection's own queue is empty and its writer idle; the lock
        tells whether trio-websocket is sending a ping, pong or close frame right now.
        """
        if self._ws.closed is not None or self._lock.locked():
            return None
        try:
            written = os.write(self._fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            return None  # the writer will meet the error and end the connection
        WS_MESSAGES_SENT.inc()
        return written

    async def send(self, frames: list[bytes]) -> None:
        """Write ``frames`` in order; raises ``ConnectionClosed`` once the socket is closing."""
        ws = self._ws
        if ws.closed is not None:
            raise ConnectionClosed(ws.closed)
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        async with self._lock:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                await ws._abort_web_socket()
                raise ConnectionClosed(ws.closed) from None
