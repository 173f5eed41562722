"""The lease protocol on a real PostgreSQL: who owns a user, takeovers, fencing tokens."""

from __future__ import annotations

import functools
import secrets
import uuid
from typing import Any

import psycopg
import pytest
import trio
from hypothesis import given, strategies as st

from tests.journal.support import insert_account, insert_user
from testudo.clock import ManualClock
from testudo.cluster.leases import (
    LOCK_CLASS,
    LOCK_NODE,
    Acquired,
    Elsewhere,
    Fenced,
    NodeIdentity,
    NotAlive,
    Term,
    acquire_tx,
    dead_nodes_tx,
    fence_tx,
    register_tx,
    renew_tx,
)
from testudo.db import Database
from testudo.db.database import Conn
from testudo.imports import queue


def node(name: str) -> NodeIdentity:
    return NodeIdentity(
        str(uuid.uuid4()), name, f"http://{name}:8081", 1, secrets.randbelow(2**31 - 1)
    )


async def new_user(db: Database) -> str:
    wallet = "0x" + secrets.token_hex(20)
    row = await db.fetch_one(
        "INSERT INTO users (wallet_address) VALUES (%s) RETURNING id::text AS id", (wallet,)
    )
    assert row is not None
    return str(row["id"])


async def holding_its_lock(db_url: str, who: NodeIdentity) -> psycopg.Connection[Any]:
    """A connection holding ``who``'s advisory lock, as the node's keeper does."""
    conn = await trio.to_thread.run_sync(
        functools.partial(psycopg.connect, db_url, autocommit=True)
    )
    await trio.to_thread.run_sync(conn.execute, LOCK_NODE, (LOCK_CLASS, who.lock_key))
    return conn


async def join(db: Database, who: NodeIdentity, ttl: float = 30) -> None:
    await db.run(lambda conn: register_tx(conn, who, ttl))


async def acquire(db: Database, user: str, who: NodeIdentity) -> object:
    return await db.run(functools.partial(acquire_tx, user_id=user, node_id=who.id))


async def test_the_first_live_node_takes_a_free_user_and_the_others_see_it(db: Database) -> None:
    a, b = node("a"), node("b")
    await join(db, a)
    await join(db, b)
    user = await new_user(db)
    first = await acquire(db, user, a)
    assert isinstance(first, Acquired) and first.previous is None
    assert await acquire(db, user, b) == Elsewhere(a.id, "a", "http://a:8081")
    again = await acquire(db, user, a)  # asking again keeps the token
    assert again == Acquired(first.token, None)


async def test_a_node_whose_row_expired_owns_nothing(db: Database) -> None:
    a = node("a")
    await join(db, a, ttl=0.05)
    await trio.sleep(0.1)
    assert await acquire(db, await new_user(db), a) == NotAlive()
    assert await db.run(lambda conn: renew_tx(conn, a.id, 30)) is False


async def test_an_expired_owner_is_taken_over_with_a_new_token_and_fenced(db: Database) -> None:
    a, b = node("a"), node("b")
    await join(db, a, ttl=0.3)
    await join(db, b)
    user = await new_user(db)
    held = await acquire(db, user, a)
    assert isinstance(held, Acquired)
    await db.run(lambda conn: fence_tx(conn, user, a.id, held.token))  # a may write
    await trio.sleep(0.4)
    taken = await acquire(db, user, b)
    assert isinstance(taken, Acquired)
    assert taken.previous == a.id and taken.token > held.token
    with pytest.raises(Fenced):
        await db.run(lambda conn: fence_tx(conn, user, a.id, held.token))
    await db.run(lambda conn: fence_tx(conn, user, b.id, taken.token))


async def test_a_live_owner_keeps_its_users_however_many_ask(db: Database) -> None:
    nodes = [node(f"n{i}") for i in range(5)]
    for each in nodes:
        await join(db, each)
    user = await new_user(db)
    answers: list[object] = []

    async def ask(who: NodeIdentity) -> None:
        answers.append(await acquire(db, user, who))

    async with trio.open_nursery() as nursery:
        for each in nodes * 4:
            nursery.start_soon(ask, each)
    owners = [a for a in answers if isinstance(a, Acquired)]
    assert len({a.token for a in owners}) == 1  # one owner, one token
    assert all(isinstance(a, Acquired | Elsewhere) for a in answers)


async def test_a_node_whose_process_died_is_dead_once_it_missed_two_renewals(
    db: Database, db_url: str
) -> None:
    """Its session lock goes with its connection: no waiting for the row to expire, only for
    the renewal it would have made (a live node that lost its connection fences itself then)."""
    a, b = node("a"), node("b")
    conn = await holding_its_lock(db_url, a)
    await join(db, a, ttl=600)
    await join(db, b)
    silent = 0.3
    assert await db.run(lambda c: dead_nodes_tx(c, b.id, silent)) == []  # a's lock is held
    await trio.to_thread.run_sync(conn.close)  # what kill -9 does to its connections
    assert await db.run(lambda c: dead_nodes_tx(c, b.id, silent)) == []  # renewed just now
    await trio.sleep(silent + 0.1)
    assert await db.run(lambda c: dead_nodes_tx(c, b.id, silent)) == [(a.id, "a")]


async def test_a_silent_node_holding_its_lock_lives_until_its_row_expires(
    db: Database, db_url: str
) -> None:
    """Paused, or cut off without the database noticing: its lock is held, so only the
    expiry (which the node's own term never outlasts) frees its users."""
    a, b = node("a"), node("b")
    conn = await holding_its_lock(db_url, a)
    await join(db, a, ttl=0.6)
    await join(db, b)
    await trio.sleep(0.3)
    assert await db.run(lambda c: dead_nodes_tx(c, b.id, 0.1)) == []  # silent, but locked
    await trio.sleep(0.4)
    assert await db.run(lambda c: dead_nodes_tx(c, b.id, 0.1)) == [(a.id, "a")]  # expired
    await trio.to_thread.run_sync(conn.close)


@given(
    sent=st.floats(min_value=0, max_value=1e6),
    ttl=st.floats(min_value=0.5, max_value=60),
)
def test_a_node_trusts_its_leases_for_less_than_the_database_grants(
    sent: float, ttl: float
) -> None:
    term = Term(ttl=ttl, margin=ttl / 6)
    assert sent < term.valid_until(sent) < sent + ttl


async def test_import_jobs_run_on_the_node_that_owns_their_user(
    db: Database, clock: ManualClock
) -> None:
    a, b = node("a"), node("b")
    await join(db, a)
    await join(db, b)

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user)

    user, account = await db.run(setup)
    now = clock.now()
    await db.run(lambda c: queue.enqueue(c, user, account, "manual", now))
    assert isinstance(await acquire(db, user, a), Acquired)
    assert await db.run(lambda c: queue.claim(c, "b-worker", now, b.id)) is None
    job = await db.run(lambda c: queue.claim(c, "a-worker", now, a.id))
    assert job is not None and job.user_id == user
