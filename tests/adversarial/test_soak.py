"""A bounded soak: mixed valid and hostile traffic; memory and open files come back.

The service runs in this process, so its open files and resident memory are this process's.
A first round warms every path up (imports, caches, pools); the baseline is taken after it.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import httpx
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock

from .images import gif_bomb
from .rawhttp import RawConnection, request_head

ROUNDS = int(os.environ.get("TESTUDO_SOAK_ROUNDS", "60"))  # about 25 requests each
FD_SLACK = 8
RSS_SLACK = 48 * 1024 * 1024


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def server_connections(port: int) -> int:
    """Established TCP connections whose local end is ``port`` (the server's side only)."""
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                count += 1
    return count


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _early_answer(base_url: str, kept: list[RawConnection]) -> None:
    """Headers, the body a little later, a second request; the client keeps the socket open
    (as a pooled client would): only the server's keep-alive timer may close it."""
    conn = await RawConnection.open(base_url)
    kept.append(conn)
    body = b'{"symbol": "BTC_USDT"}'
    head = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    await conn.send(request_head("POST", "/api/v1/trades", head))
    await trio.sleep(0.005)
    await conn.send(body + request_head("GET", "/api/v1/health", {}))
    assert (await conn.response()) is not None


async def _round(
    http: httpx.AsyncClient,
    base_url: str,
    bearer: dict[str, str],
    bomb: bytes,
    kept: list[RawConnection],
) -> None:
    ok = [
        await http.get("/api/v1/auth/me", headers=bearer),
        await http.get("/api/v1/journal/trades", headers=bearer),
        await http.post(
            "/api/v1/journal/entries", json={"title": "t", "body": "b"}, headers=bearer
        ),
        await http.get("/api/v1/risk-config", headers=bearer),
    ]
    assert all(r.status_code < 300 for r in ok), [r.text for r in ok]
    hostile = [
        await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer forged"}),
        await http.post(
            "/api/v1/trades",
            json={"symbol": "BTC_USDT", "side": "buy", "quantity": "1E+1000000"},
            headers=bearer,
        ),
        await http.post(
            "/api/v1/journal/entries",
            content=b'{"title": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            headers={**bearer, "Content-Type": "application/json"},
        ),
        await http.get("/api/v1/journal/trades", params={"symbol": "a\x00"}, headers=bearer),
        await http.post("/api/v1/journal/upload", files={"file": ("b.gif", bomb)}, headers=bearer),
        await http.post(
            "/api/v1/auth/verify-siwe", json={"message": "x" * 4000, "signature": "0x00"}
        ),
        await http.post("/api/v1/auth/extension-pair", json={"code": "000000"}),
        await http.put("/api/v1/health", content=b"x" * 2048),
    ]
    assert all(400 <= r.status_code < 500 for r in hostile), [r.status_code for r in hostile]
    for _ in range(3):
        await _early_answer(base_url, kept)


async def _settle(port: int, connections: int, files: int | None = None) -> None:
    """Wait (bounded) until the server has closed what it should have."""
    for _ in range(400):  # 20 s: the keep-alive timeout is 5 s
        if server_connections(port) <= connections and (files is None or open_files() <= files):
            return
        await trio.sleep(0.05)


async def test_memory_and_open_files_return_to_their_baseline(
    service: Running, clock: ManualClock
) -> None:
    bomb = gif_bomb()
    port = int(service.http_url.rsplit(":", 1)[1])
    kept: list[RawConnection] = []
    async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
        session = await sign_in(http, Wallet(), clock.now())
        for _ in range(3):
            await _round(http, service.http_url, session.bearer(), bomb, kept)
    await _settle(port, 0)
    for conn in kept:
        await conn.aclose()
    kept.clear()
    gc.collect()
    files, memory, connections = open_files(), rss(), server_connections(port)
    async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
        for i in range(ROUNDS):
            await _round(http, service.http_url, session.bearer(), bomb, kept)
            if i % 10 == 0:
                clock.advance(120)  # let the per-client pairing and token budgets refill
    peak = server_connections(port)
    await _settle(port, connections)
    assert server_connections(port) <= connections, (peak, server_connections(port))
    for conn in kept:
        await conn.aclose()
    gc.collect()
    await _settle(port, connections, files + FD_SLACK)
    assert open_files() <= files + FD_SLACK, (files, open_files())
    assert rss() <= memory + RSS_SLACK, (memory, rss())
    print(
        f"\nsoak: {ROUNDS} rounds, open files {files} -> {open_files()},"
        f" RSS {memory // 2**20} -> {rss() // 2**20} MiB, server connections peak {peak}"
    )
