"""``POST /trades`` end to end (Decision Loop + group actor + acknowledged entry on the
simulator) versus the same ccxt ``create_order`` made directly, in the same run.

Three processes, as in production: the exchange (``testudo sim``) and the client (this
process) on CPU 1, ``testudo serve`` on CPU 0. The direct baseline is the same ccxt call from
the client's process to the same simulator, so the ratio is what going through Testudo adds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import requests
import trio

from tests.auth.helpers import Wallet, sign_in
from tests.support import SIWE_DOMAIN, SIWE_URI
from testudo.sim.client import SimClient

from .harness import free_port, pin, report, server

ROUNDS = int(os.environ.get("BENCH_TRADE_ROUNDS", "60"))
EXCHANGE_LATENCY_MS = 25  # a venue in the same region, over the internet
PAUSE = float(os.environ.get("BENCH_TRADE_PAUSE", "0.3"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@contextlib.asynccontextmanager
async def simulator() -> AsyncIterator[SimClient]:
    """``testudo sim`` in its own process on CPU 1, driven over its control API."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "testudo.cli", "sim", "--sim-port", str(port)]
    cmd += ["--walk-interval", "0"]
    with server(cmd, f"{base}/_sim/prices") as proc:
        pin(proc.pid, 1)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield SimClient(cast(Any, SimpleNamespace(base_url=base)), http)


@pytest.mark.bench
async def test_post_trades_latency_vs_direct_create_order(db_url: str, tmp_path: Path) -> None:
    pin(os.getpid(), 1)
    async with simulator() as sim:
        port = free_port()
        cmd = [sys.executable, "-m", "testudo.cli", "serve", "--database-url", db_url]
        cmd += ["--data-dir", str(tmp_path), "--ws-port", "0", "--http-port", str(port)]
        cmd += ["--exchange-base-url", sim.base_url]
        cmd += ["--siwe-domain", SIWE_DOMAIN, "--siwe-uri", SIWE_URI]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
        env |= {"TESTUDO_LOG_LEVEL": "WARNING", "TESTUDO_EXCHANGE_RATE_LIMIT": "false"}
        base = f"http://127.0.0.1:{port}"
        with server(cmd, f"{base}/api/v1/health/ready", env=env):
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                rows = await measure(http, sim)
                sources = await snapshot_sources(http)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    report("trades", rows, ["path", "p50_ms", "p99_ms", "p50_ratio", "p99_ratio"])
    report("trades_snapshots", sources, ["source", "snapshots"])


async def snapshot_sources(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """How the account snapshots of the run were answered (kept funds, or fetched and why)."""
    text = (await http.get("/api/v1/metrics")).text
    rows = []
    for line in text.splitlines():
        if line.startswith("testudo_account_snapshots_total{"):
            labels, value = line.rsplit(" ", 1)
            source = labels.split('source="', 1)[1].split('"', 1)[0]
            rows.append({"source": source, "snapshots": int(float(value))})
    return rows


async def measure(http: httpx.AsyncClient, sim: SimClient) -> list[dict[str, Any]]:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(http, Wallet(), dt.datetime.now(dt.UTC))
    account = await sim.create_account("1000000")
    added = await http.post(
        "/api/v1/exchanges/accounts",
        headers=session.bearer(),
        json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
    )
    assert added.status_code == 201, added.text
    put = await http.put(
        "/api/v1/risk-config",
        headers=session.bearer(),
        json={"max_open_positions": 1000, "require_stop_loss": False, "min_risk_reward_ratio": "0"},
    )
    assert put.status_code == 200, put.text
    entry_only = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.002",
        "leverage": 5,
    }
    bracket = {**entry_only, "stop_loss_price": "40000", "take_profit": [{"price": "70000"}]}

    direct = sim.binance(await sim.create_account("1000000"))
    await trio.to_thread.run_sync(direct.load_markets)

    async def direct_order() -> None:
        await trio.to_thread.run_sync(
            lambda: direct.create_order("BTC/USDT:USDT", "market", "buy", 0.002)
        )

    # The timed requests use ccxt's own HTTP stack (requests, from a worker thread), so the
    # two sides differ only in what they call.
    api = requests.Session()
    api.headers.update(session.bearer())
    base = str(http.base_url).rstrip("/")

    def call(
        method: str, path: str, expected: int, body: Any = None
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            response = await trio.to_thread.run_sync(
                lambda: api.request(method, base + path, json=body, timeout=60)
            )
            assert response.status_code == expected, response.text

        return run

    async def keyed() -> None:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        response = await trio.to_thread.run_sync(
            lambda: api.post(base + "/api/v1/trades", json=entry_only, headers=key, timeout=60)
        )
        assert response.status_code == 201, response.text

    loopback = await timed(
        {
            "ccxt create_order, direct": direct_order,
            "GET /health": call("GET", "/api/v1/health", 200),
            "GET /auth/me": call("GET", "/api/v1/auth/me", 200),
            "POST /trades, invalid body (422)": call(
                "POST", "/api/v1/trades", 422, {**entry_only, "side": "up"}
            ),
            "POST /trades, entry only": call("POST", "/api/v1/trades", 201, entry_only),
            "POST /trades, entry + stop + target": call("POST", "/api/v1/trades", 201, bracket),
            "POST /trades, entry only, Idempotency-Key": keyed,
        },
        ROUNDS,
    )
    # The same, with the exchange EXCHANGE_LATENCY_MS away (every request to it delayed).
    await sim.set_fault("binanceusdm", "latency", latency_ms=EXCHANGE_LATENCY_MS)
    distant = await timed(
        {
            f"ccxt create_order, direct, exchange +{EXCHANGE_LATENCY_MS} ms": direct_order,
            f"POST /trades, entry only, exchange +{EXCHANGE_LATENCY_MS} ms": call(
                "POST", "/api/v1/trades", 201, entry_only
            ),
            f"POST /trades, entry + stop + target, exchange +{EXCHANGE_LATENCY_MS} ms": call(
                "POST", "/api/v1/trades", 201, bracket
            ),
        },
        ROUNDS // 2,
    )
    await sim.clear_faults()
    return [*loopback, *distant]


async def timed(
    paths: dict[str, Callable[[], Awaitable[None]]], rounds: int
) -> list[dict[str, Any]]:
    """p50/p99 of each path, interleaved round by round; ratios to the first path."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(3):  # warm-up
        for run in paths.values():
            await run()
            await trio.sleep(PAUSE)
    for _ in range(rounds):
        for name, run in paths.items():
            began = time.perf_counter()
            await run()
            samples[name].append(time.perf_counter() - began)
            await trio.sleep(PAUSE)
    rows: list[dict[str, Any]] = []
    for name, values in samples.items():
        rows.append(
            {
                "path": name,
                "p50_ms": round(statistics.median(values) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            }
        )
    for row in rows:
        row["p50_ratio"] = round(row["p50_ms"] / rows[0]["p50_ms"], 2)
        row["p99_ratio"] = round(row["p99_ms"] / rows[0]["p99_ms"], 2)
    return rows
