"""Takeover: how soon a filled entry of a dead or paused node gets its stop from another node.

Real ``testudo serve`` processes on one database, production settings (lease term 6 s, trade
poll 2 s, the request governor on); the simulator runs in this process.

* **Baseline, one node**: the owner is killed (SIGKILL) while its entry rests; the entry fills;
  a new process is started at once on the same database (what one node can do: a supervisor
  restarts it). Measured from the kill to the stop resting on the exchange.
* **Cluster, kill -9**: the same with a second node already running: it sees the dead node's
  advisory lock free at its next scan and takes the user over.
* **Cluster, paused owner**: the owner is stopped (SIGSTOP) instead: nothing tells the others
  it is gone until its lease term runs out. Measured from the pause to the stop resting.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.cluster.test_failover import NodeProcess, open_pending_on, start_node
from tests.protection.support import BINANCE, fill_entry, venue_orders
from testudo.sim.client import SimClient

from .harness import report

ROUNDS = int(os.environ.get("BENCH_CLUSTER_ROUNDS", "3"))
PRODUCTION: dict[str, str] = {}  # no overrides: the defaults docs/operations.md lists


async def until_stop(sim: SimClient, trader: Any, since: float) -> float:
    with trio.fail_after(60):
        while True:
            orders = await venue_orders(sim, trader, BINANCE)
            if any(o["reduce_only"] and o["trigger_kind"] == "sl" for o in orders):
                return time.monotonic() - since
            await trio.sleep(0.02)


async def one_round(db_url: str, where: Path, sim: SimClient, standby: bool, pause: bool) -> float:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    with ExitStack() as stack:
        owner = await start_node(stack, db_url, where / "a", sim.base_url, PRODUCTION)
        if standby:
            await start_node(stack, db_url, where / "b", sim.base_url, PRODUCTION)
        trader, _ = await open_pending_on(owner, sim)
        began = time.monotonic()
        owner.proc.send_signal(signal.SIGSTOP if pause else signal.SIGKILL)
        await fill_entry(sim)
        if not standby:
            await restart(stack, db_url, where, sim)
        return await until_stop(sim, trader, began)


async def restart(stack: ExitStack, db_url: str, where: Path, sim: SimClient) -> NodeProcess:
    return await start_node(stack, db_url, where / "a2", sim.base_url, PRODUCTION)


@pytest.mark.bench
async def test_takeover_time(db_url: str, tmp_path: Path, sim: SimClient) -> None:
    cases = {
        "one node: kill -9, restarted at once": (False, False),
        "two nodes: kill -9 of the owner": (True, False),
        "two nodes: owner paused (SIGSTOP)": (True, True),
    }
    await sim.set_weight_limit("binance", None)  # the benchmark's own reads never starve
    results: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(ROUNDS):
        for name, (standby, pause) in cases.items():
            where = tmp_path / f"r{i}-{len(results[name])}-{standby:d}{pause:d}"
            results[name].append(await one_round(db_url, where, sim, standby, pause))
    baseline = statistics.median(results["one node: kill -9, restarted at once"])
    rows = [
        {
            "path": name,
            "median_s": round(statistics.median(values), 2),
            "max_s": round(max(values), 2),
            "ratio": round(statistics.median(values) / baseline, 2),
        }
        for name, values in results.items()
    ]
    report("cluster_takeover", rows, ["path", "median_s", "max_s", "ratio"])
