"""Nothing lost, nothing duplicated: listener loss, slow consumers, conflation."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import trio
import trio.lowlevel
from trio_websocket import WebSocketConnection, wrap_client_stream

from actors.realtime.pg_listener import Status
from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.realtime.settings import RealtimeSettings

from .support import (
    WAIT,
    closed_with,
    connect,
    publish_sync,
    realtime_of,
    request,
    seqs,
    start_service,
    subscribe,
    user_channel,
)


@asynccontextmanager
async def slow_client(
    nursery: trio.Nursery, ws_url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[WebSocketConnection]:
    """A client with a tiny receive buffer that reads only when the test says so."""
    parts = urlsplit(ws_url)
    assert parts.hostname is not None and parts.port is not None
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    await sock.connect((parts.hostname, parts.port))
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    ws = await wrap_client_stream(
        nursery,
        trio.SocketStream(sock),
        parts.hostname,
        "/ws",
        extra_headers=extra,
        message_queue_size=1,
    )
    try:
        yield ws
    finally:
        await ws.aclose()


async def test_killing_the_listener_mid_stream_loses_and_duplicates_nothing(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database, db_url: str
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    async with connect(service.ws_url, session.bearer()) as steady:
        await subscribe(steady, stream)
        await trio.to_thread.run_sync(publish_sync, db_url, stream, 100)
        received = await seqs(steady, stream, 100)
        killed = await db.fetch_all(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        assert killed and all(row["ok"] for row in killed)
        # These commit while the hub's LISTEN connection is down or just back: their NOTIFYs
        # are lost and the hub must read them from the table.
        await trio.to_thread.run_sync(publish_sync, db_url, stream, 300, 100)
        async with connect(service.ws_url, session.bearer()) as first:
            await subscribe(first, stream, since={stream: 0})
            before_drop = await seqs(first, stream, 150)
        async with connect(service.ws_url, session.bearer()) as resumed:
            await subscribe(resumed, stream, since={stream: before_drop[-1]})
            after_drop = await seqs(resumed, stream, 400)
        received += await seqs(steady, stream, 400)
    assert received == list(range(1, 401))
    assert before_drop + after_drop == list(range(1, 401))
    status = await service.system.listener.ask(Status())
    assert status.reconnects >= 1 and status.connected


async def test_a_slow_consumer_is_closed_and_resumes_while_others_keep_up(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = RealtimeSettings(market_data=False, send_queue=64, close_timeout=60)
    running = await start_service(nursery, db_url, tmp_path / "data", clock, realtime=settings)
    router = realtime_of(running).router
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    fast_seqs: list[int] = []
    async with (
        slow_client(nursery, running.ws_url, session.bearer()) as slow,
        connect(running.ws_url, session.bearer()) as fast,
    ):
        await subscribe(slow, stream)
        await subscribe(fast, stream)
        published = 0

        def slow_closed() -> bool:
            return any(sink.outbox.closed for sink in router.sinks(stream))

        # Batches smaller than the send queue, each read by the fast client before the next:
        # it never lags more than one batch, while the slow client's buffers and queue fill.
        while not slow_closed() and published < 20_000:
            await trio.to_thread.run_sync(publish_sync, db_url, stream, 50, published, 6000, 50)
            published += 50
            fast_seqs += await seqs(fast, stream, published)
        assert slow_closed()
        code, frames = await closed_with(slow)
        assert code == 1013
        got = [frame["data"]["seq"] for frame in frames]
        assert got == list(range(1, len(got) + 1)) and len(got) < published
        assert fast_seqs == list(range(1, published + 1))
        # The fast client is unaffected and still connected.
        still = await request(fast, {"method": "LIST_SUBSCRIPTIONS", "id": 9})
        assert still == {"result": [stream], "id": 9}
    async with connect(running.ws_url, session.bearer()) as resumed:
        await subscribe(resumed, stream, since={stream: got[-1]})
        assert await seqs(resumed, stream, published) == list(range(got[-1] + 1, published + 1))
    running.shutdown()


async def test_public_streams_conflate_for_a_slow_client(
    nursery: trio.Nursery, service: Running
) -> None:
    router = realtime_of(service).router
    total = 20_000
    async with slow_client(nursery, service.ws_url) as slow:
        assert await subscribe(slow, "ticker.BTC_USDT") == {"result": None, "id": 1}
        for i in range(total):
            router.publish_public("ticker.BTC_USDT", {"e": "24hrTicker", "i": i, "pad": "x" * 2000})
            if i % 100 == 0:
                await trio.lowlevel.checkpoint()  # let the writer run and fill the socket buffers
        seen: list[int] = []
        with trio.fail_after(WAIT):
            while not seen or seen[-1] != total - 1:
                seen.append(json.loads(await slow.get_message())["data"]["i"])
        assert seen == sorted(set(seen)) and len(seen) < total  # latest state, not a backlog
        still = await request(slow, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert still == {"result": ["ticker.BTC_USDT"], "id": 2}
