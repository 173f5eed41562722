"""The WebSocket server: one task group per connection (reader, writer, heartbeat).

trio-websocket stops answering pings when its message queue is full, so each connection runs
the heartbeat recipe (ping under a deadline) and keeps its own :class:`Outbox`: nothing ever
blocks on a slow client. Close codes (docs/realtime.md): 1001 server going away, 1008 policy
violation (message rate, ping timeout), 1011 internal error, 1013 slow consumer or event log
unavailable (resume from your last seq), 4401 session revoked.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, WebSocketServer

from actors import ActorError
from actors.auth.service import Principal
from actors.realtime.core import Realtime
from actors.system import System
from api.http_metrics import WS_CONNECTIONS, WS_MESSAGES_SENT
from testudo.auth import store
from testudo.problems import Problem
from testudo.realtime.outbox import CLOSE_SLOW_CONSUMER, Outbox

from .frames import FrameWriter
from .metrics import WS_CLOSES
from .protocol import ErrorCode, Method, ProtocolError, Request, encode, parse_request, result
from .subscriptions import Subscriptions
from .upgrade import UpgradeCredentials, cookie_allowed, credentials

log = logging.getLogger("testudo.ws")

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
CLOSE_REVOKED = 4401

__all__ = ["CLOSE_SLOW_CONSUMER", "Connection", "WsService", "WsSettings"]


@attrs.frozen
class WsSettings:
    """Limits of one connection."""

    send_queue: int = 1024
    max_messages_per_second: int = 5
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    max_message_size: int = 64 * 1024
    close_timeout: float = 5.0


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
    """One client: its identity, subscriptions and outbound queue."""

    def __init__(
        self,
        ws: WebSocketConnection,
        service: WsService,
        principal: Principal | None,
        auth_problem: str | None,
        ip: str,
    ) -> None:
        self.ws = ws
        self.service = service
        self.settings = service.settings
        self.principal = principal
        self.auth_problem = auth_problem
        self.ip = ip
        self.outbox = Outbox(self.settings.send_queue)
        self.outbox.on_close = self._arm_close_watchdog
        self._rate = RateWindow(self.settings.max_messages_per_second)
        self._nursery: trio.Nursery | None = None
        self._send_scope = trio.CancelScope()
        self.subscriptions: Subscriptions | None = None

    def close(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close the connection with ``code`` (from any task)."""
        self.outbox.close(code, reason, flush=flush)

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self.subscriptions = Subscriptions(self.service.realtime, self.outbox, nursery)
                nursery.start_soon(self._guard, self._writer)
                nursery.start_soon(self._guard, self._heartbeat)
                nursery.start_soon(self._guard, self._reader)
        finally:
            if self.subscriptions is not None:
                self.subscriptions.close()

    async def _guard(self, task: Any) -> None:
        """Run one of the connection's tasks; the peer going away ends the connection."""
        try:
            await task()
        except ConnectionClosed:
            assert self._nursery is not None
            self._nursery.cancel_scope.cancel()

    # -- writing -------------------------------------------------------------------------------

    async def _writer(self) -> None:
        outbox = self.outbox
        writer = FrameWriter(self.ws)
        outbox.direct = writer.try_now
        try:
            with self._send_scope:
                while (frames := await outbox.take()) is not None:
                    await writer.send(frames)
                    outbox.sent()
                    WS_MESSAGES_SENT.inc(len(frames))
        finally:
            outbox.direct = None
        closing = outbox.closing
        if closing is not None:
            WS_CLOSES.labels(str(closing.code)).inc()
            if not self._send_scope.cancelled_caught:
                with trio.move_on_after(self.settings.close_timeout):
                    await self.ws.aclose(closing.code, closing.reason)
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()

    def _arm_close_watchdog(self) -> None:
        """A closing connection gets ``close_timeout`` to flush; then its send is abandoned."""
        if self._nursery is not None:
            with contextlib.suppress(RuntimeError):  # the connection has already ended
                self._nursery.start_soon(self._close_watchdog)

    async def _close_watchdog(self) -> None:
        await trio.sleep(self.settings.close_timeout)
        self._send_scope.cancel()

    async def _heartbeat(self) -> None:
        while True:
            await trio.sleep(self.settings.ping_interval)
            with trio.move_on_after(self.settings.ping_timeout) as scope:
                await self.ws.ping()
            if scope.cancelled_caught:
                self.close(CLOSE_POLICY, "ping timeout")
                return

    # -- reading -------------------------------------------------------------------------------

    async def _reader(self) -> None:
        while True:
            text = await self.ws.get_message()
            if not self._rate.allow(trio.current_time()):
                self.outbox.put_text(
                    ProtocolError(
                        ErrorCode.TOO_MANY_MESSAGES,
                        "Too many messages: at most "
                        f"{self.settings.max_messages_per_second} per second",
                    ).to_json_text()
                )
                self.close(CLOSE_POLICY, "too many messages", flush=True)
                return
            parsed = parse_request(text)
            if isinstance(parsed, ProtocolError):
                self.outbox.put_text(parsed.to_json_text())
            else:
                await self.dispatch(parsed)

    async def dispatch(self, request: Request) -> None:
        """Apply one request; its answer is queued on the outbox."""
        subs = self.subscriptions
        assert subs is not None
        if request.method is Method.LIST_SUBSCRIPTIONS:
            self.outbox.put_text(encode(result(request.id, subs.names())))
        elif request.method is Method.AUTH:
            self.outbox.put_text(encode(await self._authenticate(request)))
        elif request.method is Method.SUBSCRIBE:
            await subs.subscribe(request, self.principal, self.auth_problem)
        else:
            subs.unsubscribe(request)

    async def _authenticate(self, request: Request) -> dict[str, Any]:
        try:
            outcome = await self.service.system.auth.authenticate(request.params[0])
        except ActorError:
            return ProtocolError(
                ErrorCode.INTERNAL_ERROR,
                "Internal error: authentication is unavailable; try again",
                request.id,
            ).to_json()
        if isinstance(outcome, Problem):
            return ProtocolError(
                ErrorCode.UNAUTHORIZED, f"Unauthorized: {outcome.detail}", request.id
            ).to_json()
        if self.principal is not None and self.principal.user_id != outcome.user_id:
            return ProtocolError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: this connection is authenticated as another user",
                request.id,
            ).to_json()
        self.service.track_session(self, outcome)
        self.principal, self.auth_problem = outcome, None
        return result(request.id, {"user_id": outcome.user_id})


