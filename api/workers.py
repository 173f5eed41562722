"""``testudo serve --workers N``: N processes of one cluster sharing the ports, one supervisor.

The parent owns what a machine has once: the data dir (and its lock, taken by the embedded
database), the embedded database itself (started once, migrated), the secrets (created in the
data dir if absent, and checked against the cluster's identity). It reserves the HTTP and
WebSocket ports (bound with ``SO_REUSEPORT``, never listening, so a port in use fails at once
and stays reserved while workers restart), then runs N workers: ``testudo serve`` again, each
with ``--node-name <name>-w<i>``, the concrete ports, and the database URL and secrets in its
environment or the data dir (never on a command line, which ``ps`` shows). Each worker binds
the ports with ``SO_REUSEPORT``; the kernel spreads connections over them.

A worker that exits is started again after a backoff (0.5 s doubling to 10 s, reset once it ran
a minute); each start, exit and restart is one JSON line of the supervision log. A worker that
exits with 2 (a configuration error, its one line already printed) stops them all: restarting
cannot fix it. SIGINT/SIGTERM: the parent forwards SIGTERM to every worker, waits for their
graceful shutdown (the shutdown grace plus the actors' stop bound), then kills what is left;
a second signal kills them at once.
A worker whose parent dies (kill -9) notices within a second and shuts down gracefully.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence

import attrs
import trio

from api.boot import bind_error, database, display_host
from testudo.auth.keys import SecretError, load_or_create_secret
from testudo.cluster.identity import IdentityMismatch, enforce
from testudo.config import ConfigError, Settings, ensure_data_dir
from testudo.db import Database
from testudo.exchanges.vault import VaultError, load_vault

#: Set in a worker's environment to the parent's pid: bind with SO_REUSEPORT, watch the parent.
WORKER_ENV = "TESTUDO_WORKER_OF"
#: What a worker needs beyond the actors' stop bound to stop gracefully (seconds).
STOP_MARGIN = 6.0
#: A worker that ran this long before exiting is restarted without backoff history.
STABLE_AFTER = 60.0

_log = logging.getLogger("testudo.supervision")


def backoff(failures: int) -> float:
    """Seconds before restarting a worker that failed ``failures`` times in a row (>= 1)."""
    return float(min(0.5 * 2 ** max(failures - 1, 0), 10.0))


def worker_name(node_name: str, index: int) -> str:
    return f"{node_name}-w{index}"


def worker_argv(args: Sequence[str], name: str, http_port: int, ws_port: int) -> list[str]:
    """A worker's command line: the parent's own arguments, then (the last of a repeated flag
    wins) one worker, the reserved ports, its own peer listener on a free port (advertised
    from ``--peer-host``: every worker is a node the others forward to) and the worker's name.
    No secret is on it."""
    overrides = ["--workers", "1", "--http-port", str(http_port), "--ws-port", str(ws_port)]
    overrides += ["--peer-port", "0", "--peer-url", ""]
    return [sys.executable, "-m", "testudo.cli", *args, *overrides, "--node-name", name]


def worker_env(base: Mapping[str, str], database_url: str, parent: int) -> dict[str, str]:
    """A worker's environment: the parent's, the database the parent prepared, the marker."""
    return {**base, "TESTUDO_DATABASE_URL": database_url, WORKER_ENV: str(parent)}


def emit(event: str, index: int, name: str, **fields: object) -> None:
    """One supervision line about worker ``index`` (start, exit, restart, kill)."""
    record = {"kind": "supervision", "event": event, "actor": f"workers/w{index}"}
    record.update({"actor_kind": "worker", "node": name, **fields})  # type: ignore[dict-item]
    failed = event == "kill" or (event == "exit" and fields.get("exit_code") != 0)
    level = logging.WARNING if failed else logging.INFO
    _log.log(level, "%s workers/w%s", event, index, extra={"json_fields": record})


def reserve(host: str, port: int, what: str) -> socket.socket:
    """Bind (never listen) ``host:port`` with ``SO_REUSEPORT``: fails at once on a port in
    use, resolves port 0, and keeps the port for the workers while they restart."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(bind_error(what, host, port, exc)) from None
    return sock


