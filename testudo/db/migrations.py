"""Numbered SQL migrations, applied idempotently under an advisory lock.

Files are ``testudo/db/migrations/NNNN_name.sql``. Each runs in its own transaction together
with its row in ``schema_migrations``; a checksum guards against an applied file being edited.
Two processes migrating one database at once serialise on a session advisory lock, so nothing
is applied twice.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import attrs
import psycopg

ADVISORY_LOCK_KEY = 0x7E57_0D0  # "testudo" migrations lock
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
SELECT_APPLIED = "SELECT version, checksum FROM schema_migrations"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"


class MigrationError(Exception):
    """The migrations on disk and in the database disagree."""


@attrs.frozen
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files("testudo.db").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers: {versions}")
    return found


def apply_migrations(conninfo: str) -> list[Migration]:
    """Apply every pending migration; return the ones applied now (blocking; use a thread)."""
    applied_now: list[Migration] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(CREATE_TABLE)
            done = {row[0]: row[1] for row in conn.execute(SELECT_APPLIED).fetchall()}
            for migration in discover():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was changed "
                            "after it was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        INSERT_APPLIED, (migration.version, migration.name, migration.checksum)
                    )
                applied_now.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now
