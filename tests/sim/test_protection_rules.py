"""Venue rules that can break a trader's protection, through the real ccxt clients."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from eth_account import Account
from hypothesis import given, strategies as st

from testudo.sim.accounts import NonceWindow, Registry, nonce_capacity
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.dialects.hyperliquid.orders import bad_trigger_price

from .support import call
from .test_hyperliquid_ccxt import approve_agent_request

BTC = "BTC/USDT:USDT"
HL_BTC = "BTC/USDC:USDC"


async def test_binance_refuses_the_eleventh_stop_of_a_symbol_with_4045(
    sim: SimClient, binance: Any
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(binance.create_order, BTC, "market", "buy", 0.02)
    stop = {"stopLossPrice": 40000, "reduceOnly": True}
    placed = [
        await call(binance.create_order, BTC, "market", "sell", 0.001, None, stop)
        for _ in range(10)
    ]
    with pytest.raises(ccxt.OperationRejected, match=r"-4045.*Reach max stop order limit\."):
        await call(binance.create_order, BTC, "market", "sell", 0.001, None, stop)
    other = await call(binance.create_order, "ETH/USDT:USDT", "market", "buy", 0.1)
    assert other["filled"] == 0.1  # the limit is per symbol; plain orders are not counted
    await call(binance.cancel_order, placed[0]["id"], BTC, {"trigger": True})
    await call(binance.create_order, BTC, "market", "sell", 0.001, None, stop)
    await sim.set_price("BTC_USDT", "39000")  # every stop fires and leaves the algo book
    await sim.set_price("BTC_USDT", "50000")
    await call(binance.create_order, BTC, "market", "buy", 0.02)
    again = await call(binance.create_order, BTC, "market", "sell", 0.001, None, stop)
    assert again["id"]


@given(st.booleans(), st.integers(1, 10**6), st.integers(1, 10**6))
def test_a_trigger_limit_beyond_its_trigger_is_invalid(buy: bool, limit: int, trigger: int) -> None:
    beyond = limit < trigger if buy else limit > trigger
    assert bad_trigger_price(buy, D(limit), D(trigger)) is beyond


async def test_hyperliquid_refuses_invalid_tpsl_prices(sim: SimClient, hyperliquid: Any) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    await call(hyperliquid.create_order, HL_BTC, "market", "buy", 0.02, 50000)
    with pytest.raises(ccxt.InvalidOrder, match=r"Invalid TP/SL price\. asset=0"):
        await call(
            hyperliquid.create_order,
            HL_BTC,
            "limit",
            "sell",
            0.02,
            49500,
            {"stopLossPrice": 49000, "reduceOnly": True},
        )
    with pytest.raises(ccxt.InvalidOrder, match=r"Invalid TP/SL price\. asset=0"):
        await call(
            hyperliquid.create_order,
            HL_BTC,
            "limit",
            "buy",
            0.02,
            51000,
            {"takeProfitPrice": 52000, "reduceOnly": True},
        )
    stop = await call(
        hyperliquid.create_order,
        HL_BTC,
        "limit",
        "sell",
        0.02,
        48500,
        {"stopLossPrice": 49000, "reduceOnly": True},
    )
    assert stop["id"]


async def test_a_gapped_stop_market_rests_at_its_limit(sim: SimClient, hyperliquid: Any) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(hyperliquid.create_order, HL_BTC, "market", "buy", 0.02, 50000)
    stop = await call(
        hyperliquid.create_order,
        HL_BTC,
        "market",
        "sell",
        0.02,
        49000,
        {"stopLossPrice": 49000, "reduceOnly": True},
    )
    (listed,) = await call(hyperliquid.fetch_open_orders, HL_BTC)
    assert (listed["info"]["limitPx"], listed["info"]["orderType"]) == ("46550.0", "Stop Market")
    await sim.set_price("BTC_USDT", "45000")  # fires, but the book is past p = 49000 * 0.95
    (position,) = await call(hyperliquid.fetch_positions)
    assert position["contracts"] == 0.02
    status = await call(
        hyperliquid.publicPostInfo,
        {"type": "orderStatus", "user": hyperliquid.walletAddress, "oid": int(stop["id"])},
    )
    assert status["order"]["status"] == "triggered"
    (resting,) = await call(hyperliquid.fetch_open_orders, HL_BTC)
    assert (resting["id"], resting["price"], resting["remaining"]) == (stop["id"], 46550.0, 0.02)
    await sim.set_price("BTC_USDT", "46600")
    assert await call(hyperliquid.fetch_positions) == []
    (fill,) = [t for t in await call(hyperliquid.fetch_my_trades, HL_BTC) if t["side"] == "sell"]
    assert (fill["price"], fill["takerOrMaker"]) == (46550.0, "maker")


async def test_a_stop_market_within_its_bound_fills_at_the_gapped_price(
    sim: SimClient, hyperliquid: Any
) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(hyperliquid.create_order, HL_BTC, "market", "buy", 0.02, 50000)
    await call(
        hyperliquid.create_order,
        HL_BTC,
        "market",
        "sell",
        0.02,
        49000,
        {"stopLossPrice": 49000, "reduceOnly": True},
    )
    await sim.set_price("BTC_USDT", "47000")
    assert await call(hyperliquid.fetch_positions) == []
    (fill,) = [t for t in await call(hyperliquid.fetch_my_trades, HL_BTC) if t["side"] == "sell"]
    assert (fill["price"], fill["takerOrMaker"]) == (46999.0, "taker")


async def test_only_the_10000_most_recent_fills_are_served(
    sim: SimClient, account: SimAccount
) -> None:
    await sim.generate_history(account, venue="hyperliquid", fills=12_000, days=90, seed=5)
    user = account.wallet_address
    newest = await sim.http.post("/hyperliquid/info", json={"type": "userFills", "user": user})
    assert len(newest.json()) == 2000
    collected: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = (
            await sim.http.post(
                "/hyperliquid/info",
                json={"type": "userFillsByTime", "user": user, "startTime": cursor},
            )
        ).json()
        collected.extend(page)
        if len(page) < 2000:
            break
        cursor = page[-1]["time"] + 1
    stored = sim.simulator.engines["hyperliquid"].account(account.account_id).fills.all()
    assert len(collected) == 10_000
    assert [f["tid"] for f in collected] == [f.id for f in stored[-10_000:]]
    old = await sim.http.post(
        "/hyperliquid/info",
        json={
            "type": "userFillsByTime",
            "user": user,
            "startTime": 0,
            "endTime": stored[1999].time_ms,
        },
    )
    assert old.json() == []


async def test_linking_the_same_wallet_twice_under_one_name_prunes_the_first_agent(
    sim: SimClient, account: SimAccount
) -> None:
    first, second = Account.create(), Account.create()
    nonce = sim.simulator.clock.now_ms()
    for agent, n in ((first, nonce), (second, nonce + 1)):
        if agent is second:
            trader = sim.hyperliquid(account, agent_key=first.key.hex(), builderFee=False)
            order = await call(trader.create_order, HL_BTC, "market", "buy", 0.01, 50000)
            assert order["filled"] == 0.01
        body = approve_agent_request(account.wallet_private_key, agent.address, n, "testudo")
        response = await sim.http.post("/hyperliquid/exchange", json=body)
        assert response.json()["status"] == "ok"
    with pytest.raises(ccxt.InvalidOrder, match=f"User or API Wallet {first.address.lower()}"):
        await call(trader.create_order, HL_BTC, "market", "buy", 0.01, 50000)
    agents = await sim.http.post(
        "/hyperliquid/info", json={"type": "extraAgents", "user": account.wallet_address}
    )
    assert [(a["name"], a["address"]) for a in agents.json()] == [
        ("testudo", second.address.lower())
    ]
    successor = sim.hyperliquid(account, agent_key=second.key.hex(), builderFee=False)
    assert (await call(successor.create_order, HL_BTC, "market", "sell", 0.01, 50000))["filled"]


async def test_named_agents_are_limited_and_expired_ones_are_not_listed(
    sim: SimClient, account: SimAccount
) -> None:
    nonce = sim.simulator.clock.now_ms()
    soon = nonce + 60_000
    names = ["a", "b", f"c valid_until {soon}", "d"]
    answers = []
    for n, name in enumerate(names):
        body = approve_agent_request(
            account.wallet_private_key, Account.create().address, nonce + n, name
        )
        answers.append((await sim.http.post("/hyperliquid/exchange", json=body)).json())
    assert [a["status"] for a in answers] == ["ok", "ok", "ok", "err"]
    assert "at most 3 named" in answers[3]["response"]
    renamed = approve_agent_request(
        account.wallet_private_key, Account.create().address, nonce + 9, "a"
    )
    assert (await sim.http.post("/hyperliquid/exchange", json=renamed)).json()["status"] == "ok"
    registry = sim.simulator.registry
    assert len(registry.agents_of(account.wallet_address, nonce)) == 3
    assert [a.name for a in registry.agents_of(account.wallet_address, soon + 1)] == ["b", "a"]


def test_nonce_set_grows_with_volume_and_is_pruned_with_its_agent() -> None:
    assert [nonce_capacity(D(v)) for v in (0, 999_999, 1_500_000, 10**9)] == [20, 20, 21, 100]
    window = NonceWindow()
    for nonce in range(1000, 1020):
        assert window.accept("0xa", nonce) is None
    assert window.accept("0xa", 1000) == "Invalid nonce: duplicate nonce"
    assert window.accept("0xa", 999) == "Invalid nonce: nonce 999 too low"
    assert window.accept("0xa", 1020) is None  # 1000 drops out of the 20 kept
    assert window.accept("0xa", 1000) == "Invalid nonce: nonce 1000 too low"
    assert window.accept("0xa", 1001, capacity=100) is not None
    registry = Registry(seed=2)
    user = registry.create()
    old, new = Account.create().address, Account.create().address
    registry.approve_agent(user.wallet_address, old, "testudo", None)
    assert registry.nonces.accept(old, 5) is None
    assert registry.approve_agent(user.wallet_address, new, "testudo", None) == [old]
    assert registry.acting_user(old, 0) is None
    assert registry.nonces.accept(old, 5) is None  # its nonce state was pruned with it
