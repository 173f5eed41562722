"""The light part of start-up: bind the ports, start and migrate the database.

Everything here fails with one clear line (:class:`~testudo.config.ConfigError`) and imports
nothing heavy (no web framework, no exchange clients), so a port in use, an unreachable
database or an unwritable data directory is reported at once by ``testudo serve`` and
``testudo migrate``, before the rest of the service is even imported.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator

import attrs
import trio

from testudo.config import ConfigError, Settings
from testudo.db import Database, DatabaseUnavailable
from testudo.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from testudo.db.migrations import MigrationError, apply_migrations

log = logging.getLogger("api.process")


def bind_http(settings: Settings, reuse_port: bool = False) -> socket.socket:
    """Bind the HTTP socket now, so a port in use is a clear error before anything starts
    (``reuse_port``: a worker of ``--workers``, sharing the port with its siblings)."""
    try:
        sock = socket.create_server((settings.http_host, settings.http_port), reuse_port=reuse_port)
    except OSError as exc:
        raise ConfigError(bind_error("HTTP", settings.http_host, settings.http_port, exc)) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


def bind_peer(settings: Settings) -> socket.socket:
    """Bind the peer listener: other nodes forward the requests of this node's users here."""
    host, port = settings.cluster.peer_host, settings.cluster.peer_port
    try:
        sock = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        raise ConfigError(bind_error("peer", host, port, exc)) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


async def bind_ws(settings: Settings, reuse_port: bool = False) -> list[trio.SocketListener]:
    try:
        if reuse_port:
            return [shared_listener(settings.ws_host, settings.ws_port)]
        return await trio.open_tcp_listeners(settings.ws_port, host=settings.ws_host)
    except OSError as exc:
        raise ConfigError(
            bind_error("WebSocket", settings.ws_host, settings.ws_port, exc)
        ) from None


def shared_listener(host: str, port: int) -> trio.SocketListener:
    """A listener on ``host:port`` that sibling workers share (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, reuse_port=True, backlog=1024)
    return trio.SocketListener(trio.socket.from_stdlib_socket(sock))


def bind_error(what: str, host: str, port: int, exc: OSError) -> str:
    """The one line a failed bind is reported with."""
    if exc.errno == errno.EADDRINUSE:
        return f"{what} port {host}:{port} is already in use"
    return f"cannot listen for {what} on {host}:{port}: {exc.strerror or exc}"


@attrs.frozen
class Listeners:
    """The sockets bound at start-up (a port in use fails before anything starts)."""

    http: socket.socket
    ws: list[trio.SocketListener]
    peer: socket.socket

    def peer_url(self, settings: Settings) -> str:
        """Where the other nodes reach this node's peer listener."""
        if settings.cluster.peer_url:
            return settings.cluster.peer_url
        port = self.peer.getsockname()[1]
        return f"http://{display_host(settings.cluster.peer_host)}:{port}"

    def urls(self, settings: Settings) -> tuple[str, str]:
        http_port = self.http.getsockname()[1]
        ws_port = self.ws[0].socket.getsockname()[1]
        return (
            f"http://{display_host(settings.http_host)}:{http_port}",
            f"ws://{display_host(settings.ws_host)}:{ws_port}",
        )


async def bind(settings: Settings, reuse_port: bool = False) -> Listeners:
    """Bind the HTTP and WebSocket ports now (a port in use fails before anything starts);
    ``reuse_port`` for the workers of ``--workers``, which share them. The peer listener is
    each node's own (a worker's too): forwarded requests must reach that node."""
    http = bind_http(settings, reuse_port)
    return Listeners(http, await bind_ws(settings, reuse_port), bind_peer(settings))


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


@attrs.frozen
class Prepared:
    """The database, ready: migrated and pooled."""

    db: Database
    url: str
    migrations_applied: int


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Prepared]:
    """The database (the embedded one unless a URL is given), migrated and pooled, for the
    life of the block; stopped in reverse order, shielded from cancellation."""
    database_url, embedded = await start_database(settings)
    try:
        applied = await migrate(database_url)
        db = Database(database_url, max_size=settings.db_pool_size)
        try:
            await db.open()
        except DatabaseUnavailable as exc:
            raise ConfigError(str(exc)) from None
        try:
            yield Prepared(db, database_url, applied)
        finally:
            with trio.CancelScope(shield=True):
                await db.close()
    finally:
        if embedded is not None:
            with trio.CancelScope(shield=True):
                await embedded.stop()
                log.info("embedded database stopped")


def display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
