"""Account modes and Hyperliquid hygiene: what the venue does to an account must never turn
into an unprotected position or an exit fired for nothing."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import httpx
import trio
from eth_account import Account

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.exchanges.test_agent_wallet import (
    agent_key,
    approve,
    approve_data,
    approved_account,
    sign_typed,
)
from tests.sim.test_hyperliquid_ccxt import approve_agent_request
from tests.trading.helpers import Trader, live_orders, market_body
from testudo.clock import ManualClock
from testudo.sim.client import SimAccount, SimClient

PROBLEM = "application/problem+json"


async def extra_agents(sim: SimClient, owner: SimAccount) -> list[dict[str, Any]]:
    """The wallet's approved agents, as Hyperliquid lists them."""
    answer = await sim.http.post(
        "/hyperliquid/info", json={"type": "extraAgents", "user": owner.wallet_address}
    )
    return list(answer.json())


async def approve_elsewhere(sim: SimClient, owner: SimAccount, name: str) -> None:
    """The wallet approves a new agent under ``name`` (as in Hyperliquid's own app)."""
    nonce = sim.simulator.clock.now_ms()
    body = approve_agent_request(owner.wallet_private_key, Account.create().address, nonce, name)
    answer = await sim.http.post("/hyperliquid/exchange", json=body)
    assert answer.json()["status"] == "ok", answer.text


def venue_state(state: dict[str, Any], venue: str) -> dict[str, Any]:
    return dict(state["venues"][venue])


async def add_binance(
    http: httpx.AsyncClient, trader_session: Any, account: SimAccount
) -> httpx.Response:
    return await http.post(
        "/api/v1/exchanges/accounts",
        headers=trader_session.bearer(),
        json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
    )


