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
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

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


TRADE_USERS = int(os.environ.get("BENCH_TRADE_USERS", "8"))
TRADE_CLIENTS = int(os.environ.get("BENCH_TRADE_CLIENTS", "16"))


async def trading_user(base: str, sim: SimClient) -> dict[str, str]:
    """A signed-in user with a simulator account and room for many open groups."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        session = await sign_in(http, Wallet(), dt.datetime.now(dt.UTC))
        account = await sim.create_account("10000000")
        body = {"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret}
        added = await http.post("/api/v1/exchanges/accounts", headers=session.bearer(), json=body)
        assert added.status_code == 201, added.text
        limits = {"max_open_positions": 1000, "min_risk_reward_ratio": "0"}
        put = await http.put("/api/v1/risk-config", headers=session.bearer(), json=limits)
        assert put.status_code == 200, put.text
    return session.bearer()


async def trade_load(
    base: str, users: list[dict[str, str]], seconds: float, replay: bool = False
) -> dict[str, Any]:
    """``TRADE_CLIENTS`` connections, each for one user, posting resting limit entries (with
    stop and target) back to back for ``seconds``; answers per second and latencies. With
    ``replay`` every connection repeats one idempotency key: after the first, each request is
    answered from the database through the user's trader, with no exchange request."""
    latencies: list[float] = []
    failures: list[int] = []
    trade: dict[str, Any] = {"symbol": "BTC_USDT", "side": "buy", "entry_price": "40000"}
    trade["quantity"] = "0.005"  # 200 USDT: above the 100 minimum notional
    trade |= {"stop_loss_price": "39000", "take_profit": [{"price": "42000"}], "leverage": 2}
    stop_at = time.monotonic() + seconds

    async def client(index: int) -> None:
        headers = users[index % len(users)]
        body = {**trade, "idempotency_key": f"bench-{index}"} if replay else trade
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                answer = await http.post("/api/v1/trades", json=body)
                if answer.status_code == 201:
                    latencies.append(time.perf_counter() - began)
                else:
                    failures.append(answer.status_code)
                    if len(failures) == 1:
                        print("first failure:", answer.status_code, answer.text[:600])

    async with trio.open_nursery() as nursery:
        for index in range(TRADE_CLIENTS):
            nursery.start_soon(client, index)
    ordered = sorted(latencies)
    return {
        "created": len(ordered),
        "errors": len(failures),
        "per_s": round(len(ordered) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1) if ordered else None,
    }


@pytest.mark.bench
async def test_trades_throughput_with_workers(db_url: str, tmp_path: Path) -> None:
    """``POST /api/v1/trades`` (decision, group, entry acknowledged by the simulator) from
    ``TRADE_CLIENTS`` connections over ``TRADE_USERS`` users: one plain process, ``--workers
    1`` and ``--workers 2``, in the same run. With two workers each user's actors live on the
    worker that took the user's lease; the other forwards that user's requests to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env |= {"TESTUDO_LOG_LEVEL": "WARNING", "TESTUDO_SIWE_DOMAIN": SIWE_DOMAIN}
    env |= {"TESTUDO_SIWE_URI": SIWE_URI, "TESTUDO_EXCHANGE_RATE_LIMIT": "false"}
    env |= {"TESTUDO_SIGNIN_PER_CLIENT_PER_MINUTE": "100000"}  # every user signs in from here
    configs = {"one process": (None, 1), "--workers 1": (1, 1), "--workers 2": (2, 2)}
    rows, replays = [], []
    async with simulator() as sim:
        await sim.set_price("BTC_USDT", "50000", freeze=True)
        await sim.set_weight_limit("binance", None)  # one IP stands for many accounts here
        env["TESTUDO_EXCHANGE_BASE_URL"] = sim.base_url
        for name, (workers, processes) in configs.items():
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            command = serve_command(db_url, tmp_path, port, workers)  # one cluster: one secret
            with serving(command, f"{base}/api/v1/health", processes, env):
                users = [await trading_user(base, sim) for _ in range(TRADE_USERS)]
                await trade_load(base, users, 1.0)  # warm-up
                result = await trade_load(base, users, DURATION)
                replayed = await trade_load(base, users, DURATION, replay=True)
            assert result["errors"] == 0 and result["created"] > 0
            assert replayed["errors"] == 0 and replayed["created"] > 0
            rows.append({"server": name, **result})
            replays.append({"server": name, **replayed})
    columns = ["server", "per_s", "p50_ms", "p99_ms", "created", "ratio"]
    for name, table in (("workers_trades", rows), ("workers_trades_replayed", replays)):
        for row in table:
            row["ratio"] = round(row["per_s"] / table[0]["per_s"], 2)
        report(name, table, columns)
