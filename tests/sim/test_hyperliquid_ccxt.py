"""The real ``ccxt.hyperliquid`` against the simulator over loopback."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from testudo.exchanges.agent_wallets import Network, approve_agent_typed_data
from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDC:USDC"
CLOID = "0x" + "ab" * 16


def approve_agent_request(
    user_key: str, agent: str, nonce: int, name: str | None = None
) -> dict[str, Any]:
    """The ``approveAgent`` body a wallet produces from Testudo's typed data (spec §3.4)."""
    typed = approve_agent_typed_data(Network(), agent, nonce, name)
    signed = Account.sign_message(encode_typed_data(full_message=typed), user_key)
    return {
        "action": {"type": "approveAgent", "signatureChainId": "0xa4b1", **typed["message"]},
        "nonce": nonce,
        "signature": {"r": hex(signed.r), "s": hex(signed.s), "v": signed.v},
    }


async def test_markets_balance_and_leverage(hyperliquid: Any) -> None:
    markets = await call(hyperliquid.load_markets)
    assert {BTC, "ETH/USDC:USDC", "SOL/USDC:USDC"} <= set(markets)
    btc = markets[BTC]
    assert (btc["baseId"], btc["precision"]["amount"], btc["limits"]["leverage"]["max"]) == (
        "0",
        1e-05,
        40,
    )
    balance = await call(hyperliquid.fetch_balance)
    assert balance["USDC"] == {"total": 10000.0, "used": 0.0, "free": 10000.0}
    assert (await call(hyperliquid.set_leverage, 10, BTC))["status"] == "ok"
    with pytest.raises(ccxt.ExchangeError, match="Invalid leverage"):
        await call(hyperliquid.set_leverage, 50, BTC)


async def test_market_order_position_and_fills(
    hyperliquid: Any, sim: SimClient, account: SimAccount
) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    order = await call(hyperliquid.create_order, BTC, "market", "buy", 0.02, 50000)
    assert (order["status"], order["filled"], order["average"]) == (None, 0.02, 50001.0)
    await sim.set_price("BTC_USDT", "51000")
    (position,) = await call(hyperliquid.fetch_positions)
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "long",
        0.02,
        50001.0,
    )
    assert position["unrealizedPnl"] == pytest.approx(19.98)
    (fill,) = await call(hyperliquid.fetch_my_trades, BTC)
    assert (fill["price"], fill["amount"], fill["side"], fill["takerOrMaker"]) == (
        50001.0,
        0.02,
        "buy",
        "taker",
    )
    assert fill["info"]["dir"] == "Open Long"
    assert D(fill["info"]["fee"]) == D("50001") * D("0.02") * D("0.00045")
    close = await call(
        hyperliquid.create_order, BTC, "market", "sell", 0.02, 51000, {"reduceOnly": True}
    )
    assert close["filled"] == 0.02
    trades = await call(hyperliquid.fetch_my_trades, BTC)
    by_dir = {t["info"]["dir"]: t for t in trades}
    assert set(by_dir) == {"Open Long", "Close Long"}
    assert D(by_dir["Close Long"]["info"]["closedPnl"]) == (D("50999") - D("50001")) * D("0.02")
    state = await sim.state(account)
    wallet = D(state["venues"]["hyperliquid"]["balance"]["wallet"])
    fees = sum(D(t["info"]["fee"]) + D(t["info"].get("builderFee", "0")) for t in trades)
    assert wallet == D("10000") + D("19.96") - fees


async def test_builder_fee_is_approved_by_the_wallet_and_charged(hyperliquid: Any) -> None:
    await call(hyperliquid.load_markets)
    assert hyperliquid.options["approvedBuilderFee"] is True
    await call(hyperliquid.create_order, BTC, "market", "buy", 0.01, 50000)
    (fill,) = await call(hyperliquid.fetch_my_trades, BTC)
    assert D(fill["info"]["builderFee"]) == D("50001") * D("0.01") * D("0.0001")


