"""The real ``ccxt.woo`` against the simulator's WOO X dialect over loopback."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
SOL = "SOL/USDT:USDT"


async def test_load_markets_reads_instruments_tokens_and_networks(woo: Any) -> None:
    markets = await call(woo.load_markets)
    assert set(markets) == {BTC, ETH, SOL}
    btc = markets[BTC]
    assert (btc["id"], btc["settle"], btc["linear"], btc["swap"]) == (
        "PERP_BTC_USDT",
        "USDT",
        True,
        True,
    )
    assert btc["precision"] == {"amount": 0.0001, "price": 0.1}
    assert btc["limits"]["amount"] == {"min": 0.0001, "max": 50.0}
    assert btc["limits"]["cost"]["min"] == 10.0
    assert markets[SOL]["precision"] == {"amount": 0.01, "price": 0.001}
    assert {"USDT", "BTC", "ETH", "SOL"} <= set(woo.currencies)
    info = await call(woo.v1PublicGetInfoSymbol, {"symbol": "PERP_ETH_USDT"})
    assert (info["success"], info["info"]["quote_tick"], info["info"]["base_min"]) == (
        True,
        0.01,
        0.001,
    )


async def test_ticker_book_and_public_trades(woo: Any, sim: SimClient) -> None:
    await call(woo.create_order, BTC, "market", "buy", 0.01)
    await sim.set_price("BTC_USDT", "50500")
    ticker = await call(woo.fetch_ticker, BTC)
    assert (ticker["last"], ticker["open"], ticker["high"], ticker["markPrice"]) == (
        50500.0,
        50000.1,
        50500.0,
        50500.0,
    )
    book = await call(woo.fetch_order_book, BTC, 5)
    assert book["bids"][0] == [50499.9, 2.0] and book["asks"][0] == [50500.1, 2.0]
    assert len(book["asks"]) == 5
    trades = await call(woo.fetch_trades, BTC)
    assert sorted(t["price"] for t in trades) == [50000.1, 50500.0]


async def test_balance_positions_leverage_and_account_info(woo: Any, sim: SimClient) -> None:
    balance = await call(woo.fetch_balance)
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    await call(woo.set_leverage, 5, BTC)
    leverage = await call(woo.fetch_leverage, BTC)
    assert (leverage["longLeverage"], leverage["marginMode"]) == (5, "cross")
    order = await call(woo.create_order, BTC, "market", "buy", 0.1)
    assert order["id"]
    await sim.set_price("BTC_USDT", "51000")
    (position,) = await call(woo.fetch_positions)
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.1)
    assert (position["entryPrice"], position["leverage"], position["hedged"]) == (
        50000.1,
        5.0,
        False,
    )
    assert position["unrealizedPnl"] == pytest.approx(99.99)
    fee = D("50000.1") * D("0.1") * D("0.0005")
    balance = await call(woo.fetch_balance)
    assert D(balance["info"]["holding"][0]["holding"]) == D("10000") - fee
    info = (await call(woo.v3PrivateGetAccountInfo))["data"]
    assert info["positionMode"] == "ONE_WAY"
    assert D(info["totalAccountValue"]) == D("10000") - fee + D("99.99")
    assert D(info["freeCollateral"]) == D(info["totalAccountValue"]) - D("51000") * D("0.1") / 5
    assert D(balance["info"]["holding"][0]["availableBalance"]) == D(info["freeCollateral"])
    assert await call(woo.fetch_positions, [ETH]) == []


async def test_limit_and_market_orders_with_numeric_client_ids(woo: Any) -> None:
    entry = {"clientOrderId": "1001"}
    order = await call(woo.create_order, BTC, "limit", "buy", 0.01, 49000, entry)
    assert (order["clientOrderId"], order["price"], order["amount"]) == ("1001", 49000.0, 0.01)
    with pytest.raises(ccxt.DuplicateOrderId, match="302117"):
        await call(woo.create_order, BTC, "limit", "buy", 0.01, 48000, entry)
    with pytest.raises(ccxt.BadRequest, match="-1005"):
        await call(woo.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "tdo-1"})
    (listed,) = await call(woo.fetch_open_orders, BTC)
    assert (listed["id"], listed["status"], listed["clientOrderId"]) == (
        order["id"],
        "open",
        "1001",
    )
    by_id = await call(woo.fetch_order, order["id"], BTC)
    by_client = await call(woo.fetch_order, None, BTC, {"clientOrderId": "1001"})
    assert by_id["id"] == by_client["id"] == order["id"]
    with pytest.raises(ccxt.BadRequest, match="-1006"):
        await call(woo.fetch_order, "1001", BTC)
    canceled = await call(woo.cancel_order, None, BTC, {"clientOrderId": "1001"})
    assert canceled["status"] == "canceled"
    assert (await call(woo.fetch_order, order["id"], BTC))["status"] == "canceled"
    with pytest.raises(ccxt.BadRequest, match="already canceled"):
        await call(woo.cancel_order, order["id"], BTC)
    again = await call(woo.create_order, BTC, "limit", "buy", 0.01, 48000, entry)
    market = await call(woo.create_order, BTC, "market", "buy", 0.01, None, {"clientOrderId": 7})
    done = await call(woo.fetch_order, market["id"], BTC)
    assert (done["status"], done["filled"], done["average"], done["clientOrderId"]) == (
        "closed",
        0.01,
        50000.1,
        "7",
    )
    await call(woo.cancel_order, again["id"], BTC)
    closed = await call(woo.fetch_closed_orders, BTC)
    assert {o["id"] for o in closed} == {order["id"], again["id"], market["id"]}


async def test_marketable_limit_fills_partly_and_rests(woo: Any) -> None:
    await call(woo.set_leverage, 50, BTC)
    order = await call(woo.create_order, BTC, "limit", "buy", 3, 50000.1)
    fetched = await call(woo.fetch_order, order["id"], BTC)
    assert (fetched["status"], fetched["filled"], fetched["remaining"]) == ("open", 2.0, 1.0)
    assert fetched["info"]["status"] == "PARTIAL_FILLED"
    trades = await call(woo.fetch_my_trades, BTC)
    assert sorted((t["price"], t["amount"]) for t in trades) == [(50000.1, 2.0)]
    ioc = await call(woo.create_order, BTC, "limit", "sell", 7, 49999.8, {"timeInForce": "ioc"})
    gone = await call(woo.fetch_order, ioc["id"], BTC)
    assert (gone["status"], gone["filled"], gone["type"]) == ("canceled", 6.0, "ioc")


async def test_stop_and_take_profit_on_the_algo_endpoint(woo: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.create_order, BTC, "market", "buy", 0.2)
    stop = await call(
        woo.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"triggerPrice": 49000, "reduceOnly": True, "clientOrderId": "501"},
    )
    take = await call(
        woo.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"triggerPrice": 52000, "reduceOnly": True, "clientOrderId": "502"},
    )
    assert (stop["info"]["algoType"], take["info"]["algoType"]) == ("STOP_LOSS", "TAKE_PROFIT")
    assert await call(woo.fetch_open_orders, BTC) == []
    pending = await call(woo.fetch_open_orders, BTC, None, None, {"trigger": True})
    assert {(o["id"], o["triggerPrice"], o["reduceOnly"]) for o in pending} == {
        (stop["id"], 49000.0, True),
        (take["id"], 52000.0, True),
    }
    by_client = await call(woo.fetch_order, "501", None, {"trigger": True, "clientOrderId": "501"})
    assert (by_client["id"], by_client["status"]) == (stop["id"], "open")
    with pytest.raises(ccxt.BadRequest, match="-1006"):
        await call(woo.fetch_order, stop["id"], BTC)
    await call(woo.cancel_order, None, None, {"trigger": True, "clientOrderId": "501"})
    with pytest.raises(ccxt.OrderNotFound, match="317184"):
        await call(woo.cancel_order, stop["id"], None, {"trigger": True})
    await sim.set_price("BTC_USDT", "52500")
    done = await call(woo.fetch_order, take["id"], None, {"trigger": True})
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.2, 52499.9)
    assert done["info"]["isTriggered"] is True
    assert await call(woo.fetch_positions) == []
    sells = [t for t in await call(woo.fetch_my_trades, BTC) if t["side"] == "sell"]
    assert [(t["order"], t["price"], t["amount"]) for t in sells] == [(take["id"], 52499.9, 0.2)]
    assert D(sells[0]["info"]["realizedPnl"]) == (D("52499.9") - D("50000.1")) * D("0.2")
    gone = await call(woo.fetch_order, stop["id"], None, {"trigger": True})
    assert gone["status"] == "canceled"
    history = await call(woo.fetch_closed_orders, BTC, None, None, {"trigger": True})
    assert {o["id"] for o in history} == {stop["id"], take["id"]}


async def test_trigger_at_the_current_price_is_refused(woo: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    with pytest.raises(ccxt.InvalidOrder, match="317151"):
        await call(woo.create_order, BTC, "market", "sell", 0.1, None, {"triggerPrice": 50000})
    with pytest.raises(ccxt.InvalidOrder, match="317150"):
        await call(woo.create_order, BTC, "market", "buy", 0.1, None, {"triggerPrice": 50000})


async def test_a_stop_already_crossed_becomes_a_take_profit(woo: Any, sim: SimClient) -> None:
    """WOO reads a STOP's direction from where the price is: a sell trigger above the price
    waits for a rise, so a long's "stop" placed after the price fell through it does not fire."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.create_order, BTC, "market", "buy", 0.1)
    await sim.set_price("BTC_USDT", "48500")
    late = await call(
        woo.create_order,
        BTC,
        "market",
        "sell",
        0.1,
        None,
        {"triggerPrice": 49000, "reduceOnly": True},
    )
    assert late["info"]["algoType"] == "TAKE_PROFIT"
    await sim.set_price("BTC_USDT", "48000")
    assert (await call(woo.fetch_order, late["id"], None, {"trigger": True}))["status"] == "open"
    (position,) = await call(woo.fetch_positions)
    assert position["contracts"] == 0.1


