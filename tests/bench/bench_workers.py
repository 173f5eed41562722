"""``testudo serve --workers N``: ``GET /api/v1/health`` throughput of one plain process,
``--workers 1`` and ``--workers 2``, in the same run, with the ratio to the plain process.

Unlike ``bench_http.py`` nothing is pinned: the point is to use every core, so the servers and
the load generator (32 keep-alive connections, 1 s warm-up, 5 s measured) share the machine's
cores. On a 2-core machine the load generator takes about one of them, so ``--workers 2``
cannot reach 2x there; on a machine with more cores than workers plus load it can. The three
servers run side by side (idle until measured) and are measured in interleaved rounds
(``BENCH_ROUNDS``, default 3); each row is a configuration's median round.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from api.testing.database import PgServer, fresh_database
from api.testing.venues import credentials, venue_named
from tests.auth.helpers import Wallet, sign_in
from tests.support import SIWE_DOMAIN, SIWE_URI
from testudo.sim.client import SimClient

from .bench_trades import simulator
from .harness import free_port, load, report

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = float(os.environ.get("BENCH_DURATION", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def pids_answering(url: str, attempts: int = 20) -> set[int]:
    """The worker pids seen over ``attempts`` fresh connections (the kernel spreads them)."""
    seen: set[int] = set()
    for _ in range(attempts):
        with contextlib.suppress(httpx.HTTPError):
            seen.add(httpx.get(url, timeout=2).json()["pid"])
    return seen


@contextlib.contextmanager
def serving(cmd: list[str], url: str, processes: int, env: dict[str, str]) -> Iterator[None]:
    """Run ``cmd`` until the block ends, once ``processes`` distinct pids answer ``url``."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(pids_answering(url)) < processes:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd} did not become ready")
            time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_command(db_url: str, data_dir: Path, port: int, workers: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "testudo.cli", "serve", "--database-url", db_url]
    cmd += ["--data-dir", str(data_dir), "--ws-port", "0", "--http-port", str(port)]
    return cmd if workers is None else [*cmd, "--workers", str(workers)]


