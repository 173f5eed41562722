"""``testudo serve``: one trio process, one root nursery (docs/architecture.md).

Under the root nursery: the actor system's root supervisor, hypercorn serving the QuartTrio app
on 8080, and the trio-websocket server on 4000. Start-up order: check the data dir, bind both
ports (so a port in use fails fast), start the embedded database (unless a URL is given), apply
migrations, open the pool, start the actors, serve. Shutdown runs the same way backwards:
stop accepting, let in-flight HTTP requests finish within the grace, close WebSockets (1001),
stop the actors (each persists what it must), close the pool, stop the embedded database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve
from trio_websocket import WebSocketServer

from actors import Supervisor
from actors.assembly import Adoption, Parts, build_root, build_system, start_children
from actors.cluster.keeper import ScanNow
from actors.cluster.leases import ClusterLeases
from actors.system import System
from api.app import create_app
from api.boot import Listeners, Prepared, bind, bind_error, database
from api.keepalive import KeepAliveGuard
from api.ws.server import WsService
from api.ws.transport import check_transport
from testudo.auth.keys import SecretError, load_or_create_secret
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_check import preload as preload_siwe
from testudo.clock import Clock, SystemClock
from testudo.cluster.identity import IdentityMismatch, enforce as enforce_identity
from testudo.cluster.leases import NodeIdentity, Term
from testudo.config import ConfigError, Settings, ensure_data_dir
from testudo.exchanges.vault import Vault, VaultError, load_vault
from testudo.logs import quiet_libraries

log = logging.getLogger("api.process")
StartSimulator = Callable[[trio.Nursery, int], Awaitable[str]]


@attrs.frozen
class Running:
    """What a started service tells its starter (tests use it)."""

    http_url: str
    ws_url: str
    system: System
    shutdown: Callable[[], None]


def hypercorn_config(settings: Settings, *socks: socket.socket) -> HypercornConfig:
    """Hypercorn's configuration, serving the sockets bound at start-up (``fd://``: hypercorn's
    public way to take a pre-bound socket; it gets duplicates of ours)."""
    config = HypercornConfig()
    config.bind = [f"fd://{os.dup(sock.fileno())}" for sock in socks]
    config.backlog = 1024
    config.graceful_timeout = settings.shutdown_grace
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 5
    config.h11_max_incomplete_size = 16 * 1024
    return config


def auth_settings(settings: Settings) -> AuthSettings:
    """Resolve authentication settings, creating the JWT secret on first start."""
    try:
        secret = load_or_create_secret(settings.data_dir, "jwt.key", settings.jwt_secret)
    except SecretError as exc:
        raise ConfigError(str(exc)) from None
    return AuthSettings(
        siwe_domain=settings.resolved_siwe_domain,
        siwe_uri=settings.resolved_siwe_uri,
        chain_ids=frozenset(settings.siwe_chain_ids),
        jwt_secret=secret,
        cookie_secure=settings.cookie_secure,
        cookie_samesite=settings.cookie_samesite,
        signin_per_client_per_minute=settings.signin_per_client_per_minute,
        signin_per_second=settings.signin_per_second,
    )


@attrs.frozen
class Hooks:
    """How the starter of the service takes part: signals handled here or not, a call once
    everything runs (the CLI freezes the heap), the in-process simulator (CLI only)."""

    handle_signals: bool = True
    on_ready: Callable[[], None] | None = None
    start_simulator: StartSimulator | None = None


async def run_service(
    settings: Settings,
    *,
    handle_signals: bool = True,
    clock: Clock | None = None,
    on_ready: Callable[[], None] | None = None,
    start_simulator: StartSimulator | None = None,
    listeners: Listeners | None = None,
    prepared: Prepared | None = None,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the whole service until SIGINT/SIGTERM (or ``Running.shutdown()``).

    ``on_ready`` is called once everything has started (the CLI freezes the heap there);
    ``start_simulator`` starts the simulator in process for ``--simulated-exchanges``;
    ``listeners`` and ``prepared`` are ports and a database the caller set up already (the
    CLI does, before importing this module, so its expected failures are reported at once).
    """
    quiet_libraries()
    ensure_data_dir(settings.data_dir)
    auth = auth_settings(settings)
    try:
        vault = load_vault(settings.data_dir, settings.master_key)
    except VaultError as exc:
        raise ConfigError(str(exc)) from None
    listeners = listeners or await bind(settings)
    await check_transport()  # one line and exit 2 when trio-websocket is not as we expect
    await trio.to_thread.run_sync(preload_siwe)
    hooks = Hooks(handle_signals, on_ready, start_simulator)
    async with contextlib.AsyncExitStack() as stack:
        if prepared is None:
            prepared = await stack.enter_async_context(database(settings))
        await _check_identity(prepared, auth, vault)
        parts = Parts(settings, auth, vault, clock or SystemClock(), prepared.db, None)
        await _serve(parts, prepared, listeners, hooks, task_status)


