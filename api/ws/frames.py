"""Write pre-built WebSocket frames to a connection: directly when idle, else in batches.

An event's frame is built once (:func:`testudo.realtime.events.ws_text`, wsproto's framing)
and written to every subscriber, several frames per system call, instead of being framed again
for each connection. Server frames are unmasked and our server negotiates no extension, so the
bytes are the same for everyone. The access to trio-websocket's stream and send lock lives in
:mod:`api.ws.transport`, checked at server start; every WebSocket test runs through it with
real trio-websocket clients.
"""

from __future__ import annotations

from trio_websocket import ConnectionClosed, WebSocketConnection

from api.http_metrics import WS_MESSAGES_SENT

from .transport import Transport


class FrameWriter:
    """Sends ready-made frames on one connection."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self._ws = ws
        self._transport = Transport(ws)

    def try_now(self, data: bytes) -> int | None:
        """Write without blocking when no send is in progress: bytes written (None: not now).

        Only called when the connection's own queue is empty and its writer idle; the lock
        tells whether trio-websocket is sending a ping, pong or close frame right now.
        """
        transport = self._transport
        if transport.closed or transport.busy:
            return None
        written = transport.write_nowait(data)
        if written:
            WS_MESSAGES_SENT.inc()
        return written

    async def send(self, frames: list[bytes]) -> None:
        """Write ``frames`` in order; raises ``ConnectionClosed`` once the socket is closing."""
        if self._transport.closed:
            raise ConnectionClosed(self._ws.closed)
        await self._transport.send_all(frames[0] if len(frames) == 1 else b"".join(frames))