async def test_stop_loss_price_on_the_order_endpoint_closes_at_once(
    woo: Any, sim: SimClient
) -> None:
    """ccxt.woo does not read ``stopLossPrice``: the field goes to ``POST /v3/trade/order`` with
    an ordinary reduce-only MARKET order, the venue ignores it, the position is closed now."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.create_order, BTC, "market", "buy", 0.2)
    stop = await call(
        woo.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"stopLossPrice": 49000, "reduceOnly": True},
    )
    assert "algoOrderId" not in stop["info"]
    executed = await call(woo.fetch_order, stop["id"], BTC)
    assert (executed["status"], executed["filled"], executed["average"]) == (
        "closed",
        0.2,
        49999.9,
    )
    assert await call(woo.fetch_positions) == []
    assert await call(woo.fetch_open_orders, BTC, None, None, {"trigger": True}) == []
    trades = await call(woo.fetch_my_trades, BTC)
    assert [(t["side"], t["price"]) for t in trades if t["order"] == stop["id"]] == [
        ("sell", 49999.9)
    ]


async def test_reduce_only_and_margin_refusals(woo: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="302138"):
        await call(woo.create_order, BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="-1101"):
        await call(woo.create_order, BTC, "market", "buy", 2.5)
    with pytest.raises(ccxt.InvalidOrder, match="-1102"):
        await call(woo.create_order, BTC, "market", "buy", 0.0001)
    await call(woo.create_order, BTC, "market", "buy", 0.01)
    closed = await call(woo.create_order, BTC, "market", "sell", 0.05, None, {"reduceOnly": True})
    assert (await call(woo.fetch_order, closed["id"], BTC))["filled"] == 0.01
    assert await call(woo.fetch_positions) == []


async def test_my_trades_page_through_history(
    woo: Any, sim: SimClient, account: SimAccount
) -> None:
    assert await sim.generate_history(account, venue="woo", fills=1200, days=30, seed=3) == 1200
    await call(woo.load_markets)
    state = sim.simulator.engines["woo"].account(account.account_id)
    every = sorted(f.id for f in state.fills.all())
    first = await call(woo.v3PrivateGetTradeTransactionHistory, {"limit": 500})
    assert first["data"]["meta"] == {"total": 1200, "recordsPerPage": 500, "currentPage": 1}
    assert [r["id"] for r in first["data"]["rows"]] == every[::-1][:500]
    third = await call(woo.fetch_my_trades, None, None, 500, {"page": 3})
    assert sorted(int(t["id"]) for t in third) == every[:200]
    assert await call(woo.fetch_my_trades, None, None, 500, {"page": 4}) == []
    paged = await call(woo.fetch_my_trades, None, None, None, {"paginate": True})
    assert sorted(int(t["id"]) for t in paged) == every
    btc = [f for f in state.fills.all() if f.symbol == "BTC_USDT"]
    cursor, seen = 0, list[int]()
    while True:
        rows = await call(woo.fetch_my_trades, BTC, None, 250, {"fromId": cursor})
        seen.extend(int(t["id"]) for t in rows)
        if len(rows) < 250:
            break
        cursor = int(rows[-1]["id"]) + 1
    assert seen == [f.id for f in btc]
    since = woo.milliseconds() - 5 * 86_400_000
    recent = await call(woo.fetch_my_trades, BTC, since, 500)
    assert {int(t["id"]) for t in recent} == {f.id for f in btc if f.time_ms >= since}


async def test_order_trades_over_the_v1_api(woo: Any) -> None:
    await call(woo.set_leverage, 50, BTC)
    order = await call(woo.create_order, BTC, "market", "buy", 3)
    trades = await call(woo.fetch_order_trades, order["id"], BTC)
    assert [(t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [
        (50000.1, 2.0, "taker"),
        (50000.2, 1.0, "taker"),
    ]


async def test_control_api_fills_states_and_histories_on_woo(
    woo: Any, sim: SimClient, account: SimAccount
) -> None:
    order = await call(woo.create_order, BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "77"})
    filled = await sim.fill_order(account, "woo", client_order_id="77", quantity="0.004")
    assert (filled["venue"], filled["status"], filled["remaining"]) == (
        "woo",
        "PARTIALLY_FILLED",
        "0.006",
    )
    seen = await call(woo.fetch_order, order["id"], BTC)
    assert (seen["status"], seen["filled"], seen["remaining"]) == ("open", 0.004, 0.006)
    (trade,) = await call(woo.fetch_my_trades, BTC)
    assert (trade["takerOrMaker"], trade["price"]) == ("maker", 49000.0)
    state = await sim.state(account)
    woo_state = state["venues"]["woo"]
    assert (woo_state["settle"], woo_state["fills_total"]) == ("USDT", 1)
    assert woo_state["open_orders"][0]["client_id"] == "77"
    assert await sim.generate_history(account, venue="woo", fills=10, days=2, seed=1) == 10
    assert (await sim.state(account))["venues"]["woo"]["fills_total"] == 11


async def test_cancel_all_orders_regular_and_algo(woo: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.create_order, BTC, "limit", "buy", 0.01, 49000)
    await call(woo.create_order, BTC, "market", "buy", 0.01, None, {"triggerPrice": 51000})
    await call(woo.create_order, ETH, "market", "buy", 0.1, None, {"triggerPrice": 3100})
    await call(woo.cancel_all_orders, BTC)
    assert await call(woo.fetch_open_orders, BTC) == []
    assert await call(woo.fetch_open_orders, BTC, None, None, {"trigger": True}) == []
    (eth,) = await call(woo.fetch_open_orders, None, None, None, {"trigger": True})
    assert eth["symbol"] == ETH
    await call(woo.create_order, BTC, "market", "buy", 0.01, None, {"triggerPrice": 51000})
    await call(woo.cancel_all_orders, BTC, {"trigger": True})
    assert await call(woo.fetch_open_orders, None, None, None, {"trigger": True}) == []
