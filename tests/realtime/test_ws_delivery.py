"""Private streams end to end: committed transaction → NOTIFY → hub → WebSocket client."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.realtime import events

from .support import (
    WAIT,
    closed_with,
    connect,
    publish,
    publish_sync,
    realtime_of,
    receive,
    request,
    seqs,
    subscribe,
    user_channel,
)


async def test_a_committed_event_reaches_its_subscriber(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    async with connect(service.ws_url, session.bearer()) as ws:
        assert await subscribe(ws, stream) == {"result": None, "id": 1}

        def rolled_back(conn: events.Conn) -> None:
            events.publish(conn, stream, {"e": "never"})
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await db.run(rolled_back)

        def order_filled(conn: events.Conn) -> int:
            conn.execute("CREATE TEMP TABLE fills (id int)")  # the change the event describes
            conn.execute("INSERT INTO fills VALUES (1)")
            return events.publish(conn, stream, {"e": "order_update", "s": "BTC_USDT"})

        assert await db.run(order_filled) == 1  # the rolled-back event took no sequence
        frame = await receive(ws)
        assert frame == {
            "stream": stream,
            "data": {"e": "order_update", "s": "BTC_USDT", "seq": 1},
        }


async def test_an_event_too_big_for_notify_is_read_from_the_table(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session, "balance")
    async with connect(service.ws_url, session.bearer()) as ws:
        await subscribe(ws, stream)
        big = {"e": "balance_update", "rows": ["x" * 100] * 700}  # 70 kB: a hint NOTIFY
        await publish(db, stream, big)
        await publish(db, stream, {"e": "small"})
        first, second = await receive(ws), await receive(ws)
    assert first == {"stream": stream, "data": {**big, "seq": 1}}
    assert second["data"] == {"e": "small", "seq": 2}


async def test_resume_replays_after_since_exactly_once_then_goes_live(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database, db_url: str
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    await trio.to_thread.run_sync(publish_sync, db_url, stream, 30)
    async with connect(service.ws_url, session.bearer()) as ws:
        ack = await subscribe(ws, stream, since={stream: 10})
        assert ack == {"result": None, "id": 1}
        assert await seqs(ws, stream, 30) == list(range(11, 31))
        await trio.to_thread.run_sync(publish_sync, db_url, stream, 5, 30)
        assert await seqs(ws, stream, 35) == list(range(31, 36))


async def test_no_gap_or_duplicate_at_the_replay_live_boundary(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db_url: str
) -> None:
    """Events commit continuously while clients resume from various points."""
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    total = 300
    async with trio.open_nursery() as nursery:
        done = trio.Event()

        async def publisher() -> None:
            await trio.to_thread.run_sync(publish_sync, db_url, stream, total)
            done.set()

        nursery.start_soon(publisher)
        for since in (0, 5, 40):
            async with connect(service.ws_url, session.bearer()) as ws:
                await trio.sleep(0.05)  # let more events commit between the clients
                await subscribe(ws, stream, since={stream: since})
                assert await seqs(ws, stream, total) == list(range(since + 1, total + 1))
        with trio.fail_after(WAIT):
            await done.wait()


async def test_a_client_that_resumes_from_the_future_must_resync(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    await publish(db, stream, {"e": "one"})
    async with connect(service.ws_url, session.bearer()) as ws:
        answer = await subscribe(ws, stream, since={stream: 7})
        assert answer["error"]["code"] == 9 and "its last is 1" in answer["error"]["msg"]
        assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2}) == {
            "result": [],
            "id": 2,
        }


async def test_revoking_the_session_closes_its_connections(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    other = await sign_in(http, Wallet(), clock.now())
    async with (
        connect(service.ws_url, session.bearer()) as ws,
        connect(service.ws_url, other.bearer()) as bystander,
        connect(service.ws_url) as anonymous,
    ):
        await subscribe(ws, user_channel(session))
        authed = await request(anonymous, {"method": "AUTH", "params": [session.access], "id": 5})
        assert authed == {"result": {"user_id": session.user["id"]}, "id": 5}
        logout = await http.post("/api/v1/auth/logout", headers=session.bearer())
        assert logout.status_code == 200
        assert (await closed_with(ws))[0] == 4401
        assert (await closed_with(anonymous))[0] == 4401
        still = await request(bystander, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert still == {"result": [], "id": 1}


def test_event_frames_are_compact_json_with_seq_in_data() -> None:
    text = events.frame("order.x", 3, {"e": "a"})
    assert json.loads(text) == {"stream": "order.x", "data": {"e": "a", "seq": 3}}
    assert events.frame("order.x", 4, [1]) == '{"stream":"order.x","data":{"value":[1],"seq":4}}'


class _DatabaseDown:
    async def run(self, work: object) -> object:
        raise psycopg.OperationalError("connection refused")


async def test_an_unavailable_event_log_is_an_internal_error_not_a_silent_gap(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    realtime = realtime_of(service)
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    async with connect(service.ws_url, session.bearer()) as ws:
        realtime.db, working = _DatabaseDown(), realtime.db  # type: ignore[assignment]
        try:
            resumed = await subscribe(ws, stream, since={stream: 0})
            fresh = await subscribe(ws, stream, id=2)
        finally:
            realtime.db = working
        assert resumed["error"]["code"] == 10 and fresh["error"]["code"] == 10
        assert await subscribe(ws, stream, id=3) == {"result": None, "id": 3}
