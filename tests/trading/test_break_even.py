"""Break-even at a price trigger, end to end: the poller sends the market's price to the
group, which moves its stop to entry plus fees once the market trades at the trigger."""

from __future__ import annotations

from decimal import Decimal as D

import httpx

from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import binance_trader, live_orders

PROBLEM = "application/problem+json"


async def test_break_even_at_a_price_trigger(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "buy",
            "order_type": "market",
            "quantity": "0.02",
            "stop_loss_price": "49000",
            "take_profit": [{"price": "56000"}],
            "leverage": 2,
        }
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    await trader.wait(group_id, lambda b: len(live_orders(b, "stop_loss")) == 1)
    url = f"/api/v1/trades/{group_id}/breakeven"
    headers = trader.session.bearer()

    garbage = await xhttp.put(url, json={"enabled": True, "trigger": "soon"}, headers=headers)
    assert garbage.status_code == 422 and garbage.headers["content-type"] == PROBLEM
    below = await xhttp.put(url, json={"enabled": True, "trigger": "49500"}, headers=headers)
    assert below.status_code == 422 and below.json()["error"] == "trigger_wrong_side"

    armed = await xhttp.put(url, json={"enabled": True, "trigger": "51000"}, headers=headers)
    assert armed.status_code == 200, armed.text
    assert armed.json()["break_even"]["enabled"] is True
    assert armed.json()["break_even"]["trigger"] == "51000"

    await sim.set_price("BTC_USDT", "51200", freeze=True)
    body = await trader.wait(
        group_id,
        lambda b: (
            b["break_even"]["triggered"]
            and [o["trigger_price"] for o in live_orders(b, "stop_loss")]
            == [b["break_even"]["stop_price"]]
        ),
    )
    assert body["status"] == "active"
    entry = D(body["average_entry_price"])
    assert D(body["break_even"]["stop_price"]) == (entry * D("1.001")).quantize(D("0.1"))
    assert "break_even_triggered" in [e["event_type"] for e in body["events"]]