@attrs.define
class Fleet:
    """The workers' processes and the parent's state."""

    settings: Settings
    argv: Sequence[str]
    database_url: str
    ports: tuple[int, int]
    stopping: trio.Event = attrs.Factory(trio.Event)
    procs: dict[int, trio.Process] = attrs.Factory(dict)
    fatal: int | None = None

    def command(self, index: int) -> list[str]:
        name = worker_name(self.settings.node_name, index)
        return worker_argv(self.argv, name, *self.ports)

    async def keep_running(self, index: int) -> None:
        """Run worker ``index`` until the fleet stops, restarting it after each exit."""
        name, failures = worker_name(self.settings.node_name, index), 0
        env = worker_env(os.environ, self.database_url, os.getpid())
        while not self.stopping.is_set():
            began = trio.current_time()
            proc = await trio.lowlevel.open_process(
                self.command(index), env=env, start_new_session=True
            )
            self.procs[index] = proc
            emit("start", index, name, pid=proc.pid)
            if self.stopping.is_set():  # started while stop_all was signalling the others
                proc.send_signal(signal.SIGTERM)
            code = await proc.wait()
            emit("exit", index, name, pid=proc.pid, exit_code=code)
            if self.stopping.is_set():
                return
            if code == 2:  # a configuration error: its one line is printed; restarts won't help
                self.fatal = 2
                self.stopping.set()
                return
            failures = 1 if trio.current_time() - began > STABLE_AFTER else failures + 1
            delay = backoff(failures)
            emit("restart", index, name, delay_s=delay, restart_count=failures)
            with trio.move_on_after(delay):
                await self.stopping.wait()

    async def stop_all(self) -> None:
        """SIGTERM to every worker, wait for them within the grace, then SIGKILL the rest."""
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        with trio.move_on_after(self.settings.shutdown_grace + STOP_MARGIN):
            for proc in self.procs.values():
                await proc.wait()
        for index, proc in self.procs.items():
            if proc.returncode is None:
                emit("kill", index, worker_name(self.settings.node_name, index), pid=proc.pid)
                proc.kill()
                await proc.wait()


async def supervise(settings: Settings, argv: Sequence[str]) -> int:
    """The parent of ``--workers N``: prepare once, run the workers until a signal; the exit
    code (0, or 2 when a worker met a configuration error)."""
    if settings.simulated_exchanges and not settings.sim_url:
        raise ConfigError("--workers above 1 with --simulated-exchanges needs --sim-url")
    ensure_data_dir(settings.data_dir)
    http = reserve(settings.http_host, settings.http_port, "HTTP")
    ws = reserve(settings.ws_host, settings.ws_port, "WebSocket")
    ports = (http.getsockname()[1], ws.getsockname()[1])
    try:
        async with database(attrs.evolve(settings, db_pool_size=1)) as prepared:
            await check_identity(settings, prepared.db)
            fleet = Fleet(settings, argv, prepared.url, ports)
            announce(settings, ports)
            await run_fleet(fleet)
    finally:
        http.close()
        ws.close()
    return fleet.fatal or 0


async def check_identity(settings: Settings, db: Database) -> None:
    """Create the secrets if absent (the workers read the same files) and check them against
    the cluster's identity once, so a mismatch is one line from the parent."""
    try:
        secret = load_or_create_secret(settings.data_dir, "jwt.key", settings.jwt_secret)
        vault = load_vault(settings.data_dir, settings.master_key)
        await enforce(db, secret, vault)
    except (SecretError, VaultError, IdentityMismatch) as exc:
        raise ConfigError(str(exc)) from None


def announce(settings: Settings, ports: tuple[int, int]) -> None:
    http_url = f"http://{display_host(settings.http_host)}:{ports[0]}"
    ws_url = f"ws://{display_host(settings.ws_host)}:{ports[1]}"
    fields = {"event": "workers", "workers": settings.workers, "http": http_url, "ws": ws_url}
    logging.getLogger("api.workers").info("supervising workers", extra={"json_fields": fields})


async def run_fleet(fleet: Fleet) -> None:
    """Every worker kept running; the first signal (or a fatal exit) stops them all."""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_signals, fleet)
        for index in range(1, fleet.settings.workers + 1):
            nursery.start_soon(fleet.keep_running, index)
        await fleet.stopping.wait()
        await fleet.stop_all()
        nursery.cancel_scope.cancel()


async def _watch_signals(fleet: Fleet) -> None:
    """First SIGINT/SIGTERM: stop the workers gracefully. Second: kill them now."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            again = fleet.stopping.is_set()
            action = "killing the workers" if again else "stopping the workers"
            fields = {"event": "signal", "signal": signal.Signals(signum).name, "action": action}
            logging.getLogger("api.workers").info("signal received", extra={"json_fields": fields})
            fleet.stopping.set()
            if again:
                for proc in fleet.procs.values():
                    if proc.returncode is None:
                        proc.kill()


async def watch_parent(parent: int, shutdown: Callable[[], None]) -> None:
    """In a worker: shut down gracefully once the parent is gone (it was killed)."""
    while os.getppid() == parent:  # noqa: ASYNC110 (no event tells a process its parent died)
        await trio.sleep(1.0)
    logging.getLogger("api.workers").warning(
        "the supervising parent is gone: shutting down",
        extra={"json_fields": {"event": "orphaned", "parent": parent}},
    )
    shutdown()


def parent_of_this_worker() -> int | None:
    """The parent's pid when this process is a worker of ``--workers``, else None."""
    raw = os.environ.get(WORKER_ENV, "")
    return int(raw) if raw.isdigit() else None
