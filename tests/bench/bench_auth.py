"""Sign-in throughput (nonce + verify + session) and the cost of authentication per request."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import httpx
import pytest
import trio

from tests.auth.helpers import Wallet, sign_in
from tests.conftest import make_settings
from testudo.clock import SystemClock
from testudo.service import Running, run_service

from .harness import load, report

SIGN_INS = int(os.environ.get("BENCH_SIGN_INS", "100"))
DURATION = float(os.environ.get("BENCH_DURATION", "5"))


@pytest.mark.bench
async def test_sign_in_throughput_and_auth_overhead(
    nursery: trio.Nursery, db_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    settings = make_settings(db_url, tmp_path / "data")
    service: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    wallets = [Wallet() for _ in range(SIGN_INS)]
    async with httpx.AsyncClient(base_url=service.http_url, timeout=60) as http:
        began = time.perf_counter()
        sessions = [await sign_in(http, wallet, clock.now()) for wallet in wallets]
        sequential = time.perf_counter() - began

        done: list[object] = []

        async def one(wallet: Wallet) -> None:
            done.append(await sign_in(http, wallet, clock.now()))

        began = time.perf_counter()
        async with trio.open_nursery() as crowd:
            for wallet in wallets:
                crowd.start_soon(one, wallet)
        concurrent = time.perf_counter() - began
    token = sessions[0].access
    # The server shares this process: run the (blocking) load generator from a thread.
    health = await trio.to_thread.run_sync(load, service.http_url + "/api/v1/health", 32, DURATION)
    me = await trio.to_thread.run_sync(
        functools.partial(
            load,
            service.http_url + "/api/v1/auth/me",
            32,
            DURATION,
            headers=(f"Authorization: Bearer {token}",),
        )
    )
    assert health["errors"] == 0 and me["errors"] == 0
    report(
        "auth_signin",
        [
            {
                "path": "sign-in, one at a time",
                "per_s": round(SIGN_INS / sequential, 1),
                "ms_each": round(sequential / SIGN_INS * 1000, 1),
            },
            {
                "path": f"sign-in, {SIGN_INS} concurrent",
                "per_s": round(SIGN_INS / concurrent, 1),
                "ms_each": round(concurrent / SIGN_INS * 1000, 1),
            },
        ],
        ["path", "per_s", "ms_each"],
    )
    report(
        "auth_overhead",
        [
            {
                "path": "GET /api/v1/health",
                "rps": health["rps"],
                "p50_ms": health["p50_ms"],
                "ratio": 1.0,
            },
            {
                "path": "GET /api/v1/auth/me (bearer)",
                "rps": me["rps"],
                "p50_ms": me["p50_ms"],
                "ratio": round(me["rps"] / health["rps"], 2),
            },
        ],
        ["path", "rps", "p50_ms", "ratio"],
    )
    service.shutdown()
