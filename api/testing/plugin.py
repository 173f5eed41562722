"""The scenario kit's pytest plugin for pytest-trio (loaded by ``api.testing.pytest_entry``,
the ``pytest11: testudo`` entry point).

Fixtures, each fresh per test unless said otherwise:

* ``pg_server`` (session), ``template_db`` (session), ``db_url``: PostgreSQL (embedded, or the
  server ``TESTUDO_TEST_DATABASE_URL`` names) and a migrated database of the test's own;
* ``clock``: the service's :class:`~testudo.clock.ManualClock`;
* ``sim``, ``sim_config``: the exchange simulator (from ``testudo.sim.pytest_plugin``);
* ``service`` / ``http``: the whole service on ephemeral ports, and an HTTP client of it;
* ``exchange_service`` / ``xhttp``: the same with every exchange request sent to ``sim``;
* ``venue``: the exchange id the ``trader`` uses (``binance``; parametrize it to choose);
* ``desk``: a fresh wallet signed in to ``exchange_service`` through real SIWE;
* ``trader``: ``desk`` with a funded simulator account linked on ``venue``;
* ``events``: ``desk``'s ``order`` and ``balance`` streams, subscribed before the test runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import trio

from api.process import Running
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .database import PgServer, fresh_database, migrated_template, pg_server_running
from .desk import Desk, signed_in
from .service import running_service
from .settings import make_settings, on_simulator
from .stream import EventStream, open_events
from .trader import Trader, open_trader
from .venues import venue_named

pytest_plugins = ["testudo.sim.pytest_plugin"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The test process's PostgreSQL server."""
    with pg_server_running() as server:
        yield server


@pytest.fixture(scope="session")
def template_db(pg_server: PgServer) -> str:
    """A database with every migration applied, copied for each test."""
    return migrated_template(pg_server)


@pytest.fixture
def db_url(pg_server: PgServer, template_db: str) -> Iterator[str]:
    """A fresh migrated database, dropped after the test."""
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    """The service's clock: moves only when the test advances it."""
    return ManualClock()


@pytest.fixture
async def service(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Running]:
    """The whole service in-process on ephemeral ports, on this test's database."""
    async with running_service(nursery, make_settings(db_url, tmp_path / "data"), clock) as svc:
        yield svc


@pytest.fixture
async def http(service: Running) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``service``."""
    async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as client:
        yield client


@pytest.fixture
async def exchange_service(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> AsyncIterator[Running]:
    """The whole service with every exchange request sent to this test's simulator."""
    settings = on_simulator(make_settings(db_url, tmp_path / "data"), sim.base_url)
    async with running_service(nursery, settings, clock) as svc:
        yield svc


@pytest.fixture
async def xhttp(exchange_service: Running) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``exchange_service``."""
    async with httpx.AsyncClient(base_url=exchange_service.http_url, timeout=30) as client:
        yield client


@pytest.fixture
def venue() -> str:
    """The exchange ``trader`` trades on; ``@pytest.mark.parametrize("venue", [...])`` picks
    others (any id of ``api.testing.scenario_venues()``)."""
    return "binance"


@pytest.fixture
async def desk(exchange_service: Running, clock: ManualClock) -> AsyncIterator[Desk]:
    """A fresh wallet signed in to ``exchange_service`` through real SIWE."""
    async with signed_in(exchange_service.http_url, clock) as signed:
        yield signed


@pytest.fixture
async def trader(desk: Desk, sim: SimClient, venue: str) -> Trader:
    """``desk``'s user with a simulator account (10000 of the venue's collateral) on ``venue``."""
    return await open_trader(desk, sim, venue_named(venue))


@pytest.fixture
async def events(exchange_service: Running, desk: Desk) -> AsyncIterator[EventStream]:
    """``desk``'s ``order.<user_id>`` and ``balance.<user_id>`` streams."""
    async with open_events(exchange_service.ws_url, desk.session) as stream:
        yield stream