@pytest.mark.bench
def test_health_throughput_with_workers(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env["TESTUDO_LOG_LEVEL"] = "WARNING"
    configs = {"one process": (None, 1), "--workers 1": (1, 1), "--workers 2": (2, 2)}
    urls = {name: f"http://127.0.0.1:{free_port()}/api/v1/health" for name in configs}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    with contextlib.ExitStack() as stack:
        for name, (workers, processes) in configs.items():  # all up, idle until measured
            port = int(urls[name].split(":")[2].split("/")[0])
            command = serve_command(db_url, tmp_path, port, workers)
            stack.enter_context(serving(command, urls[name], processes, env))
        for _ in range(ROUNDS):  # interleaved, so drifting load hits every config alike
            for name in configs:
                load(urls[name], CONNECTIONS, 1.0, cpu=None)  # warm-up
                result = load(urls[name], CONNECTIONS, DURATION, cpu=None)
                assert result["errors"] == 0 and result["requests"] > 0
                runs[name].append(result)
    rows = [summary(name, results) for name, results in runs.items()]
    baseline = rows[0]["rps"]
    for row in rows:
        row["ratio"] = round(row["rps"] / baseline, 2)
    columns = ["server", "rps", "rps_runs", "p50_ms", "p99_ms", "ratio"]
    report("workers", rows, columns)


def summary(name: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """One row per configuration: the median round (by requests per second) and every rate."""
    ordered = sorted(results, key=lambda r: float(r["rps"]))
    middle = ordered[len(ordered) // 2]
    rates = "/".join(str(round(float(r["rps"]))) for r in results)
    return {"server": name, **middle, "rps_runs": rates}


VENUE = "bybit"
TRADE_USERS = int(os.environ.get("BENCH_TRADE_USERS", "16"))
TRADE_DURATION = float(os.environ.get("BENCH_TRADE_DURATION", "10"))
ENTRY = {"symbol": "BTC_USDT", "side": "buy", "order_type": "market", "quantity": "0.002"}


@pytest.mark.bench
async def test_trades_throughput_with_workers(
    pg_server: PgServer, template_db: str, tmp_path: Path
) -> None:
    """``POST /api/v1/trades`` (entry only, acknowledged by the simulator) from
    ``TRADE_USERS`` users at once, one request in flight per user, for ``TRADE_DURATION``
    seconds: one process, ``--workers 1`` and ``--workers 2``, each on a fresh database (three
    clusters, not one), one after the other, against one ``testudo sim``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env |= {"TESTUDO_LOG_LEVEL": "WARNING", "TESTUDO_EXCHANGE_RATE_LIMIT": "false"}
    env |= {"TESTUDO_SIGNIN_PER_CLIENT_PER_MINUTE": "100000", "TESTUDO_SIGNIN_PER_SECOND": "1000"}
    configs = {"one process": (None, 1), "--workers 1": (1, 1), "--workers 2": (2, 2)}
    rows = []
    async with simulator() as sim:
        await sim.set_price("BTC_USDT", "50000", freeze=True)
        for index, (name, (workers, processes)) in enumerate(configs.items()):
            with fresh_database(pg_server, template_db) as url:
                port = free_port()
                cmd = serve_command(url, tmp_path / f"n{index}", port, workers)
                cmd += ["--exchange-base-url", sim.base_url]
                cmd += ["--siwe-domain", SIWE_DOMAIN, "--siwe-uri", SIWE_URI]
                base = f"http://127.0.0.1:{port}"
                with serving(cmd, f"{base}/api/v1/health", processes, env):
                    rows.append({"server": name, **await trades_load(base, sim)})
    baseline = rows[0]["trades_per_s"]
    for row in rows:
        row["ratio"] = round(row["trades_per_s"] / baseline, 2) if baseline else None
    columns = ["server", "trades_per_s", "trades", "errors", "p50_ms", "p99_ms", "ratio"]
    report("workers_trades", rows, columns)


async def trader(base: str, sim: SimClient) -> tuple[httpx.AsyncClient, str]:
    """A signed-in user with a funded account on the simulator's Bybit (the simulator holds
    Binance and Hyperliquid to their published per-address request budgets, which would cap
    every configuration alike), any size allowed."""
    http = httpx.AsyncClient(base_url=base, timeout=60)
    session = await sign_in(http, Wallet(), dt.datetime.now(dt.UTC))
    http.cookies.clear()
    http.headers.update(session.bearer())
    account = await sim.create_account("1000000")
    added = await http.post(
        "/api/v1/exchanges/accounts", json=credentials(venue_named(VENUE), account)
    )
    assert added.status_code == 201, added.text
    risk = {"max_open_positions": 1000, "require_stop_loss": False, "min_risk_reward_ratio": "0"}
    assert (await http.put("/api/v1/risk-config", json=risk)).status_code == 200
    return http, str(added.json()["id"])


async def trades_load(base: str, sim: SimClient) -> dict[str, Any]:
    users = [await trader(base, sim) for _ in range(TRADE_USERS)]
    latencies: list[float] = []
    errors: list[str] = []

    async def one_user(user: tuple[httpx.AsyncClient, str], until: float, record: bool) -> None:
        http, account_id = user
        body = {**ENTRY, "exchange_account_id": account_id, "leverage": 5}
        while time.monotonic() < until:
            began = time.monotonic()
            response = await http.post("/api/v1/trades", json=body)
            if not record:
                continue
            if response.status_code == 201:
                latencies.append(time.monotonic() - began)
            else:
                errors.append(response.text[:200])

    for record, seconds in ((False, 2.0), (True, TRADE_DURATION)):  # warm-up, then measured
        until = time.monotonic() + seconds
        async with trio.open_nursery() as nursery:
            for user in users:
                nursery.start_soon(one_user, user, until, record)
    for http, _ in users:
        await http.aclose()
    ordered = sorted(latencies) or [0.0]
    return {
        "trades": len(latencies),
        "errors": len(errors),
        "trades_per_s": round(len(latencies) / TRADE_DURATION, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
    }
