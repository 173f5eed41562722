"""Several processes on one database, a database restart, retention."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import trio

from actors.realtime.event_pruner import PruneNow
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.db.embedded import EmbeddedPostgres
from testudo.realtime import events

from .support import (
    WAIT,
    connect,
    publish,
    realtime_of,
    receive,
    request,
    seqs,
    start_service,
    subscribe,
    user_channel,
)

SECRET = "realtime-cluster-test-secret-0123456789abcdef"
MASTER_KEY = "5e" * 32


async def test_two_processes_on_one_database_deliver_each_others_events(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with trio.open_nursery() as nursery:
        shared = {"jwt_secret": SECRET, "master_key": MASTER_KEY}  # one cluster, one identity
        a = await start_service(nursery, db_url, tmp_path / "a", clock, **shared)
        b = await start_service(nursery, db_url, tmp_path / "b", clock, **shared)
        async with httpx.AsyncClient(base_url=a.http_url) as http:
            session = await sign_in(http, Wallet(), clock.now())
        stream = user_channel(session)
        async with (
            connect(a.ws_url, session.bearer()) as on_a,
            connect(b.ws_url, session.bearer()) as on_b,
        ):
            await subscribe(on_a, stream)
            await subscribe(on_b, stream)
            await publish(a.system.db, stream, {"e": "from_a"})
            await publish(b.system.db, stream, {"e": "from_b"})
            for ws in (on_a, on_b):
                first, second = await receive(ws), await receive(ws)
                assert [first["data"], second["data"]] == [
                    {"e": "from_a", "seq": 1},
                    {"e": "from_b", "seq": 2},
                ]
        # A client that saw seq 2 on node A resumes on node B.
        await publish(a.system.db, stream, {"e": "while_away"})
        async with connect(b.ws_url, session.bearer()) as moved:
            await subscribe(moved, stream, since={stream: 2})
            assert (await receive(moved))["data"] == {"e": "while_away", "seq": 3}
        a.shutdown()
        b.shutdown()


def publish_through_restarts(url: str, stream: str, count: int) -> None:
    """Publish ``count`` events one per transaction, reconnecting while the server restarts."""
    published = 0
    conn: psycopg.Connection | None = None
    deadline = time.monotonic() + WAIT
    while published < count:
        try:
            if conn is None:
                conn = psycopg.connect(url, autocommit=False)
            conn.execute("SELECT publish_event(%s, %s::jsonb)", (stream, '{"e": "x"}'))
            conn.commit()
            published += 1
            deadline = time.monotonic() + WAIT  # only an outage longer than WAIT fails
            time.sleep(0.002)  # spread the events over the restart
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            conn = None
            time.sleep(0.05)  # an event whose commit was lost may or may not exist: counted below
    if conn is not None:
        conn.close()


async def test_a_database_restart_mid_stream_loses_and_duplicates_nothing(
    clock: ManualClock,
) -> None:
    """On a dedicated embedded server, so restarting it disturbs no other test."""
    folder = _server_folder()
    embedded = EmbeddedPostgres(folder)
    url = await embedded.start()
    try:
        async with trio.open_nursery() as nursery:
            running = await start_service(nursery, url, folder / "data", clock)
            async with httpx.AsyncClient(base_url=running.http_url) as http:
                session = await sign_in(http, Wallet(), clock.now())
            stream = user_channel(session)
            async with connect(running.ws_url, session.bearer()) as steady:
                await subscribe(steady, stream)
                async with trio.open_nursery() as work:
                    work.start_soon(
                        trio.to_thread.run_sync, publish_through_restarts, url, stream, 600
                    )
                    before = await seqs(steady, stream, 100)
                    await trio.to_thread.run_sync(embedded.pg_ctl, "-w", "restart", "-m", "fast")
                with psycopg.connect(url) as conn:
                    row = conn.execute(
                        "SELECT count(*), max(seq) FROM events WHERE stream = %s", (stream,)
                    ).fetchone()
                assert row is not None and row[0] == row[1] >= 600  # gapless in the table
                total = row[1]
                received = before + await seqs(steady, stream, total)
                assert received == list(range(1, total + 1))
            # A client resuming after the restart gets the rest exactly once, from the table.
            resumed = await _subscribe_retrying(running.ws_url, session, stream, 50, total)
            assert resumed == list(range(51, total + 1))
            running.shutdown()
    finally:
        await embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _server_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="testudo-restart-", dir="/tmp"))
    folder.chmod(0o755)  # the embedded server's own user must reach it when run as root
    return folder


async def _subscribe_retrying(
    ws_url: str, session: object, stream: str, since: int, until: int
) -> list[int]:
    """Resume ``stream``; the pool may hand out a connection killed by the restart once."""
    with trio.fail_after(WAIT):
        while True:
            async with connect(ws_url, session.bearer()) as ws:  # type: ignore[attr-defined]
                answer = await subscribe(ws, stream, since={stream: since})
                if "error" not in answer:
                    return await seqs(ws, stream, until)
                assert answer["error"]["code"] == 10  # the event log was briefly unavailable
            await trio.sleep(0.1)


async def test_events_past_retention_are_pruned_and_resuming_before_them_needs_a_resync(
    service: object, http: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    realtime = realtime_of(service)  # type: ignore[arg-type]
    wallet = Wallet()
    stream = user_channel(await sign_in(http, wallet, clock.now()))
    for i in range(5):
        await publish(db, stream, {"i": i})
    await db.execute(
        "UPDATE events SET created_at = created_at - interval '1 day' * (5 - seq) "
        "WHERE stream = %s",
        (stream,),
    )  # seq 1 is 4 days older than seq 5
    assert realtime.pruner is not None
    clock.advance(5.5 * 86_400)  # the cut-off is 1.5 days ago: seqs 1-3 are past the retention
    assert await realtime.pruner.ask(PruneNow()) == 3
    heads = await db.run(lambda conn: events.heads(conn, [stream]))
    assert heads[stream] == events.Head(last_seq=5, pruned_through=3)
    session = await sign_in(http, wallet, clock.now())  # the first access token has expired
    async with connect(service.ws_url, session.bearer()) as ws:  # type: ignore[attr-defined]
        answer = await subscribe(ws, stream, since={stream: 2})
        assert answer["error"]["code"] == 9 and "retention" in answer["error"]["msg"]
        assert await subscribe(ws, stream, since={stream: 3}, id=2) == {"result": None, "id": 2}
        assert await seqs(ws, stream, 5) == [4, 5]
        listed = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3})
        assert listed == {"result": [stream], "id": 3}