async def _check_identity(prepared: Prepared, auth: AuthSettings, vault: Vault) -> None:
    """Before anything serves or starts: this node's secrets must be the cluster's."""
    try:
        decision = await enforce_identity(prepared.db, auth.jwt_secret, vault)
    except IdentityMismatch as exc:
        raise ConfigError(str(exc)) from None
    if decision.action in ("record", "advance"):
        log.info(
            "cluster identity " + ("recorded" if decision.action == "record" else "advanced"),
            extra={"json_fields": {"event": f"cluster_identity_{decision.action}"}},
        )


async def _serve(
    parts: Parts,
    prepared: Prepared,
    listeners: Listeners,
    hooks: Hooks,
    task_status: trio.TaskStatus[Running],
) -> None:
    """The actors, then HTTP and WebSocket; after the shutdown signal, the same backwards."""
    settings, shutdown = parts.settings, trio.Event()
    adoption = Adoption()
    leases = cluster_leases(settings, prepared, listeners.peer_url(settings))
    root = build_root(prepared.url, adoption, leases, settings.cluster)
    async with trio.open_nursery() as nursery:
        base = await _exchange_base_url(settings, nursery, hooks.start_simulator)
        await nursery.start(root.run)
        system = build_system(attrs.evolve(parts, exchange_base=base), root, adoption, leases)
        await start_children(root, system)
        http_done = trio.Event()
        socks = (listeners.http, listeners.peer)
        await nursery.start(_serve_http, create_app(system), settings, socks, shutdown, http_done)
        ws_scope = trio.CancelScope()
        await nursery.start(_serve_ws, WsService(system), listeners.ws, ws_scope)
        if hooks.handle_signals:
            nursery.start_soon(_watch_signals, shutdown, nursery.cancel_scope)
        http_url, ws_url = listeners.urls(settings)
        await _announce(system, http_url, ws_url, prepared.migrations_applied)
        if hooks.on_ready is not None:
            hooks.on_ready()
        task_status.started(Running(http_url, ws_url, system, shutdown.set))
        await shutdown.wait()
        await _stop(settings, root, ws_scope, http_done)
        nursery.cancel_scope.cancel()
    log.info("stopped", extra={"json_fields": {"event": "stopped"}})


async def _serve_http(
    app: Any,
    settings: Settings,
    socks: tuple[socket.socket, ...],
    shutdown: trio.Event,
    done: trio.Event,
    *,
    task_status: trio.TaskStatus[list[str]],
) -> None:
    """Hypercorn (its trio worker, public ``serve``) on the bound sockets (the public port and
    the peer listener) until shutdown."""
    try:
        await serve(
            KeepAliveGuard(app),
            hypercorn_config(settings, *socks),
            shutdown_trigger=shutdown.wait,
            task_status=task_status,
            mode="asgi",
        )
    finally:
        for sock in socks:
            sock.close()  # hypercorn served (and closed) duplicates
        done.set()


