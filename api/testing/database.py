"""PostgreSQL for tests: one server per test process, a migrated template, a fresh database each.

The server is an embedded one (started in a temporary folder) unless ``TESTUDO_TEST_DATABASE_URL``
names a server to use instead (an admin connection: databases are created and dropped on it).
The template is migrated once; every fresh database is ``CREATE DATABASE ... TEMPLATE`` of it, so
tests never depend on each other or on their order.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from testudo.db.embedded import EmbeddedPostgres
from testudo.db.migrations import apply_migrations

DATABASE_URL_ENV = "TESTUDO_TEST_DATABASE_URL"


class PgServer:
    """The test run's PostgreSQL server."""

    def __init__(self, admin_url: str, embedded: EmbeddedPostgres | None) -> None:
        self.admin_url = admin_url
        self.embedded = embedded

    def url_for(self, database: str) -> str:
        """The connection URL of ``database`` on this server."""
        return make_conninfo(self.admin_url, dbname=database)

    def admin(self, sql: str) -> None:
        """Run one statement as the administrator (autocommit)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)


@contextmanager
def pg_server_running() -> Iterator[PgServer]:
    """The server named by ``TESTUDO_TEST_DATABASE_URL``, or an embedded one for the block."""
    external = os.environ.get(DATABASE_URL_ENV)
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


def migrated_template(server: PgServer) -> str:
    """Create a database with every migration applied; return its name."""
    name = f"testudo_tmpl_{uuid.uuid4().hex[:8]}"
    server.admin(f'CREATE DATABASE "{name}"')
    apply_migrations(server.url_for(name))
    return name


@contextmanager
def fresh_database(server: PgServer, template: str | None, prefix: str = "t") -> Iterator[str]:
    """A new database (a copy of ``template``, or empty) for the block; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template is not None else ""
    server.admin(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield server.url_for(name)
    finally:
        server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
