"""Open files under 300 keep-alive connections that got an early answer, with and without
api/keepalive.py (same run, same machine).

Each connection sends the headers of a body-carrying request refused before its body is read
(401), the body a few milliseconds later, then a second request; the client keeps the socket
open, as a pooled HTTP client would. Counted: the service's open files (this process's
descriptors minus the client's sockets) at start, with the 300 connections open, and after
the 5-second keep-alive timeout.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import trio

import api.process
from api.process import Running, run_service
from tests.adversarial.rawhttp import RawConnection, request_head
from tests.adversarial.test_soak import open_files, server_connections
from tests.support import make_settings
from testudo.clock import SystemClock

from .harness import report

CONNECTIONS = 300
BODY = b'{"symbol": "BTC_USDT"}'
HEAD = {"Content-Type": "application/json", "Content-Length": str(len(BODY))}


async def _early_answers(base_url: str, kept: list[RawConnection]) -> int:
    answered = 0
    for _ in range(CONNECTIONS):
        conn = await RawConnection.open(base_url)
        kept.append(conn)
        await conn.send(request_head("POST", "/api/v1/trades", HEAD))
        await trio.sleep(0.002)
        await conn.send(BODY + request_head("GET", "/api/v1/health", {}))
        first = await conn.response()
        answered += first is not None
    return answered


async def _measure(settings: Any, guarded: bool) -> dict[str, Any]:
    kept: list[RawConnection] = []
    async with trio.open_nursery() as nursery:
        service: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=SystemClock())
        )
        port = int(service.http_url.rsplit(":", 1)[1])
        start = open_files()
        await _early_answers(service.http_url, kept)
        during = open_files() - len(kept)
        await trio.sleep(7)  # past the 5 s keep-alive timeout
        after = open_files() - len(kept)
        left = server_connections(port)
        for conn in kept:
            await conn.aclose()
        service.shutdown()
    return {
        "server": "with KeepAliveGuard" if guarded else "without (before)",
        "open_files_start": start,
        "with_300_open": during,
        "after_keepalive_timeout": after,
        "server_connections_left": left,
    }


@pytest.mark.bench
async def test_open_files_under_early_answers(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(db_url, tmp_path / "data")
    rows = [await _measure(settings, guarded=True)]
    monkeypatch.setattr(api.process, "KeepAliveGuard", lambda app: app)
    rows.append(await _measure(settings, guarded=False))
    report(
        "keepalive_open_files",
        rows,
        [
            "server",
            "open_files_start",
            "with_300_open",
            "after_keepalive_timeout",
            "server_connections_left",
        ],
    )
    assert rows[0]["server_connections_left"] == 0