async def test_limit_trigger_and_cloid_orders(hyperliquid: Any, sim: SimClient) -> None:
    await call(hyperliquid.load_markets)
    resting = await call(
        hyperliquid.create_order, BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": CLOID}
    )
    by_cloid = await call(hyperliquid.fetch_order, None, BTC, {"clientOrderId": CLOID})
    assert (by_cloid["id"], by_cloid["status"], by_cloid["clientOrderId"]) == (
        resting["id"],
        "open",
        CLOID,
    )
    canceled = await call(hyperliquid.cancel_order, None, BTC, {"clientOrderId": CLOID})
    assert canceled["status"] == "success"
    assert (await call(hyperliquid.fetch_order, resting["id"], BTC))["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await call(hyperliquid.cancel_order, resting["id"], BTC)
    await call(hyperliquid.create_order, BTC, "market", "buy", 0.02, 50000)
    stop = await call(
        hyperliquid.create_order,
        BTC,
        "market",
        "sell",
        0.02,
        49000,
        {"stopLossPrice": 49000, "reduceOnly": True},
    )
    take = await call(
        hyperliquid.create_order,
        BTC,
        "limit",
        "sell",
        0.01,
        52000,
        {"takeProfitPrice": 52000, "reduceOnly": True},
    )
    open_orders = await call(hyperliquid.fetch_open_orders, BTC)
    kinds = {o["id"]: (o["info"]["orderType"], o["triggerPrice"]) for o in open_orders}
    assert kinds == {
        stop["id"]: ("Stop Market", 49000.0),
        take["id"]: ("Take Profit Limit", 52000.0),
    }
    await sim.set_price("BTC_USDT", "52100")
    taken = await call(hyperliquid.fetch_order, take["id"], BTC)
    assert (taken["status"], taken["filled"]) == ("closed", 0.01)
    (position,) = await call(hyperliquid.fetch_positions)
    assert position["contracts"] == 0.01
    await sim.set_price("BTC_USDT", "48000")
    assert (await call(hyperliquid.fetch_order, stop["id"], BTC))["status"] == "closed"
    assert await call(hyperliquid.fetch_positions) == []


async def test_attached_stop_loss_and_take_profit(hyperliquid: Any, sim: SimClient) -> None:
    await call(hyperliquid.load_markets)
    entry = await call(
        hyperliquid.create_order,
        BTC,
        "limit",
        "buy",
        0.02,
        49500,
        {
            "stopLoss": {"triggerPrice": 48000, "type": "market"},
            "takeProfit": {"triggerPrice": 51000, "type": "market"},
        },
    )
    assert entry["id"] is not None
    open_orders = await call(hyperliquid.fetch_open_orders, BTC)
    assert len(open_orders) == 3
    await sim.set_price("BTC_USDT", "49400")
    (position,) = await call(hyperliquid.fetch_positions)
    assert (position["contracts"], position["entryPrice"]) == (0.02, 49500.0)
    await sim.set_price("BTC_USDT", "51200")
    assert await call(hyperliquid.fetch_positions) == []
    remaining = await call(hyperliquid.fetch_open_orders, BTC)
    assert [o["info"]["orderType"] for o in remaining] == ["Stop Market"]


async def test_order_errors(hyperliquid: Any) -> None:
    await call(hyperliquid.load_markets)
    with pytest.raises(ccxt.InsufficientFunds):
        await call(hyperliquid.create_order, BTC, "market", "buy", 10, 50000)
    with pytest.raises(ccxt.InvalidOrder, match=r"minimum value of \$10"):
        await call(hyperliquid.create_order, BTC, "limit", "buy", 0.0001, 49000)
    with pytest.raises(ccxt.InvalidOrder, match="Reduce only"):
        await call(
            hyperliquid.create_order, BTC, "market", "sell", 0.01, 50000, {"reduceOnly": True}
        )
    with pytest.raises(ccxt.InvalidOrder, match="could not immediately match"):
        await call(
            hyperliquid.create_order, BTC, "limit", "buy", 0.01, 49000, {"timeInForce": "IOC"}
        )


async def test_market_data(hyperliquid: Any, sim: SimClient) -> None:
    await call(hyperliquid.load_markets)
    book = await call(hyperliquid.fetch_order_book, BTC)
    assert (book["bids"][0], book["asks"][0], len(book["bids"])) == (
        [49999.0, 0.5],
        [50001.0, 0.5],
        20,
    )
    await sim.set_price("BTC_USDT", "50500")
    ticker = await call(hyperliquid.fetch_ticker, BTC)
    assert (ticker["close"], ticker["bid"], ticker["ask"]) == (50500.0, 50499.0, 50501.0)
    assert ticker["info"]["markPx"] == "50500.0"
    mids = await call(hyperliquid.publicPostInfo, {"type": "allMids"})
    assert mids["BTC"] == "50500.0"


async def test_fills_by_time_pages_of_2000(
    hyperliquid: Any, sim: SimClient, account: SimAccount
) -> None:
    await sim.generate_history(account, venue="hyperliquid", fills=5000, days=90, seed=1)
    latest = await call(
        hyperliquid.publicPostInfo, {"type": "userFills", "user": account.wallet_address}
    )
    assert len(latest) == 2000 and latest[0]["time"] >= latest[-1]["time"]
    collected: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = await call(
            hyperliquid.publicPostInfo,
            {
                "type": "userFillsByTime",
                "user": account.wallet_address,
                "startTime": cursor,
            },
        )
        collected.extend(page)
        if len(page) < 2000:
            break
        cursor = page[-1]["time"] + 1
    assert len({f["tid"] for f in collected}) == 5000
    closing = [f for f in collected if f["closedPnl"] != "0.0"]
    assert closing and all(f["dir"].startswith(("Close", "Long >", "Short >")) for f in closing)
    since = await call(hyperliquid.fetch_my_trades, BTC, collected[-10]["time"])
    assert 0 < len(since) <= 10


async def test_agent_wallet_approval_rotation_and_refusals(
    sim: SimClient, account: SimAccount
) -> None:
    first, second = Account.create(), Account.create()
    nonce = sim.simulator.clock.now_ms()
    body = approve_agent_request(account.wallet_private_key, first.address, nonce)
    response = await sim.http.post("/hyperliquid/exchange", json=body)
    assert response.json() == {"status": "ok", "response": {"type": "default"}}
    replay = await sim.http.post("/hyperliquid/exchange", json=body)
    assert replay.json() == {"status": "err", "response": "Invalid nonce: duplicate nonce"}
    agents = await sim.http.post(
        "/hyperliquid/info", json={"type": "extraAgents", "user": account.wallet_address}
    )
    assert [a["address"] for a in agents.json()] == [first.address.lower()]

    agent_client = sim.hyperliquid(account, agent_key=first.key.hex())
    await call(agent_client.load_markets)
    order = await call(agent_client.create_order, BTC, "market", "buy", 0.01, 50000)
    assert order["filled"] == 0.01
    assert agent_client.options.get("approvedBuilderFee") is not True
    (position,) = await call(sim.hyperliquid(account).fetch_positions)
    assert position["contracts"] == 0.01

    rotate = approve_agent_request(account.wallet_private_key, second.address, nonce + 1)
    assert (await sim.http.post("/hyperliquid/exchange", json=rotate)).json()["status"] == "ok"
    with pytest.raises(ccxt.InvalidOrder, match=f"{first.address.lower()} does not exist"):
        await call(agent_client.create_order, BTC, "market", "buy", 0.01, 50000)
    stranger = sim.hyperliquid(account, agent_key=Account.create().key.hex())
    with pytest.raises(ccxt.InvalidOrder, match="does not exist"):
        await call(stranger.create_order, BTC, "market", "buy", 0.01, 50000)
    forged = approve_agent_request(second.key.hex(), first.address, nonce + 2)
    refused = await sim.http.post("/hyperliquid/exchange", json=forged)
    assert refused.json()["status"] == "err"
    named = approve_agent_request(account.wallet_private_key, first.address, nonce + 3, "bot")
    assert (await sim.http.post("/hyperliquid/exchange", json=named)).json()["status"] == "ok"
    agents = await sim.http.post(
        "/hyperliquid/info", json={"type": "extraAgents", "user": account.wallet_address}
    )
    assert {(a["name"], a["address"]) for a in agents.json()} == {
        ("", second.address.lower()),
        ("bot", first.address.lower()),
    }


async def test_malformed_exchange_requests(sim: SimClient) -> None:
    bad = await sim.http.post("/hyperliquid/exchange", json={"action": {"type": "order"}})
    assert bad.status_code == 422
    unknown = await sim.http.post("/hyperliquid/info", json={"type": "nope"})
    assert unknown.status_code == 422
    stale = await sim.http.post(
        "/hyperliquid/exchange",
        json={
            "action": {"type": "order", "orders": [], "grouping": "na"},
            "nonce": 1,
            "signature": {"r": "0x1", "s": "0x1", "v": 27},
        },
    )
    assert stale.json()["status"] == "err" and "nonce" in stale.json()["response"]


async def test_position_take_profit_and_stop_loss(hyperliquid: Any, sim: SimClient) -> None:
    await call(hyperliquid.load_markets)
    await call(hyperliquid.create_order, BTC, "market", "buy", 0.02, 50000)
    placed = await call(
        hyperliquid.create_order,
        BTC,
        "market",
        "buy",
        0.02,
        50000,
        {
            "grouping": "positionTpsl",
            "stopLoss": {"triggerPrice": 48000},
            "takeProfit": {"triggerPrice": 52000},
        },
    )
    assert placed["status"] == "waitingForTrigger"
    guards = await call(hyperliquid.fetch_open_orders, BTC)
    assert sorted((o["info"]["orderType"], o["info"]["isPositionTpsl"]) for o in guards) == [
        ("Stop Market", True),
        ("Take Profit Market", True),
    ]
    await sim.set_price("BTC_USDT", "52500")
    assert await call(hyperliquid.fetch_positions) == []
    stop = next(o for o in guards if o["info"]["orderType"] == "Stop Market")
    status = await call(
        hyperliquid.publicPostInfo,
        {
            "type": "orderStatus",
            "user": hyperliquid.walletAddress,
            "oid": int(stop["id"]),
        },
    )
    assert status["order"]["status"] == "siblingFilledCanceled"
    assert (await call(hyperliquid.fetch_order, stop["id"], BTC))["status"] == "canceled"


async def test_plain_open_orders_meta_and_trades(hyperliquid: Any) -> None:
    await call(hyperliquid.load_markets)
    resting = await call(hyperliquid.create_order, BTC, "limit", "sell", 0.01, 51000)
    (plain_order,) = await call(
        hyperliquid.fetch_open_orders, BTC, None, None, {"method": "openOrders"}
    )
    assert (plain_order["id"], plain_order["side"], plain_order["price"]) == (
        resting["id"],
        "sell",
        51000.0,
    )
    assert "orderType" not in plain_order["info"]
    meta = await call(hyperliquid.publicPostInfo, {"type": "meta"})
    assert [(u["name"], u["szDecimals"], u["maxLeverage"]) for u in meta["universe"]] == [
        ("BTC", 5, 40),
        ("ETH", 4, 25),
        ("SOL", 2, 20),
    ]
    await call(hyperliquid.create_order, BTC, "market", "buy", 0.01, 50000)
    (trade,) = await call(hyperliquid.fetch_trades, BTC)
    assert (trade["symbol"], trade["amount"]) == (BTC, 0.01)
