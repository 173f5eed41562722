"""Time to protection per venue, and the positions view, against direct ccxt calls.

* **Time to protection**: from the moment a resting limit entry fills on the exchange (the
  test moves the simulator's price) to the moment a reduce-only stop for the position rests
  on the exchange (the simulator's own state, polled every 5 ms). It includes Testudo noticing
  the fill (its poll: every 2 s, every 0.5 s while a group waits for a fill), the group's
  reaction and the stop's placement. Baseline in the same run: placing the same stop directly
  with ccxt (the part no design can remove).
* **Positions view**: ``GET /exchanges/accounts/{id}/positions`` (answered from the account
  actor's last poll) against the direct ccxt calls it replaces (positions, open orders,
  conditional orders).

Settings are the production defaults (poll interval 2 s, Testudo's request governor on); the
simulator runs in this process, with its per-IP weight budgets lifted so the benchmark's own
direct ccxt calls (the baselines) never starve Testudo of budget.
"""

from __future__ import annotations

import collections
import os
import statistics
import time
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from tests.protection.support import VENUES, VenueCase, venue_orders
from tests.support import make_settings, running_service
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .harness import report

ROUNDS = int(os.environ.get("BENCH_PROTECTION_ROUNDS", "15"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def row(name: str, values: list[float], baseline: float) -> dict[str, Any]:
    p50, p99 = statistics.median(values), percentile(values, 0.99)
    return {
        "path": name,
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "p50_ratio": round(p50 / baseline, 2),
    }


async def until_stop(sim: SimClient, trader: Any, venue: VenueCase) -> float:
    began = time.perf_counter()
    with trio.fail_after(30):
        while True:
            orders = await venue_orders(sim, trader, venue)
            if any(o["reduce_only"] and o["trigger_kind"] == "sl" for o in orders):
                return time.perf_counter() - began
            await trio.sleep(0.005)


async def time_to_protection(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> list[float]:
    trader = await venue.link(http, sim, clock)
    samples = []
    for i in range(ROUNDS):
        await sim.set_price("BTC_USDT", "50000", freeze=True)
        created = await trader.post(
            {
                "symbol": "BTC_USDT",
                "side": "buy",
                "entry_price": "49500",
                "quantity": "0.01",
                "stop_loss_price": "48500",
                "take_profit": [{"price": "52000"}],
                "leverage": 2,
                "exchange_account_id": trader.account_id,
            }
        )
        assert created.status_code == 201, created.text
        await trio.sleep(0.3 + (i % 5) * 0.37)  # fills land at every phase of the poll
        await sim.set_price("BTC_USDT", "49400", freeze=True)
        samples.append(await until_stop(sim, trader, venue))
        closed = await http.delete(
            f"/api/v1/trades/{created.json()['id']}", headers=trader.session.bearer()
        )
        assert closed.status_code == 200, closed.text
        await trader.wait(created.json()["id"], lambda b: b["status"] == "closed")
    return samples


async def direct_stop(sim: SimClient, venue: VenueCase) -> list[float]:
    """The same stop placed directly with ccxt on a position opened for it."""
    account = await sim.create_account("100000")
    client = venue.client(sim, account)
    await trio.to_thread.run_sync(client.load_markets)
    price = 50000 if venue.id == "hyperliquid" else None
    await trio.to_thread.run_sync(
        lambda: client.create_order(venue.symbol, "market", "buy", venue.amount("0.01"), price)
    )
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        stop = await trio.to_thread.run_sync(
            lambda: client.create_order(
                venue.symbol,
                "market",
                "sell",
                venue.amount("0.01"),
                48500 if venue.id == "hyperliquid" else None,
                {"stopLossPrice": 48500, "reduceOnly": True},
            )
        )
        samples.append(time.perf_counter() - began)
        # One stop rests at a time (venues cap conditional orders per symbol: Binance's
        # MAX_NUM_ALGO_ORDERS is 10, which the rounds would pass).
        await trio.to_thread.run_sync(
            client.cancel_order, stop["id"], venue.symbol, venue.trigger_params
        )
    return samples


async def positions_view(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> tuple[list[float], list[float]]:
    trader = await venue.link(http, sim, clock)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    body = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.01",
        "stop_loss_price": "48500",
        "take_profit": [{"price": "53500"}],
        "leverage": 2,
        "exchange_account_id": trader.account_id,
    }
    opened = await trader.post(body)
    assert opened.status_code == 201, opened.text
    client = venue.client(sim, trader.account)
    await trio.to_thread.run_sync(client.load_markets)

    def direct() -> None:
        client.fetch_positions()
        client.fetch_open_orders(venue.symbol)
        if venue.id == "binance":
            client.fetch_open_orders(venue.symbol, None, None, {"trigger": True})
        if venue.id == "okx":  # stops are algo orders, listed as ordType conditional
            client.fetch_open_orders(venue.symbol, None, None, {"ordType": "conditional"})

    url = f"/api/v1/exchanges/accounts/{trader.account_id}/positions"
    view, baseline = [], []
    for _ in range(ROUNDS * 2):
        began = time.perf_counter()
        answer = await http.get(url, headers=trader.session.bearer())
        view.append(time.perf_counter() - began)
        assert answer.status_code == 200 and answer.json()["positions"][0]["protected"]
        began = time.perf_counter()
        await trio.to_thread.run_sync(direct)
        baseline.append(time.perf_counter() - began)
        await trio.sleep(0.1)
    return view, baseline


@pytest.mark.bench
async def test_time_to_protection_and_positions_view(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> None:
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_rate_limit=False,
    )
    rows: list[dict[str, Any]] = []
    for budget in ("binance", "hyperliquid"):
        await sim.set_weight_limit(budget, None)
    async with (
        running_service(nursery, settings, clock) as service,
        httpx.AsyncClient(base_url=service.http_url, timeout=60) as http,
    ):
        for venue in VENUES:
            direct = statistics.median(await direct_stop(sim, venue))
            rows.append(row(f"{venue.id}: ccxt stop placed directly", [direct], direct))
            await sim.clear_requests()
            try:
                ttp = await time_to_protection(http, sim, clock, venue)
            finally:
                if os.environ.get("BENCH_PROTECTION_DEBUG"):
                    logged = await sim.requests(venue.prefix, limit=10000)
                    print(venue.id, collections.Counter(r["key"] for r in logged).most_common())
            rows.append(row(f"{venue.id}: time to protection (fill -> stop resting)", ttp, direct))
            view, baseline = await positions_view(http, sim, clock, venue)
            base = statistics.median(baseline)
            rows.append(row(f"{venue.id}: ccxt positions + open orders, direct", baseline, base))
            rows.append(row(f"{venue.id}: GET /exchanges/accounts/{{id}}/positions", view, base))
    report("protection", rows, ["path", "p50_ms", "p99_ms", "p50_ratio"])
