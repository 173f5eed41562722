"""Helpers of the realtime tests: WebSocket clients, publishing, collecting a stream."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import psycopg
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from actors.realtime.core import Realtime
from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.realtime import events
from testudo.realtime.settings import RealtimeSettings

WAIT = 15  # a hang guard only: every wait below ends as soon as the awaited thing happens


@asynccontextmanager
async def connect(
    url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[WebSocketConnection]:
    extra = list((headers or {}).items())
    async with open_websocket_url(url + "/ws", extra_headers=extra) as ws:
        yield ws


async def send(ws: WebSocketConnection, message: Any) -> None:
    await ws.send_message(message if isinstance(message, str) else json.dumps(message))


async def receive(ws: WebSocketConnection, timeout: float = WAIT) -> dict[str, Any]:
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())  # type: ignore[no-any-return]


async def request(ws: WebSocketConnection, message: Any) -> dict[str, Any]:
    """Send a request and return its answer (the next non-event frame)."""
    await send(ws, message)
    while True:
        frame = await receive(ws)
        if "stream" not in frame:
            return frame


async def subscribe(
    ws: WebSocketConnection, *channels: str, since: dict[str, int] | None = None, id: int = 1
) -> dict[str, Any]:
    message: dict[str, Any] = {"method": "SUBSCRIBE", "params": list(channels), "id": id}
    if since is not None:
        message["since"] = since
    return await request(ws, message)


async def publish(db: Database, stream: str, payload: Any) -> int:
    return await db.run(lambda conn: events.publish(conn, stream, payload))


async def seqs(ws: WebSocketConnection, stream: str, until: int) -> list[int]:
    """Sequences received on ``stream`` until ``until`` arrives (checks the frame shape)."""
    got: list[int] = []
    with trio.fail_after(WAIT):
        while not got or got[-1] < until:
            frame = json.loads(await ws.get_message())
            if frame.get("stream") != stream:
                continue
            assert set(frame) == {"stream", "data"}
            got.append(frame["data"]["seq"])
    return got


async def closed_with(ws: WebSocketConnection) -> tuple[int, list[dict[str, Any]]]:
    """Read until the server closes; the close code and every frame received before."""
    frames = []
    try:
        with trio.fail_after(WAIT):
            while True:
                frames.append(json.loads(await ws.get_message()))
    except ConnectionClosed as closed:
        assert closed.reason is not None
        return closed.reason.code, frames


def publish_sync(
    url: str, stream: str, count: int, start: int = 0, size: int = 0, per_tx: int = 1
) -> None:
    """Publish ``count`` events, ``per_tx`` per transaction, from a worker thread."""
    with psycopg.connect(url, autocommit=False) as conn:
        for i in range(start, start + count):
            conn.execute(
                "SELECT publish_event(%s, %s::jsonb)",
                (stream, json.dumps({"e": "test", "i": i, "pad": "x" * size})),
            )
            if (i - start + 1) % per_tx == 0:
                conn.commit()
        conn.commit()


def user_channel(session: Any, kind: str = "order") -> str:
    return f"{kind}.{session.user['id']}"


async def start_service(
    nursery: trio.Nursery,
    db_url: str,
    data_dir: Path,
    clock: ManualClock,
    realtime: RealtimeSettings | None = None,
    **overrides: Any,
) -> Running:
    """One more whole service in ``nursery`` (like the ``service`` fixture, with overrides)."""
    settings = make_settings(db_url, data_dir)
    if realtime is not None:
        overrides["realtime"] = realtime
    settings = attrs.evolve(settings, **overrides)
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    return running


def realtime_of(running: Running) -> Realtime:
    assert running.system.realtime is not None
    return running.system.realtime
