"""PostgreSQL from trio through psycopg's sync API (docs/architecture.md, "PostgreSQL from trio").

One unit of work is one transaction, run in ONE ``trio.to_thread.run_sync`` hop on a pooled
connection, bounded by a :class:`trio.CapacityLimiter` the size of the pool. When trio cancels a
running unit of work, the query is cancelled server-side and the hop is awaited (bounded) so
the connection goes back to the pool clean; the caller then sees ``trio.Cancelled``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import psycopg
import trio
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

T = TypeVar("T")
Conn = psycopg.Connection[DictRow]
Work = Callable[[Conn], T]

CANCEL_GRACE = 5.0


class DatabaseUnavailable(Exception):
    """The database could not be reached (a configuration or infrastructure problem)."""


def redact(conninfo: str) -> str:
    """``conninfo`` with any password removed, safe to print."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


class _Hop:
    """One unit of work running in a worker thread, cancellable from trio."""

    def __init__(self, pool: ConnectionPool[Conn], work: Work[Any]) -> None:
        self._pool = pool
        self._work = work
        self.conn: Conn | None = None
        self.finished = threading.Event()

    def __call__(self) -> Any:
        try:
            with self._pool.connection() as conn:
                self.conn = conn
                try:
                    return self._work(conn)
                finally:
                    self.conn = None
        finally:
            self.finished.set()

    def cancel(self) -> None:
        conn = self.conn
        if conn is not None:
            with suppress(psycopg.Error):
                conn.cancel_safe(timeout=2.0)


class Database:
    """A pool of connections used from trio, one transaction per thread hop."""

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        statement_timeout_ms: int = 30_000,
        idle_in_transaction_ms: int = 5_000,
        application_name: str = "testudo",
    ) -> None:
        self.conninfo = conninfo
        self.max_size = max_size
        # A transaction runs whole in one thread hop, so it is never idle for long unless its
        # process is: a node paused mid-transaction (a stop-the-world pause, SIGSTOP) would
        # hold its row locks, and block the node that took its users over, until it resumed.
        # The server ends such a session after ``idle_in_transaction_ms`` instead.
        options = (
            f"-c statement_timeout={statement_timeout_ms} -c lock_timeout=10000"
            f" -c idle_in_transaction_session_timeout={idle_in_transaction_ms}"
        )
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={
                "row_factory": dict_row,
                "options": options,
                "application_name": application_name,
            },
            name="testudo",
        )
        self._limiter = trio.CapacityLimiter(max_size)

    async def open(self, timeout: float = 10.0) -> None:
        """Open the pool, failing with :class:`DatabaseUnavailable` when unreachable."""

        def _open() -> None:
            try:
                self._pool.open(wait=True, timeout=timeout)
            except PoolTimeout as exc:
                self._pool.close()
                reason = _first_line(str(exc.__cause__ or exc))
                raise DatabaseUnavailable(
                    f"cannot connect to the database {redact(self.conninfo)}: {reason}"
                ) from None

        await trio.to_thread.run_sync(_open)

    async def close(self) -> None:
        await trio.to_thread.run_sync(self._pool.close)

    async def run(self, work: Work[T]) -> T:
        """Run ``work(conn)`` as one transaction in one thread hop and return its result.

        The transaction commits when ``work`` returns and rolls back when it raises.
        """
        hop = _Hop(self._pool, work)
        try:
            result: T = await trio.to_thread.run_sync(
                hop, limiter=self._limiter, abandon_on_cancel=True
            )
        except trio.Cancelled:
            with trio.move_on_after(CANCEL_GRACE, shield=True):
                await trio.to_thread.run_sync(hop.cancel)
                await trio.to_thread.run_sync(hop.finished.wait, CANCEL_GRACE)
            raise
        return result

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> int:
        """Run one statement; return the affected row count."""
        return await self.run(lambda conn: conn.execute(sql, params).rowcount)

    async def fetch_one(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """First row of one query, as a dict, or None."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchone())

    async def fetch_all(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """All rows of one query, as dicts."""
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def ping(self, timeout: float = 2.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``timeout`` seconds."""
        with trio.move_on_after(timeout):
            try:
                return await self.fetch_one("SELECT 1 AS ok") is not None
            except (psycopg.Error, PoolTimeout):
                return False
        return False

    def statistics(self) -> dict[str, int]:
        """Pool statistics (connections in use, waiting requests...)."""
        return dict(self._pool.get_stats())


@asynccontextmanager
async def open_database(conninfo: str, **kwargs: Any) -> AsyncIterator[Database]:
    """Open a :class:`Database` for the duration of the block."""
    db = Database(conninfo, **kwargs)
    await db.open()
    try:
        yield db
    finally:
        with trio.CancelScope(shield=True):
            await db.close()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
