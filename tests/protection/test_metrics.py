"""The protection metrics count every exposure, the ordinary one included: a fill whose stop
is placed in the same step of the group is still a measured time to protection."""

from __future__ import annotations

import httpx

from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from ..trading.helpers import binance_trader, live_orders, market_body


async def metric(http: httpx.AsyncClient, name: str) -> float:
    """The value of one Binance-labelled sample on /metrics (0 when absent)."""
    prefix = f'{name}{{venue="binance"}} '
    lines = [line for line in (await http.get("/metrics")).text.splitlines()]
    found = [line[len(prefix) :] for line in lines if line.startswith(prefix)]
    return float(found[0]) if found else 0.0


async def test_a_fill_protected_at_once_is_measured(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    before = await metric(xhttp, "testudo_time_to_protection_seconds_count")
    created = await trader.post(market_body())
    assert created.status_code == 201, created.text
    body = await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    assert body["protection"]["state"] == "protected"
    assert await metric(xhttp, "testudo_time_to_protection_seconds_count") == before + 1
    assert await metric(xhttp, "testudo_unprotected_positions") == 0
