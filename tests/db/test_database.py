"""The database layer: migrations, one transaction per hop, server-side cancellation."""

from __future__ import annotations

import threading

import psycopg
import pytest
import trio

from testudo.db import Database, DatabaseUnavailable, redact
from testudo.db.migrations import apply_migrations, discover


def test_migrations_apply_once_and_are_idempotent(empty_db_url: str) -> None:
    applied = apply_migrations(empty_db_url)
    assert [m.version for m in applied] == [m.version for m in discover()]
    assert apply_migrations(empty_db_url) == []
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in discover()]


def test_concurrent_migrators_do_not_double_apply(empty_db_url: str) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            results.append(len(apply_migrations(empty_db_url)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, 0, 0, len(discover())]


def test_an_edited_migration_is_refused(empty_db_url: str) -> None:
    apply_migrations(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    from testudo.db.migrations import MigrationError

    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(empty_db_url)


async def test_run_is_one_transaction(db: Database) -> None:
    def work(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
        conn.execute("INSERT INTO users (wallet_address) VALUES (%s)", ("0x" + "a" * 40,))
        raise RuntimeError("abort after the insert")

    with pytest.raises(RuntimeError):
        await db.run(work)
    assert await db.fetch_one("SELECT count(*) AS n FROM users") == {"n": 0}
    await db.execute("INSERT INTO users (wallet_address) VALUES (%s)", ("0x" + "b" * 40,))
    assert await db.fetch_one("SELECT count(*) AS n FROM users") == {"n": 1}


async def test_trio_cancellation_cancels_the_query_server_side(db: Database) -> None:
    started = trio.current_time()
    with trio.move_on_after(0.3):
        await db.execute("SELECT pg_sleep(30)")
    assert trio.current_time() - started < 10
    rows = await db.fetch_all(
        "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'"
    )
    assert rows == []
    assert await db.ping()  # the pool is healthy afterwards


async def test_publish_event_sequences_are_gapless_per_stream(db: Database) -> None:
    for _ in range(3):
        await db.execute("SELECT publish_event('order.a', '{\"x\": 1}'::jsonb)")
    await db.execute("SELECT publish_event('order.b', '{}'::jsonb)")
    rows = await db.fetch_all("SELECT stream, seq FROM events ORDER BY stream, seq")
    assert [(r["stream"], r["seq"]) for r in rows] == [
        ("order.a", 1),
        ("order.a", 2),
        ("order.a", 3),
        ("order.b", 1),
    ]


async def test_unreachable_database_is_a_clear_error() -> None:
    db = Database("postgresql://u:secret@127.0.0.1:1/nope?connect_timeout=1", min_size=1)
    with pytest.raises(DatabaseUnavailable) as info:
        await db.open(timeout=2)
    assert "secret" not in str(info.value)
    assert "cannot connect to the database" in str(info.value)


def test_redact_hides_passwords() -> None:
    assert "hunter2" not in redact("postgresql://bob:hunter2@db.example:5432/x")
    assert "***" in redact("postgresql://bob:hunter2@db.example:5432/x")