async def test_a_hedge_mode_account_is_refused_where_it_is_added(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    session = await sign_in(xhttp, Wallet(), clock.now())
    hedged = await sim.create_account("10000", hedge_mode=True)
    response = await add_binance(xhttp, session, hedged)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == "hedge_mode_unsupported"


async def test_an_account_switched_to_hedge_mode_refuses_trades_before_any_order(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    added = await add_binance(xhttp, session, account)
    assert added.status_code == 201, added.text
    account_id = added.json()["id"]
    client = sim.binance(account)
    await trio.to_thread.run_sync(lambda: client.set_position_mode(True))
    tested = await xhttp.post(
        f"/api/v1/exchanges/accounts/{account_id}/test", headers=session.bearer()
    )
    assert tested.json()["status"] == "failed"
    assert tested.json()["error"] == "hedge_mode_unsupported"
    trader = Trader(xhttp, session, account, account_id)
    refused = await trader.post(market_body())
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "hedge_mode_unsupported"
    binance = venue_state(await sim.state(account), "binance")
    assert binance["open_orders"] == [] and binance["positions"] == []


async def test_multi_assets_equity_is_the_whole_collateral(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    """USDT + USDC collateral: risk is sized on both (the USDT row alone is half)."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account(
        "0", multi_assets=True, balances={"USDT": "5000", "USDC": "5000"}
    )
    added = await add_binance(xhttp, session, account)
    assert added.status_code == 201, added.text
    trader = Trader(xhttp, session, account, added.json()["id"])
    body = market_body()
    del body["quantity"]  # sized by the Decision Loop: 2 % of equity over the stop distance
    created = await trader.post(body)
    assert created.status_code == 201, created.text
    stored = await trader.group(created.json()["id"])
    assert D(stored["decision"]["inputs"]["account"]["equity"]) == D("10000")
    assert created.json()["quantity"] == "0.2"  # 200 of risk over a 1000 stop distance


async def hyperliquid_trader(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, owner: SimAccount | None = None
) -> Trader:
    session = await sign_in(http, Wallet(), clock.now())
    owner = owner or await sim.create_account("10000")
    account_id = await approved_account(http, session, owner)
    return Trader(http, session, owner, account_id)


async def test_linking_one_wallet_twice_keeps_both_agents(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    """Each account's agent has a name of its own: approving the second never prunes the
    first (with one shared name, Hyperliquid silently drops the first agent)."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    owner = await sim.create_account("10000")
    first = await hyperliquid_trader(xhttp, sim, clock, owner)
    second = await hyperliquid_trader(xhttp, sim, clock, owner)
    for trader in (first, second):
        created = await trader.post(market_body(exchange_account_id=trader.account_id))
        assert created.status_code == 201, created.text
        await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    names = {a["name"] for a in await extra_agents(sim, owner)}  # both agents still approved
    assert len(names) == 2 and all(n.startswith("testudo-") for n in names)


async def test_no_referral_or_builder_fee_is_ever_sent(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await hyperliquid_trader(xhttp, sim, clock)
    created = await trader.post(market_body(exchange_account_id=trader.account_id))
    assert created.status_code == 201, created.text
    await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    logged = await sim.requests("hyperliquid", key="/exchange:*")
    kinds = {r["key"] for r in logged}
    assert "/exchange:order" in kinds
    assert "/exchange:setReferrer" not in kinds and "/exchange:approveBuilderFee" not in kinds


async def test_a_pruned_agent_waits_for_reauthorization_instead_of_exiting(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    """The wallet approves another agent under the account's name (in Hyperliquid's app):
    Testudo's agent is pruned. The account asks for re-authorisation with an event, the group
    waits (no exit fired), and after a fresh approval the group is protected again."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await hyperliquid_trader(xhttp, sim, clock)
    created = await trader.post(market_body(exchange_account_id=trader.account_id))
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    await trader.wait(group_id, lambda b: len(live_orders(b, "stop_loss")) == 1)
    old_key = await agent_key(exchange_service, trader.account_id)
    name = (await extra_agents(sim, trader.account))[0]["name"]
    await approve_elsewhere(sim, trader.account, name)  # prunes Testudo's agent
    # Any action now fails: make the group act (move its stop).
    moved = await xhttp.put(
        f"/api/v1/trades/{group_id}/sl", json={"price": "49100"}, headers=trader.session.bearer()
    )
    assert moved.status_code == 200, moved.text
    body = await trader.wait(group_id, lambda b: b["status"] == "awaiting_reconciliation")
    assert not body["closing"] and [o for o in body["orders"] if o["role"] == "close"] == []
    accounts = (
        await xhttp.get("/api/v1/exchanges/accounts", headers=trader.session.bearer())
    ).json()
    assert accounts["accounts"][0]["status"] == "requires_reauthorization"
    events = await exchange_service.system.db.fetch_all(
        "SELECT payload FROM events WHERE stream = %s", (f"balance.{trader.session.user_id}",)
    )
    assert any(e["payload"].get("e") == "account_update" for e in events)
    hyperliquid = venue_state(await sim.state(trader.account), "hyperliquid")
    assert hyperliquid["positions"][0]["size"] == "0.01"  # still open, not exited
    # Until re-approved, the account sends nothing more: no polls, no retries.
    await trio.sleep(0.5)
    await sim.clear_requests()
    await trio.sleep(2)
    assert await sim.requests("hyperliquid") == []
    # The trader approves Testudo's agent again: the group is protected again, by a new stop.
    data = await approve_data(xhttp, trader.session, trader.account_id)
    signature = sign_typed(data["typed_data"], trader.account.wallet_private_key)
    again = await approve(xhttp, trader.session, trader.account_id, signature, data["nonce"])
    assert again.status_code == 200, again.text
    body = await trader.wait(
        group_id,
        lambda b: b["status"] == "active" and b["protection"]["state"] == "protected",
    )
    assert live_orders(body, "stop_loss")[0]["trigger_price"] == "49100"
    assert old_key  # the pruned key stays sealed until re-approval replaces it
