"""Shared fixtures: one PostgreSQL server per test process, a fresh database per test.

The server is the embedded one (started in a temporary folder) unless
``TESTUDO_TEST_DATABASE_URL`` names a server to use instead (an admin connection: the
fixtures create and drop databases on it). A migrated template database is built once;
every test that asks for ``db_url`` gets ``CREATE DATABASE ... TEMPLATE`` of it, so tests
never depend on each other or on their order.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import httpx
import psycopg
import pytest
import trio
from psycopg.conninfo import make_conninfo

from api.process import Running
from testudo.clock import ManualClock
from testudo.config import Settings
from testudo.db import Database
from testudo.db.embedded import EmbeddedPostgres
from testudo.db.migrations import apply_migrations
from testudo.realtime.settings import RealtimeSettings
from testudo.sim.client import SimClient

pytest_plugins = ["testudo.sim.pytest_plugin"]


class PgServer:
    """The test run's PostgreSQL server."""

    def __init__(self, admin_url: str, embedded: EmbeddedPostgres | None) -> None:
        self.admin_url = admin_url
        self.embedded = embedded

    def url_for(self, database: str) -> str:
        return make_conninfo(self.admin_url, dbname=database)

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    external = os.environ.get("TESTUDO_TEST_DATABASE_URL")
    if external:
        yield PgServer(external, None)
        return
    folder = Path(tempfile.mkdtemp(prefix="testudo-test-pg-", dir="/tmp"))
    folder.chmod(0o755)
    embedded = EmbeddedPostgres(folder)
    url = embedded.start_sync()
    try:
        yield PgServer(url, embedded)
    finally:
        embedded.stop_sync()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: PgServer) -> str:
    name = f"testudo_tmpl_{uuid.uuid4().hex[:8]}"
    pg_server.admin(f'CREATE DATABASE "{name}"')
    apply_migrations(pg_server.url_for(name))
    return name


@pytest.fixture
def db_url(pg_server: PgServer, template_db: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    try:
        yield pg_server.url_for(name)
    finally:
        pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_db_url(pg_server: PgServer) -> Iterator[str]:
    """A database with no migrations applied."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.url_for(name)
    finally:
        pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, max_size=4)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


SIWE_DOMAIN = "desk.testudo.test"
SIWE_URI = "https://desk.testudo.test"


@pytest.fixture
def clock() -> ManualClock:
    """The service's clock in tests: moves only when a test advances it."""
    return ManualClock()


def make_settings(db_url: str, data_dir: Path) -> Settings:
    return Settings(
        http_port=0,
        ws_port=0,
        data_dir=data_dir,
        database_url=db_url,
        cors_origins=("https://desk.example",),
        shutdown_grace=2.0,
        db_pool_size=4,
        siwe_domain=SIWE_DOMAIN,
        siwe_uri=SIWE_URI,
        siwe_chain_ids=(1, 10),
        realtime=RealtimeSettings(market_data=False),  # no exchange polling unless a test asks
        # tests sign in many wallets from one address at one instant; tests/adversarial checks
        # the real limits
        signin_per_client_per_minute=100_000,
        signin_per_second=100_000,
    )


@asynccontextmanager
async def running_service(
    nursery: trio.Nursery, settings: Settings, clock: ManualClock
) -> AsyncIterator[Running]:
    """Run the whole service in ``nursery`` for the duration of the block."""
    from api.process import run_service

    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    try:
        yield running
    finally:
        running.shutdown()


@pytest.fixture
async def service(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Running]:
    """The whole service in-process on ephemeral ports, on this test's database."""
    async with running_service(nursery, make_settings(db_url, tmp_path / "data"), clock) as svc:
        yield svc


@pytest.fixture
async def http(service: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as client:
        yield client


@pytest.fixture
async def exchange_service(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> AsyncIterator[Running]:
    """The whole service with every exchange request sent to this test's simulator."""
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_timeout_ms=1500,
        trade_poll_interval=0.25,
        order_recheck_interval=1.0,
        exchange_rate_limit=False,
    )
    async with running_service(nursery, settings, clock) as svc:
        yield svc


@pytest.fixture
async def xhttp(exchange_service: Running) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``exchange_service``."""
    async with httpx.AsyncClient(base_url=exchange_service.http_url, timeout=30) as client:
        yield client