class WsService:
    """Accepts connections, authenticates upgrades, closes revoked sessions' connections."""

    def __init__(self, system: System, settings: WsSettings | None = None) -> None:
        assert system.realtime is not None, "start_realtime before the WebSocket service"
        self.system = system
        self.realtime: Realtime = system.realtime
        self.settings = settings or WsSettings(
            send_queue=system.settings.realtime.send_queue,
            close_timeout=system.settings.realtime.close_timeout,
        )
        self.connections: set[Connection] = set()
        self._by_session: dict[str, set[Connection]] = {}
        system.auth.on_revoked(self.session_revoked)
        self.realtime.on_reconnected(self.recheck_sessions)

    async def handle(self, request: WebSocketRequest) -> None:
        """Serve one connection; nothing that goes wrong in it reaches the server."""
        try:
            await self._handle(request)
        except Exception:
            log.exception("websocket connection failed")

    async def _handle(self, request: WebSocketRequest) -> None:
        ip = _address(request)
        principal, problem = await self._upgrade_principal(
            credentials(request.headers, self._cookie_name()), ip
        )
        ws = await request.accept()
        connection = Connection(ws, self, None, problem, ip)
        if principal is not None:
            self.track_session(connection, principal)
            connection.principal = principal
        self.connections.add(connection)
        WS_CONNECTIONS.inc()
        try:
            await connection.run()
        except Exception:
            log.exception("websocket connection failed")
            with trio.move_on_after(1, shield=True):
                await ws.aclose(CLOSE_INTERNAL, "internal error")
        finally:
            self.connections.discard(connection)
            self._untrack(connection)
            WS_CONNECTIONS.dec()

    async def _upgrade_principal(
        self, creds: UpgradeCredentials, ip: str
    ) -> tuple[Principal | None, str | None]:
        if creds.token is None:
            return None, None
        if creds.from_cookie and not cookie_allowed(creds, self._allowed_origins()):
            return None, f"the access_token cookie is not accepted from origin {creds.origin}"
        try:
            outcome = await self.system.auth.authenticate(creds.token)
        except ActorError:
            return None, "authentication is unavailable right now; send AUTH to retry"
        if isinstance(outcome, Problem):
            return None, outcome.detail
        return outcome, None

    def _cookie_name(self) -> str:
        return self.system.auth.settings.access_cookie

    def _allowed_origins(self) -> set[str]:
        siwe = self.system.auth.settings.siwe_uri
        return set(self.system.settings.cors_origins) | {_origin_of(siwe)}

    # -- sessions ------------------------------------------------------------------------------

    def track_session(self, connection: Connection, principal: Principal) -> None:
        self._untrack(connection)
        self._by_session.setdefault(principal.session_id, set()).add(connection)

    def _untrack(self, connection: Connection) -> None:
        if connection.principal is None:
            return
        peers = self._by_session.get(connection.principal.session_id)
        if peers is not None:
            peers.discard(connection)
            if not peers:
                del self._by_session[connection.principal.session_id]

    async def session_revoked(self, session_id: str) -> None:
        """Close every connection authenticated by ``session_id`` (4401)."""
        for connection in list(self._by_session.pop(session_id, ())):
            connection.close(CLOSE_REVOKED, "session revoked")

    async def recheck_sessions(self) -> None:
        """After a listener reconnect: a revocation NOTIFY may have been missed."""
        live = list(self._by_session)
        if not live:
            return
        revoked = await self.system.db.run(lambda conn: store.revoked_among_tx(conn, live))
        for session_id in revoked:
            await self.session_revoked(session_id)

    # -- serving -------------------------------------------------------------------------------

    async def serve(
        self,
        listeners: list[trio.SocketListener],
        *,
        task_status: trio.TaskStatus[WebSocketServer] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve on ``listeners`` until cancelled; closes connections with 1001 on the way out.

        The process proved trio-websocket's internals the fan-out writes through before it
        served anything (:func:`api.ws.transport.check_transport`).
        """
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
                    async with trio.open_nursery() as closers:
                        for connection in list(self.connections):
                            closers.start_soon(
                                connection.ws.aclose, CLOSE_GOING_AWAY, "server shutting down"
                            )


def _address(request: WebSocketRequest) -> str:
    remote = request.remote
    return str(getattr(remote, "address", remote))


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url
