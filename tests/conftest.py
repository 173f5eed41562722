"""Shared fixtures of the repository's tests.

Most come from the scenario kit's plugin (``api.testing.plugin``, loaded through its
``pytest11`` entry point), the same fixtures people writing scenarios get: ``pg_server``,
``template_db``, ``db_url`` (a fresh migrated database per test, on an embedded PostgreSQL
or the server ``TESTUDO_TEST_DATABASE_URL`` names), ``clock``, ``sim``, ``service``, ``http``,
``exchange_service``, ``xhttp``, ``desk``, ``trader``, ``events``. The ones below are the
repository's own; helpers live in ``tests/support``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

# Helpers imported from here before tests/support existed (new code imports tests.support).
from tests.support import (
    SIWE_DOMAIN as SIWE_DOMAIN,
    SIWE_URI as SIWE_URI,
    PgServer,
    fresh_database,
    make_settings as make_settings,
    running_service as running_service,
)
from testudo.db import Database


@pytest.fixture
def empty_db_url(pg_server: PgServer) -> Iterator[str]:
    """A database with no migrations applied."""
    with fresh_database(pg_server, None, prefix="e") as url:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A connection pool on this test's database."""
    database = Database(db_url, max_size=4)
    await database.open()
    try:
        yield database
    finally:
        await database.close()
