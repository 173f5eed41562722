"""``POST /trades`` end to end (Decision Loop + group actor + acknowledged entry on the
simulator) versus the same ccxt ``create_order`` made directly, in the same run."""

from __future__ import annotations

import functools
import statistics
import time
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from tests.conftest import make_settings
from tests.trading.helpers import binance_trader
from testudo.clock import ManualClock
from testudo.service import Running, run_service
from testudo.sim.client import SimClient

from .harness import report

ROUNDS = 60


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@pytest.mark.bench
async def test_post_trades_latency_vs_direct_create_order(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    # The production polling interval (2 s), not the tests' fast one.
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_rate_limit=False,
    )
    service: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    xhttp = httpx.AsyncClient(base_url=service.http_url, timeout=60)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock, balance="1000000")
    put = await xhttp.put(
        "/api/v1/risk-config",
        headers=trader.session.bearer(),
        json={"max_open_positions": 1000, "require_stop_loss": False, "min_risk_reward_ratio": "0"},
    )
    assert put.status_code == 200, put.text
    bracket = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.002",
        "stop_loss_price": "40000",
        "take_profit": [{"price": "70000"}],
        "leverage": 5,
    }
    entry_only = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.002",
        "leverage": 5,
    }

    direct_account = await sim.create_account("1000000")
    client = sim.binance(direct_account)
    await trio.to_thread.run_sync(client.load_markets)

    async def direct_order() -> None:
        await trio.to_thread.run_sync(
            lambda: client.create_order("BTC/USDT:USDT", "market", "buy", 0.002)
        )

    async def api_order(body: dict[str, object]) -> None:
        response = await trader.post(body)
        assert response.status_code == 201, response.text

    paths = {
        "ccxt create_order, direct": direct_order,
        "POST /trades, entry only": functools.partial(api_order, entry_only),
        "POST /trades, entry + stop + target": functools.partial(api_order, bracket),
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(3):  # warm-up
        for run in paths.values():
            await run()
    for _ in range(ROUNDS):
        for name, run in paths.items():
            began = time.perf_counter()
            await run()
            samples[name].append(time.perf_counter() - began)
            await trio.sleep(0.15)  # let protective orders go out: latency, not queueing
    rows = []
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
    report("trades", rows, ["path", "p50_ms", "p99_ms", "p50_ratio", "p99_ratio"])
    await xhttp.aclose()
    service.shutdown()
