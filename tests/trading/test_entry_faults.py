"""Exchange faults while the entry is sent: no orphan order, no unprotected position, a
clear answer. A 429 is a refusal (the order was not taken); an outage (503) leaves the entry's
fate unknown, so it is looked up by client order id until the exchange answers again."""

from __future__ import annotations

import httpx
import trio

from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, binance_trader, market_body

PROBLEM = "application/problem+json"


async def nothing_on_the_exchange(sim: SimClient, trader: Trader) -> None:
    client = sim.binance(trader.account, warnOnFetchOpenOrdersWithoutSymbol=False)
    regular = await trio.to_thread.run_sync(client.fetch_open_orders)
    triggers = await trio.to_thread.run_sync(
        lambda: client.fetch_open_orders(None, None, None, {"trigger": True})
    )
    positions = await trio.to_thread.run_sync(client.fetch_positions)
    assert regular == [] and triggers == []
    assert [p for p in positions if float(p.get("contracts") or 0) != 0] == []


async def test_a_rate_limited_entry_is_refused_with_retry_after(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    await sim.set_fault(
        "binanceusdm", "rate_limit", endpoint="/fapi/v1/order", status=429, retry_after=3
    )
    response = await trader.post(market_body())
    await sim.clear_faults()
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "3"
    problem = response.json()
    assert problem["error"] == "exchange_rate_limited"
    group = await trader.group(problem["group_id"])
    assert group["status"] == "failed"
    assert [o["status"] for o in group["orders"]] == ["rejected"]
    await nothing_on_the_exchange(sim, trader)


async def test_an_outage_while_sending_the_entry_leaves_no_orphan(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    await sim.set_fault("binanceusdm", "outage", endpoint="/fapi/v1/order")
    response = await trader.post(market_body())
    assert response.status_code == 201, response.text
    group = response.json()
    assert group["status"] == "awaiting_reconciliation"
    assert group["orders"][0]["status"] == "pending_submit"
    await trio.sleep(1.0)  # lookups fail while the exchange is down: nothing is decided
    mid = await trader.group(group["id"])
    assert mid["status"] in ("pending", "awaiting_reconciliation")
    assert [o["status"] for o in mid["orders"]] == ["pending_submit"]
    await sim.clear_faults()
    body = await trader.wait(group["id"], lambda b: b["status"] == "failed")
    assert [o["status"] for o in body["orders"]] == ["not_found"]
    await nothing_on_the_exchange(sim, trader)


async def test_a_leverage_the_exchange_refuses_fails_the_group_before_any_order(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    await sim.set_fault("binanceusdm", "error", endpoint="/fapi/v1/leverage", status=400)
    response = await trader.post(market_body())
    await sim.clear_faults()
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["error"] == "entry_rejected"
    assert problem["group"]["status"] == "failed"
    assert "leverage could not be set" in problem["group"]["error"]
    assert [o["status"] for o in problem["group"]["orders"]] == ["rejected"]
    await nothing_on_the_exchange(sim, trader)
