"""The WebSocket server: one task group per connection (reader, writer, heartbeat).

trio-websocket stops answering pings when its message queue is full, so each connection runs
the heartbeat recipe (ping under ``fail_after``) and keeps its own bounded outbound queue:
nothing ever blocks on a slow client. Close codes: 1001 server going away, 1008 policy
violation (message rate), 1011 internal error, 1013 slow consumer (try again later).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, WebSocketServer

from api.http_metrics import WS_CONNECTIONS, WS_MESSAGES_SENT
from testudo.system import System

from .protocol import (
    MAX_STREAMS,
    Channel,
    ErrorCode,
    Method,
    ProtocolError,
    Request,
    parse_channel,
    parse_request,
    result,
)

log = logging.getLogger("testudo.ws")

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
CLOSE_SLOW_CONSUMER = 1013


@attrs.frozen
class WsSettings:
    """Limits of one connection."""

    send_queue: int = 256
    max_messages_per_second: int = 5
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    max_message_size: int = 64 * 1024


class RateWindow:
    """At most ``limit`` events in any one-second window."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


class Connection:
    """One client: its subscriptions and its bounded outbound queue."""

    def __init__(self, ws: WebSocketConnection, system: System, settings: WsSettings) -> None:
        self.ws = ws
        self.system = system
        self.settings = settings
        self.subscriptions: dict[str, Channel] = {}
        self.outbound, self._outbound_rx = trio.open_memory_channel[str](settings.send_queue)
        self._rate = RateWindow(settings.max_messages_per_second)
        self.close_code: int | None = None

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._writer)
            nursery.start_soon(self._heartbeat)
            await self._reader()
            nursery.cancel_scope.cancel()

    def push(self, message: dict[str, Any]) -> bool:
        """Queue a message; on overflow close as a slow consumer. False if not queued."""
        try:
            self.outbound.send_nowait(json.dumps(message, separators=(",", ":")))
        except trio.WouldBlock:
            self.close_code = CLOSE_SLOW_CONSUMER
            self.outbound.close()
            return False
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    async def _writer(self) -> None:
        async for text in self._outbound_rx:
            await self.ws.send_message(text)
            WS_MESSAGES_SENT.inc()
        if self.close_code is not None:
            await self.ws.aclose(self.close_code, "slow consumer: resume from your last seq")

    async def _heartbeat(self) -> None:
        while True:
            await trio.sleep(self.settings.ping_interval)
            try:
                with trio.fail_after(self.settings.ping_timeout):
                    await self.ws.ping()
            except trio.TooSlowError:
                await self.ws.aclose(CLOSE_POLICY, "ping timeout")
                return

    async def _reader(self) -> None:
        while True:
            text = await self.ws.get_message()
            if not self._rate.allow(trio.current_time()):
                self.push(
                    ProtocolError(
                        ErrorCode.TOO_MANY_MESSAGES,
                        "Too many messages: at most "
                        f"{self.settings.max_messages_per_second} per second",
                    ).to_json()
                )
                await trio.sleep(0.05)  # let the writer flush the error first
                await self.ws.aclose(CLOSE_POLICY, "too many messages")
                return
            parsed = parse_request(text)
            if isinstance(parsed, ProtocolError):
                self.push(parsed.to_json())
            else:
                self.push(self.answer(parsed))

    def answer(self, request: Request) -> dict[str, Any]:
        """Apply one request to this connection's subscriptions; return the answer."""
        if request.method is Method.LIST_SUBSCRIPTIONS:
            return result(request.id, sorted(self.subscriptions))
        channels = []
        for name in request.params:
            channel = parse_channel(name)
            if channel is None:
                return ProtocolError(
                    ErrorCode.INVALID_CHANNEL, f"Invalid channel: {name!r}", request.id
                ).to_json()
            channels.append(channel)
        if request.method is Method.UNSUBSCRIBE:
            for channel in channels:
                self.subscriptions.pop(channel.name, None)
            return result(request.id)
        new = {c.name for c in channels} - set(self.subscriptions)
        if len(self.subscriptions) + len(new) > MAX_STREAMS:
            return ProtocolError(
                ErrorCode.TOO_MANY_STREAMS,
                f"Too many streams: at most {MAX_STREAMS} per connection",
                request.id,
            ).to_json()
        for channel in channels:
            if channel.private:
                return ProtocolError(
                    ErrorCode.UNAUTHORIZED,
                    f"Unauthorized: {channel.name} is a private channel; authenticate first",
                    request.id,
                ).to_json()
        for channel in channels:
            self.subscriptions[channel.name] = channel
        return result(request.id)


class WsService:
    """Accepts connections and runs each one until it closes."""

    def __init__(self, system: System, settings: WsSettings | None = None) -> None:
        self.system = system
        self.settings = settings or WsSettings()
        self.connections: set[Connection] = set()

    async def handle(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        connection = Connection(ws, self.system, self.settings)
        self.connections.add(connection)
        WS_CONNECTIONS.inc()
        try:
            await connection.run()
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(connection)
            WS_CONNECTIONS.dec()

    async def serve(
        self,
        listeners: list[trio.SocketListener],
        *,
        task_status: trio.TaskStatus[WebSocketServer] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve on ``listeners`` until cancelled; closes connections with 1001 on the way out."""
        async with trio.open_nursery() as handlers:
            server = WebSocketServer(
                self.handle,
                listeners,
                handler_nursery=handlers,
                message_queue_size=8,
                max_message_size=self.settings.max_message_size,
                connect_timeout=10,
                disconnect_timeout=5,
            )
            try:
                await server.run(task_status=task_status)
            finally:
                with trio.move_on_after(2, shield=True):
                    for connection in list(self.connections):
                        await connection.ws.aclose(CLOSE_GOING_AWAY, "server shutting down")
