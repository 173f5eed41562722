"""The Postgres listener actor: delivery, LISTEN-before-catch-up, reconnect after a kill."""

from __future__ import annotations

import json

import psycopg
import trio

from actors import ChildSpec, Supervisor
from actors.realtime.pg_listener import Notification, PgListener, Reconnected, Status, Subscribe
from testudo.db import Database


async def start_listener(nursery: trio.Nursery, url: str):  # type: ignore[no-untyped-def]
    root = Supervisor("root")
    await nursery.start(root.run)
    return await root.start_child(ChildSpec("pg-listener", lambda: PgListener(url)))


async def wait_connected(listener) -> None:  # type: ignore[no-untyped-def]
    with trio.fail_after(10):
        while True:
            if (await listener.ask(Status())).connected:
                return
            await trio.sleep(0.02)


async def test_notifications_reach_subscribers(
    nursery: trio.Nursery, db_url: str, db: Database
) -> None:
    listener = await start_listener(nursery, db_url)
    send, receive = trio.open_memory_channel(100)
    await listener.ask(Subscribe("testudo_events", send))
    await wait_connected(listener)
    with trio.fail_after(5):
        first = await receive.receive()
    assert first == Reconnected()
    await db.execute("SELECT publish_event('order.u1', '{\"e\": \"x\"}'::jsonb)")
    with trio.fail_after(5):
        note = await receive.receive()
    assert isinstance(note, Notification) and note.channel == "testudo_events"
    assert json.loads(note.payload) == {"stream": "order.u1", "seq": 1, "data": {"e": "x"}}


async def test_listener_reconnects_after_its_connection_is_killed(
    nursery: trio.Nursery, db_url: str, db: Database
) -> None:
    listener = await start_listener(nursery, db_url)
    send, receive = trio.open_memory_channel(100)
    await listener.ask(Subscribe("chan_a", send))
    await wait_connected(listener)
    assert await receive.receive() == Reconnected()

    killed = await db.fetch_all(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    assert killed and all(row["ok"] for row in killed)
    with trio.fail_after(10):
        assert await receive.receive() == Reconnected()  # told to catch up
    status = await listener.ask(Status())
    assert status.reconnects == 1 and status.connected
    await db.execute("NOTIFY chan_a, 'after'")
    with trio.fail_after(5):
        assert await receive.receive() == Notification("chan_a", "after")


async def test_a_slow_subscriber_is_cut_off_not_blocking_others(
    nursery: trio.Nursery, db_url: str
) -> None:
    listener = await start_listener(nursery, db_url)
    slow_send, slow_receive = trio.open_memory_channel(1)
    fast_send, fast_receive = trio.open_memory_channel(100)
    await listener.ask(Subscribe("chan_b", slow_send))
    await listener.ask(Subscribe("chan_b", fast_send))
    await wait_connected(listener)

    def notify_many(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for i in range(20):
                conn.execute(f"NOTIFY chan_b, '{i}'")

    await trio.to_thread.run_sync(notify_many, db_url)
    got = []
    with trio.fail_after(5):
        async for item in fast_receive:
            if isinstance(item, Notification):
                got.append(item.payload)
            if len(got) == 20:
                break
    assert got == [str(i) for i in range(20)]
    items = [item async for item in slow_receive]  # ends: the listener closed it
    assert len(items) == 1


async def test_a_stopping_listener_ends_its_subscribers_channels(
    nursery: trio.Nursery, db_url: str
) -> None:
    """Subscribers then resubscribe to the next incarnation instead of waiting forever."""
    root = Supervisor("root")
    await nursery.start(root.run)
    listener = await root.start_child(ChildSpec("pg-listener", lambda: PgListener(db_url)))
    send, receive = trio.open_memory_channel(10)
    await listener.ask(Subscribe("chan_c", send))
    await root.stop_child("pg-listener")
    with trio.fail_after(5):
        items = [item async for item in receive]
    assert all(isinstance(item, Reconnected) for item in items)
