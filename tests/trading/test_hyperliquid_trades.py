"""A trade group on a Hyperliquid agent-wallet account; balance events on the live feed."""

from __future__ import annotations

import json

import httpx

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.exchanges.test_agent_wallet import approved_account
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, live_orders


async def test_hyperliquid_group_stop_and_target_then_cancel(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    owner = await sim.create_account("10000")
    account_id = await approved_account(xhttp, session, owner)
    trader = Trader(xhttp, session, owner, account_id)
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "sell",
            "order_type": "market",
            "quantity": "0.01",
            "stop_loss_price": "51000",
            "take_profit": [{"price": "48000"}],
            "leverage": 2,
            "exchange_account_id": account_id,
        }
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["exchange"] == "hyperliquid"
    assert group["orders"][0]["client_order_id"].startswith("0x7e57")
    body = await trader.wait(
        group["id"],
        lambda b: (
            b["status"] == "active"
            and len(live_orders(b, "stop_loss")) == 1
            and len(live_orders(b, "take_profit")) == 1
        ),
    )
    stop = live_orders(body, "stop_loss")[0]
    assert stop["side"] == "buy" and stop["trigger_price"] == "51000" and stop["reduce_only"]
    cancelled = await xhttp.delete(f"/api/v1/trades/{group['id']}", headers=session.bearer())
    assert cancelled.status_code == 200
    body = await trader.wait(group["id"], lambda b: b["status"] == "closed")
    assert body["position_quantity"] == "0"

    events = await exchange_service.system.db.fetch_all(
        "SELECT stream, payload FROM events WHERE stream = %s ORDER BY seq",
        (f"balance.{session.user['id']}",),
    )
    assert events, "fills must publish balance changes"
    assert json.loads(json.dumps(events[-1]["payload"]))["e"] == "balance_update"
    order_events = await exchange_service.system.db.fetch_all(
        "SELECT payload FROM events WHERE stream = %s ORDER BY seq",
        (f"order.{session.user['id']}",),
    )
    kinds = [e["payload"]["e"] for e in order_events]
    assert "trade_created" in kinds and "group_status_changed" in kinds
