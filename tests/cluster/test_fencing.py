"""Fencing: a node that lost a user's lease writes nothing for it, even while it still
believes it owns the user (a pause, a slow clock), because the database checks the token."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
import trio

from actors.cluster.leases import ClusterLeases, Local
from testudo.cluster.leases import Fenced, Term
from testudo.db import Database

from .test_lease_sql import join, new_user, node


async def test_a_taken_over_lease_fences_writes_the_old_owner_still_believes_in(
    db: Database, db_url: str
) -> None:
    a_node, b_node = node("a"), node("b")
    await join(db, a_node, ttl=0.3)
    await join(db, b_node)
    a = ClusterLeases(db, db_url, a_node, Term(ttl=0.3, margin=0.05))
    b = ClusterLeases(db, db_url, b_node, Term(ttl=30, margin=5))
    b.confirmed(time.monotonic() + 25)
    a.confirmed(time.monotonic() + 1000)  # a was paused: it has not noticed anything yet
    user = await new_user(db)
    assert isinstance(await a.owner(user), Local)
    await trio.sleep(0.4)  # a's row expires; b takes the user over
    assert isinstance(await b.owner(user), Local) and b.takeovers == 1
    assert a.holds(user)  # a still believes it owns the user ...
    written: list[Any] = []
    with pytest.raises(Fenced):  # ... but the database refuses its write
        await a.fenced_run(user, lambda conn: written.append(conn))
    assert written == []
    await b.fenced_run(user, lambda conn: written.append("b"))
    assert written == ["b"]


async def test_a_node_past_its_term_sends_and_writes_nothing(db: Database, db_url: str) -> None:
    a_node = node("a")
    await join(db, a_node)
    a = ClusterLeases(db, db_url, a_node, Term(ttl=30, margin=5))
    a.confirmed(time.monotonic() + 25)
    user = await new_user(db)
    assert isinstance(await a.owner(user), Local)
    a.check_write(user)  # within its term: may send
    a.confirmed(time.monotonic() - 0.001)  # no renewal heard within the term
    with pytest.raises(Fenced):
        a.check_write(user)
    with pytest.raises(Fenced):
        await a.fenced_run(user, lambda conn: None)
    assert not isinstance(await a.owner(user), Local)


async def test_losing_the_leases_stops_the_users_actors_before_anything_else(
    db: Database, db_url: str
) -> None:
    a_node = node("a")
    await join(db, a_node)
    a = ClusterLeases(db, db_url, a_node, Term(ttl=30, margin=5))
    a.confirmed(time.monotonic() + 25)
    users = sorted([await new_user(db), await new_user(db)])
    for user in users:
        await a.owner(user)
    seen: list[tuple[list[str], bool]] = []

    async def stop(user_ids: list[str]) -> None:
        seen.append((user_ids, any(a.holds(u) for u in user_ids)))

    a.on_lost(stop)
    assert await a.lose_all("lease expired") == users
    assert seen == [(users, False)]  # the hooks ran with every lease already forgotten


async def test_a_node_paused_mid_transaction_does_not_block_the_new_owner(db_url: str) -> None:
    """A process frozen inside a transaction holds its row locks; the server ends its session
    once it sits idle in the transaction, so the node that took over can write."""
    frozen_db = Database(db_url, max_size=1, idle_in_transaction_ms=300)
    new_owner = Database(db_url, max_size=1)
    await frozen_db.open()
    await new_owner.open()
    try:
        user = await new_user(new_owner)
        locked = trio.Event()

        def freeze_holding_the_row(conn: Any) -> None:
            conn.execute("UPDATE users SET is_active = true WHERE id = %s", (user,))
            trio.from_thread.run_sync(locked.set)
            time.sleep(2)  # frozen: the server sees an idle transaction

        async def frozen() -> None:
            with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):  # ended meanwhile
                await frozen_db.run(freeze_holding_the_row)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(frozen)
            await locked.wait()
            began = time.monotonic()
            await new_owner.execute("UPDATE users SET is_active = true WHERE id = %s", (user,))
            waited = time.monotonic() - began
        assert waited < 1.5  # not the 2 s of the freeze
    finally:
        await frozen_db.close()
        await new_owner.close()
