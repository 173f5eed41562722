"""``testudo serve``: one trio process, one root nursery (architecture.md section 1).

Under the root nursery: the actor system's root supervisor, hypercorn serving the QuartTrio app
on 8080, and the trio-websocket server on 4000. Start-up order: check the data dir, bind both
ports (so a port in use fails fast), start the embedded database (unless a URL is given), apply
migrations, open the pool, start the actors, serve. Shutdown runs the same way backwards:
stop accepting, let in-flight HTTP requests finish within the grace, close WebSockets (1001),
stop the actors (each persists what it must), close the pool, stop the embedded database.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio
from hypercorn.config import Config as HypercornConfig, Sockets
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app
from trio_websocket import WebSocketServer

from actors import ChildSpec, Registry, Supervisor
from actors.auth.revocation_router import RevocationRouter
from actors.auth.service import AuthService
from actors.exchanges.agent_wallets import AgentWallets
from actors.exchanges.service import AccountsService
from actors.journal.wiring import start_journal
from actors.realtime.pg_listener import PgListener
from actors.realtime.wiring import start_realtime
from actors.system import System
from actors.trading.service import TradesService
from api.app import create_app
from api.keepalive import KeepAliveGuard
from api.ws.server import WsService
from testudo.auth.keys import SecretError, load_or_create_secret
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_check import preload as preload_siwe
from testudo.clock import Clock, SystemClock
from testudo.config import ConfigError, Settings, ensure_data_dir
from testudo.db import Database, DatabaseUnavailable
from testudo.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from testudo.db.migrations import MigrationError, apply_migrations
from testudo.exchanges.agent_wallets import Network
from testudo.exchanges.clients import ClientFactory
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.vault import Vault, VaultError, load_vault
from testudo.logs import quiet_libraries

log = logging.getLogger("testudo.service")
StartSimulator = Callable[[trio.Nursery, int], Awaitable[str]]


@attrs.frozen
class Running:
    """What a started service tells its starter (tests use it)."""

    http_url: str
    ws_url: str
    system: System
    shutdown: Callable[[], None]


def bind_http(settings: Settings) -> tuple[Sockets, int]:
    """Bind the HTTP socket now, so a port in use is a clear error before anything starts."""
    try:
        sock = socket.create_server((settings.http_host, settings.http_port), reuse_port=False)
    except OSError as exc:
        raise ConfigError(
            _bind_error("HTTP", settings.http_host, settings.http_port, exc)
        ) from None
    sock.setblocking(False)
    return Sockets(secure_sockets=[], insecure_sockets=[sock], quic_sockets=[]), sock.getsockname()[
        1
    ]


async def bind_ws(settings: Settings) -> list[trio.SocketListener]:
    try:
        return await trio.open_tcp_listeners(settings.ws_port, host=settings.ws_host)
    except OSError as exc:
        raise ConfigError(
            _bind_error("WebSocket", settings.ws_host, settings.ws_port, exc)
        ) from None


def _bind_error(what: str, host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"{what} port {host}:{port} is already in use"
    return f"cannot listen for {what} on {host}:{port}: {exc.strerror or exc}"


def hypercorn_config(settings: Settings) -> HypercornConfig:
    config = HypercornConfig()
    config.graceful_timeout = settings.shutdown_grace
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 5
    config.h11_max_incomplete_size = 16 * 1024
    return config


@attrs.define
class Adoption:
    """What a restarted ``trades`` supervisor runs to bring its live groups back; set once the
    trading service exists (the first start, at boot, has nothing to adopt yet)."""

    target: Callable[[Supervisor], Awaitable[None]] | None = None

    async def __call__(self, supervisor: Supervisor) -> None:
        if self.target is not None:
            await self.target(supervisor)


def build_root(database_url: str, adopt_trades: Adoption | None = None) -> Supervisor:
    """The root supervisor (the top: it parks a failing child, never gives up) and its static
    children. Per-user actors are isolated children of ``exchanges``, ``sessions`` and
    ``trades`` (each user's subtree), so none of these ever escalates because of one user."""
    return Supervisor(
        "root",
        children=(
            ChildSpec("pg-listener", lambda: PgListener(database_url)),
            ChildSpec("exchanges", lambda: Supervisor("exchanges", intensity=20, period=60)),
            ChildSpec("sessions", lambda: Supervisor("sessions", intensity=20, period=60)),
            ChildSpec(
                "trades",
                lambda: Supervisor("trades", intensity=50, period=60, adopt=adopt_trades),
            ),
        ),
        intensity=10,
        period=60,
        top=True,
    )


async def start_database(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """The database URL to use, starting the embedded server when no URL is configured."""
    if settings.database_url is not None:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        return await embedded.start(), embedded
    except EmbeddedPostgresError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None


async def migrate(database_url: str) -> int:
    """Apply pending migrations; return how many were applied."""
    try:
        applied = await trio.to_thread.run_sync(apply_migrations, database_url)
    except MigrationError as exc:
        raise ConfigError(str(exc)) from None
    except Exception as exc:  # psycopg.OperationalError and friends
        from testudo.db import redact

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot migrate the database {redact(database_url)}: {first}") from None
    return len(applied)


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


async def run_service(
    settings: Settings,
    *,
    handle_signals: bool = True,
    clock: Clock | None = None,
    on_ready: Callable[[], None] | None = None,
    start_simulator: StartSimulator | None = None,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the whole service until SIGINT/SIGTERM (or ``Running.shutdown()``).

    ``on_ready`` is called once everything has started (the CLI freezes the heap there);
    ``start_simulator`` starts the simulator in process for ``--simulated-exchanges``.
    """
    quiet_libraries()
    ensure_data_dir(settings.data_dir)
    auth = auth_settings(settings)
    try:
        vault = load_vault(settings.data_dir, settings.master_key)
    except VaultError as exc:
        raise ConfigError(str(exc)) from None
    await trio.to_thread.run_sync(preload_siwe)
    http_sockets, http_port = bind_http(settings)
    ws_listeners = await bind_ws(settings)
    ws_port = ws_listeners[0].socket.getsockname()[1]
    database_url, embedded = await start_database(settings)
    try:
        applied = await migrate(database_url)
        db = Database(database_url, max_size=settings.db_pool_size)
        try:
            await db.open()
        except DatabaseUnavailable as exc:
            raise ConfigError(str(exc)) from None
        try:
            await _serve(
                settings,
                auth,
                vault,
                clock or SystemClock(),
                db,
                database_url,
                http_sockets,
                http_port,
                ws_listeners,
                ws_port,
                applied,
                handle_signals,
                on_ready,
                start_simulator,
                task_status,
            )
        finally:
            with trio.CancelScope(shield=True):
                await db.close()
    finally:
        if embedded is not None:
            with trio.CancelScope(shield=True):
                await embedded.stop()
                log.info("embedded database stopped")


async def _serve(
    settings: Settings,
    auth: AuthSettings,
    vault: Vault,
    clock: Clock,
    db: Database,
    database_url: str,
    http_sockets: Sockets,
    http_port: int,
    ws_listeners: list[trio.SocketListener],
    ws_port: int,
    applied: int,
    handle_signals: bool,
    on_ready: Callable[[], None] | None,
    start_simulator: StartSimulator | None,
    task_status: trio.TaskStatus[Running],
) -> None:
    shutdown = trio.Event()
    adoption = Adoption()
    root = build_root(database_url, adoption)
    async with trio.open_nursery() as nursery:
        exchange_base = await _exchange_base_url(settings, nursery, start_simulator)
        await nursery.start(root.run)
        children: dict[str, Any] = root.children
        registry = Registry()
        auth_service = AuthService(db, registry, children["sessions"], auth, clock)
        clients = ClientFactory(
            base_url=exchange_base,
            timeout_ms=settings.exchange_timeout_ms,
            rate_limit=settings.exchange_rate_limit,
        )
        health = HealthBoard()
        accounts = AccountsService(
            db,
            registry,
            children["exchanges"],
            vault,
            clients,
            health,
            clock,
            offline_only=settings.simulated_exchanges,
            poll_interval=settings.trade_poll_interval,
            state_max_age=settings.account_state_max_age,
            price_max_age=settings.price_max_age,
            order_recheck=settings.order_recheck_interval,
            poll_budget_share=settings.poll_budget_share,
        )
        system = System(
            settings=settings,
            db=db,
            root=root,
            registry=registry,
            listener=children["pg-listener"],
            exchanges=children["exchanges"],
            sessions=children["sessions"],
            auth=auth_service,
            clock=clock,
            accounts=accounts,
            agent_wallets=AgentWallets(accounts, Network(settings.hyperliquid_testnet)),
            trades=TradesService(
                db,
                registry,
                children["trades"],
                accounts,
                clock,
                settings.trade_poll_interval,
                settings.close_slippage,
            ),
            clients=clients,
            health=health,
        )
        adoption.target = system.trades.adopt
        await root.start_child(
            ChildSpec(
                "revocation-router", lambda: RevocationRouter(children["pg-listener"], auth_service)
            )
        )
        system.realtime = await start_realtime(root, system)
        system.journal = await start_journal(root, db, system.accounts, clock, settings.data_dir)
        app = create_app(system)
        for sock in http_sockets.insecure_sockets:
            sock.listen(1024)
        http_done = trio.Event()

        async def serve_http(*, task_status: trio.TaskStatus[list[str]]) -> None:
            try:
                await worker_serve(
                    wrap_app(KeepAliveGuard(app), 1024 * 1024, "asgi"),
                    hypercorn_config(settings),
                    sockets=http_sockets,
                    shutdown_trigger=shutdown.wait,
                    task_status=task_status,
                )
            finally:
                http_done.set()

        await nursery.start(serve_http)
        ws_service = WsService(system)
        ws_scope = trio.CancelScope()

        async def serve_ws(*, task_status: trio.TaskStatus[WebSocketServer]) -> None:
            with ws_scope:
                await ws_service.serve(ws_listeners, task_status=task_status)

        await nursery.start(serve_ws)
        if handle_signals:
            nursery.start_soon(_watch_signals, shutdown, nursery.cancel_scope)
        http_url = f"http://{_display_host(settings.http_host)}:{http_port}"
        ws_url = f"ws://{_display_host(settings.ws_host)}:{ws_port}"
        log.info(
            "listening",
            extra={
                "json_fields": {
                    "event": "listening",
                    "http": http_url,
                    "ws": ws_url,
                    "embedded_database": settings.embedded_database,
                    "migrations_applied": applied,
                }
            },
        )
        rehydrated = await system.trades.rehydrate()
        if rehydrated:
            log.info(
                "trade groups rehydrated",
                extra={"json_fields": {"event": "trade_groups_rehydrated", "count": rehydrated}},
            )
        if on_ready is not None:
            on_ready()
        task_status.started(Running(http_url, ws_url, system, shutdown.set))
        await shutdown.wait()
        log.info("shutting down", extra={"json_fields": {"event": "shutting_down"}})
        ws_scope.cancel()
        with trio.move_on_after(settings.shutdown_grace + 1):
            await http_done.wait()
        await root.stop()
        with trio.move_on_after(settings.shutdown_grace + 5):
            await root.wait_stopped()
        nursery.cancel_scope.cancel()
    log.info("stopped", extra={"json_fields": {"event": "stopped"}})


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
        raise ConfigError(_bind_error("simulator", "127.0.0.1", settings.sim_port, exc)) from None


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


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