async def _serve_ws(
    service: WsService,
    listeners: list[trio.SocketListener],
    scope: trio.CancelScope,
    *,
    task_status: trio.TaskStatus[WebSocketServer],
) -> None:
    with scope:
        await service.serve(listeners, task_status=task_status)


def cluster_leases(settings: Settings, prepared: Prepared, peer_url: str) -> ClusterLeases:
    """This node's leases (its row is written when the lease keeper starts)."""
    cluster = settings.cluster
    name = settings.node_name
    node = NodeIdentity(id="", name=name, url=peer_url, pid=os.getpid(), lock_key=0)
    term = Term(ttl=cluster.lease_ttl, margin=cluster.margin)
    return ClusterLeases(prepared.db, prepared.url, node, term)


async def _announce(system: System, http_url: str, ws_url: str, applied: int) -> None:
    """Log where the service listens, then take (and rehydrate) the live trade groups no live
    node owns; from then on the lease keeper scans for dead nodes."""
    log.info(
        "listening",
        extra={
            "json_fields": {
                "event": "listening",
                "http": http_url,
                "ws": ws_url,
                "embedded_database": system.settings.embedded_database,
                "migrations_applied": applied,
            }
        },
    )
    rehydrated = await system.cluster.ask(ScanNow())
    system.leases.serving.set()
    if rehydrated:
        log.info(
            "trade groups rehydrated",
            extra={"json_fields": {"event": "trade_groups_rehydrated", "count": rehydrated}},
        )


async def _stop(
    settings: Settings, root: Supervisor, ws_scope: trio.CancelScope, http_done: trio.Event
) -> None:
    """Stop accepting, close WebSockets, let HTTP requests finish, then stop the actors."""
    log.info("shutting down", extra={"json_fields": {"event": "shutting_down"}})
    ws_scope.cancel()
    with trio.move_on_after(settings.shutdown_grace + 1):
        await http_done.wait()
    await root.stop()
    with trio.move_on_after(settings.shutdown_grace + 5):
        await root.wait_stopped()


async def _exchange_base_url(
    settings: Settings, nursery: trio.Nursery, start_simulator: StartSimulator | None
) -> str | None:
    """Where exchange requests go: the exchanges themselves, a gateway, or the simulator.

    ``--simulated-exchanges`` without ``--sim-url`` starts the simulator in this process (on
    ``--sim-port``) with ``start_simulator``, which the CLI provides (the product itself never
    imports the simulator); with ``--sim-url`` an already running ``testudo sim`` is used, so
    the simulator outlives a crash of the service.
    """
    if not settings.simulated_exchanges:
        return settings.exchange_base_url
    if settings.sim_url:
        return settings.sim_url
    if start_simulator is None:
        raise ConfigError("--simulated-exchanges needs --sim-url here (no in-process simulator)")
    try:
        url: str = await start_simulator(nursery, settings.sim_port)
        return url
    except OSError as exc:
        raise ConfigError(bind_error("simulator", "127.0.0.1", settings.sim_port, exc)) from None


async def _watch_signals(shutdown: trio.Event, root_scope: trio.CancelScope) -> None:
    """First SIGINT/SIGTERM: graceful shutdown. Second: cancel everything at once."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            if not shutdown.is_set():
                log.info(
                    "signal received",
                    extra={
                        "json_fields": {
                            "event": "signal",
                            "signal": signal.Signals(signum).name,
                            "action": "graceful shutdown",
                        }
                    },
                )
                shutdown.set()
            else:
                log.warning(
                    "second signal: exiting now",
                    extra={
                        "json_fields": {
                            "event": "signal",
                            "signal": signal.Signals(signum).name,
                            "action": "immediate exit",
                        }
                    },
                )
                root_scope.cancel()
                return
