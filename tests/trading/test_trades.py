"""Trade groups end to end: the Decision Loop, real ccxt orders on the simulator, lifecycles."""

from __future__ import annotations

from decimal import Decimal as D

import httpx

from api.process import Running
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import binance_trader, live_orders

PROBLEM = "application/problem+json"


def ladder(**extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "stop_loss_price": "49000",
        "take_profit": [
            {"price": "51500", "quantity": "0.1"},
            {"price": "53000", "quantity": "0.1"},
        ],
        "leverage": 5,
    }
    body.update(extra)
    return body


async def test_ladder_of_take_profits_then_the_stop(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(ladder())
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["quantity"] == "0.2"  # sized: 2 % of 10 000 over a 1 000 stop distance
    assert group["decision"]["approved"] is True
    assert group["risk_amount"] == "200"
    group_id = group["id"]
    # One decision object: GET shows exactly what POST answered.
    decision = group["decision"]
    assert decision["id"] == group["decision_id"] and decision["position_size"] == "0.2"
    assert decision["sizing"]["limiting_constraint"] == decision["limiting_constraint"]
    assert {"quantity", "targets", "checks", "failed", "warnings", "inputs"} <= set(decision)
    assert (await trader.group(group_id))["decision"] == decision

    body = await trader.wait(
        group_id,
        lambda b: (
            b["status"] == "active"
            and len(live_orders(b, "stop_loss")) == 1
            and len(live_orders(b, "take_profit")) == 2
        ),
    )
    assert live_orders(body, "stop_loss")[0]["quantity"] == "0.2"

    await sim.set_price("BTC_USDT", "51600", freeze=True)  # through TP1
    body = await trader.wait(
        group_id,
        lambda b: (
            b["take_profit"][0]["filled_quantity"] == "0.1"
            and [o["quantity"] for o in live_orders(b, "stop_loss")] == ["0.1"]
        ),
    )
    assert [o["price"] for o in live_orders(body, "take_profit")] == ["53000"]
    assert body["position_quantity"] == "0.1"

    await sim.set_price("BTC_USDT", "48900", freeze=True)  # through the stop
    body = await trader.wait(group_id, lambda b: b["status"] == "stopped_out")
    assert live_orders(body, "take_profit") == [] and live_orders(body, "stop_loss") == []
    entry = D(body["average_entry_price"])
    stop_fill = next(
        o for o in body["orders"] if o["role"] == "stop_loss" and o["status"] == "filled"
    )
    assert stop_fill["filled_quantity"] == "0.1"
    assert D(stop_fill["average_price"]) <= D("49000")  # a stop-market fills at the market
    expected = (D("51500") - entry) * D("0.1") + (D(stop_fill["average_price"]) - entry) * D("0.1")
    assert D(body["realized_pnl"]) == expected
    kinds = [e["event_type"] for e in body["events"]]
    assert "trade_created" in kinds and "group_status_changed" in kinds
    listed = (await xhttp.get("/api/v1/trades", headers=trader.session.bearer())).json()
    assert listed == {"trades": []}
    # The closed group is one journal trade with its planned risk, so R is exact.
    journal = await exchange_service.system.db.fetch_all(
        "SELECT trade_group_id::text AS g, risk_amount, r_multiple, net_pnl, source"
        " FROM journal_trades"
    )
    assert len(journal) == 1 and journal[0]["g"] == group_id
    assert journal[0]["risk_amount"] == D("200") and journal[0]["source"] == "testudo"
    assert journal[0]["r_multiple"] == (journal[0]["net_pnl"] / D("200")).quantize(
        journal[0]["r_multiple"]
    )
