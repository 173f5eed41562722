"""A partially filled entry, end to end: the filled part is protected at once, the stop grows
with later fills (new stop first, old one cancelled after), the targets go out when the entry
is complete."""

from __future__ import annotations

import httpx

from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import binance_trader, live_orders


async def test_a_partial_entry_fill_is_protected_then_grows(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "buy",
            "entry_price": "49000",
            "quantity": "0.01",
            "stop_loss_price": "48000",
            "take_profit": [{"price": "52000"}],
            "leverage": 2,
        }
    )
    assert created.status_code == 201, created.text
    group = created.json()
    entry = live_orders(group, "entry")[0]
    assert group["status"] == "pending"

    partial = await sim.fill_order(
        trader.account, "binanceusdm", client_order_id=entry["client_order_id"], quantity="0.004"
    )
    assert partial["status"] == "PARTIALLY_FILLED"
    body = await trader.wait(
        group["id"],
        lambda b: [o["quantity"] for o in live_orders(b, "stop_loss")] == ["0.004"],
    )
    assert body["status"] == "active"
    assert body["filled_quantity"] == "0.004" and body["position_quantity"] == "0.004"
    assert live_orders(body, "entry")  # the rest of the entry still rests
    assert live_orders(body, "take_profit") == []  # targets wait for the complete entry

    rest = await sim.fill_order(
        trader.account, "binanceusdm", client_order_id=entry["client_order_id"], quantity="0.006"
    )
    assert rest["status"] == "FILLED"
    body = await trader.wait(
        group["id"],
        lambda b: (
            [o["quantity"] for o in live_orders(b, "stop_loss")] == ["0.01"]
            and [o["quantity"] for o in live_orders(b, "take_profit")] == ["0.01"]
        ),
    )
    assert body["filled_quantity"] == "0.01" and body["average_entry_price"] == "49000"
    stops = [o for o in body["orders"] if o["role"] == "stop_loss"]
    assert [o["status"] for o in stops] == ["cancelled", "open"]  # replaced, never absent
    events = [e["event_type"] for e in body["events"]]
    assert events.index("stop_loss_placed") < events.index("order_cancelled")
