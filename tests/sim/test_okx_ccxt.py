"""The real ``ccxt.okx`` against the simulator over loopback: markets, contracts, balance,
positions, leverage and regular orders."""

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


async def test_load_markets_lists_the_swaps_with_their_contract_size(okx: Any) -> None:
    markets = await call(okx.load_markets)
    assert set(markets) == {BTC, ETH, SOL}
    btc = markets[BTC]
    assert (btc["id"], btc["type"], btc["linear"], btc["settle"]) == (
        "BTC-USDT-SWAP",
        "swap",
        True,
        "USDT",
    )
    assert (btc["contractSize"], btc["precision"]["amount"], btc["precision"]["price"]) == (
        0.01,
        0.01,
        0.1,
    )
    assert (btc["limits"]["amount"]["min"], btc["limits"]["leverage"]["max"]) == (0.01, 100)
    assert (markets[ETH]["contractSize"], markets[ETH]["precision"]["price"]) == (0.1, 0.01)
    assert (markets[SOL]["contractSize"], markets[SOL]["limits"]["leverage"]["max"]) == (1.0, 50)
    assert {"USDT", "BTC", "ETH", "SOL"} <= set(okx.currencies)
    assert "TRC20" in okx.currencies["USDT"]["networks"]


async def test_amounts_are_contracts_on_the_wire_and_base_units_in_the_engine(
    okx: Any, sim: SimClient, account: SimAccount
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    order = await call(okx.create_order, BTC, "market", "buy", 3)
    await call(okx.create_order, ETH, "market", "sell", 0.5)
    await call(okx.create_order, SOL, "market", "buy", 2.37)
    state = (await sim.state(account))["venues"]["okx"]
    sizes = {p["symbol"]: p["size"] for p in state["positions"]}
    assert sizes == {"BTC_USDT": "0.03", "ETH_USDT": "-0.05", "SOL_USDT": "2.37"}
    positions = {p["symbol"]: p for p in await call(okx.fetch_positions)}
    assert (positions[BTC]["contracts"], positions[BTC]["contractSize"]) == (3.0, 0.01)
    assert (positions[BTC]["side"], positions[BTC]["info"]["pos"]) == ("long", "3")
    assert (positions[ETH]["side"], positions[ETH]["info"]["pos"]) == ("short", "-0.5")
    assert positions[ETH]["info"]["posSide"] == "net"
    assert positions[SOL]["contracts"] == 2.37
    fetched = await call(okx.fetch_order, order["id"], BTC)
    assert (fetched["amount"], fetched["filled"], fetched["average"]) == (3.0, 3.0, 50000.1)
    assert (fetched["info"]["accFillSz"], fetched["info"]["sz"]) == ("3", "3")
    (trade,) = await call(okx.fetch_my_trades, BTC)
    assert (trade["amount"], trade["info"]["fillSz"], trade["price"]) == (3.0, "3", 50000.1)
    assert D(trade["info"]["fee"]) == -(D("50000.1") * D("0.03") * D("0.0005"))
    with pytest.raises(ccxt.InvalidOrder, match="51121"):
        await call(
            okx.privatePostTradeBatchOrders,
            [
                {
                    "instId": "BTC-USDT-SWAP",
                    "tdMode": "cross",
                    "side": "buy",
                    "ordType": "market",
                    "sz": "0.005",
                }
            ],
        )


async def test_balance_positions_leverage_and_position_mode(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    balance = await call(okx.fetch_balance)
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    answer = await call(okx.set_leverage, 10, BTC)
    assert answer["data"] == [
        {"lever": "10", "mgnMode": "cross", "instId": "BTC-USDT-SWAP", "posSide": ""}
    ]
    info = await call(
        okx.privateGetAccountLeverageInfo, {"instId": "BTC-USDT-SWAP", "mgnMode": "cross"}
    )
    assert info["data"][0]["lever"] == "10"
    await call(okx.create_order, BTC, "market", "buy", 3)
    await sim.set_price("BTC_USDT", "51000")
    balance = await call(okx.fetch_balance)
    usdt = balance["info"]["data"][0]["details"][0]
    fee = D("50000.1") * D("0.03") * D("0.0005")
    upl = (D("51000") - D("50000.1")) * D("0.03")
    assert D(usdt["cashBal"]) == D("10000") - fee
    assert D(usdt["eq"]) == D("10000") - fee + upl == D("10029.2469985")
    assert (D(usdt["frozenBal"]), D(usdt["imr"])) == (D("153"), D("153"))
    assert D(usdt["availEq"]) == D(usdt["eq"]) - D("153")
    assert balance["USDT"]["total"] == pytest.approx(10029.2469985, abs=1e-9)
    assert balance["USDT"]["free"] == pytest.approx(9876.2469985, abs=1e-9)
    (position,) = await call(okx.fetch_positions)
    assert (position["leverage"], position["marginMode"], position["hedged"]) == (
        10,
        "cross",
        False,
    )
    assert position["unrealizedPnl"] == pytest.approx(29.997)
    assert (position["initialMargin"], position["notional"]) == (153.0, 1530.0)
    with pytest.raises(ccxt.ExchangeError, match="59102"):
        await call(okx.set_leverage, 110, BTC)
    with pytest.raises(ccxt.BadRequest, match="Parameter mgnMode error"):
        await call(okx.set_leverage, 5, BTC, {"marginMode": "isolated"})
    mode = await call(okx.fetch_position_mode)
    assert (mode["hedged"], mode["info"]["posMode"], mode["info"]["acctLv"]) == (
        False,
        "net_mode",
        "2",
    )


async def test_limit_orders_by_id_and_client_id(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    order = await call(
        okx.create_order, BTC, "limit", "buy", 2, 49000, {"clientOrderId": "entry42"}
    )
    assert (order["clientOrderId"], order["info"]["sCode"], order["info"]["sMsg"]) == (
        "entry42",
        "0",
        "Order placed",
    )
    (listed,) = await call(okx.fetch_open_orders, BTC)
    assert (listed["id"], listed["clientOrderId"], listed["status"]) == (
        order["id"],
        "entry42",
        "open",
    )
    assert (listed["amount"], listed["price"], listed["remaining"]) == (2.0, 49000.0, 2.0)
    by_id = await call(okx.fetch_order, order["id"], BTC)
    by_client = await call(okx.fetch_order, None, BTC, {"clientOrderId": "entry42"})
    assert by_id["id"] == by_client["id"] == order["id"]
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        await call(okx.create_order, BTC, "limit", "buy", 1, 48000, {"clientOrderId": "entry42"})
    with pytest.raises(ccxt.BadRequest, match="Parameter clOrdId error"):
        await call(okx.create_order, BTC, "limit", "buy", 1, 48000, {"clientOrderId": "tdo-1-e1"})
    canceled = await call(okx.cancel_order, order["id"], BTC)
    assert (canceled["id"], canceled["clientOrderId"]) == (order["id"], "entry42")
    assert (await call(okx.fetch_order, order["id"], BTC))["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await call(okx.cancel_order, order["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await call(okx.fetch_order, "2896576259728695999", BTC)
    again = await call(
        okx.create_order, BTC, "limit", "buy", 1, 48000, {"clientOrderId": "entry42"}
    )
    found = await call(okx.fetch_order, None, BTC, {"clientOrderId": "entry42"})
    assert (found["id"], found["status"]) == (again["id"], "open")
    await call(okx.cancel_order, None, BTC, {"clientOrderId": "entry42"})
    assert await call(okx.fetch_open_orders, BTC) == []
    canceled_list = await call(okx.fetch_canceled_orders, BTC)
    assert {o["id"] for o in canceled_list} == {order["id"], again["id"]}


async def test_a_crossing_limit_fills_partly_then_a_maker_fill(
    okx: Any, sim: SimClient, account: SimAccount
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    order = await call(okx.create_order, BTC, "limit", "buy", 80, 50000.1)
    assert (order["id"], order["clientOrderId"][:16]) == (
        order["info"]["ordId"],
        okx.options["brokerId"],
    )
    fetched = await call(okx.fetch_order, order["id"], BTC)
    assert (fetched["status"], fetched["filled"], fetched["remaining"]) == ("open", 50.0, 30.0)
    assert fetched["info"]["state"] == "partially_filled"
    await sim.fill_order(account, "okx", order_id=order["id"], quantity="0.1")
    fetched = await call(okx.fetch_order, order["id"], BTC)
    assert (fetched["filled"], fetched["info"]["fillSz"], fetched["info"]["fillPx"]) == (
        60.0,
        "10",
        "50000.1",
    )
    trades = await call(okx.fetch_my_trades, BTC)
    assert [(t["amount"], t["takerOrMaker"]) for t in trades] == [(50.0, "taker"), (10.0, "maker")]
    await call(okx.cancel_order, order["id"], BTC)
    closed = await call(okx.fetch_order, order["id"], BTC)
    assert (closed["status"], closed["filled"]) == ("canceled", 60.0)


async def test_market_data(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.create_order, BTC, "market", "buy", 1)
    await sim.set_price("BTC_USDT", "50500")
    ticker = await call(okx.fetch_ticker, BTC)
    assert (ticker["last"], ticker["open"], ticker["high"], ticker["low"]) == (
        50500.0,
        50000.1,
        50500.0,
        50000.1,
    )
    assert (ticker["bid"], ticker["ask"], ticker["bidVolume"]) == (50499.9, 50500.1, 50.0)
    book = await call(okx.fetch_order_book, BTC, 5)
    assert book["bids"][0] == [50499.9, 50.0, 0] and book["asks"][1] == [50500.2, 100.0, 0]
    assert len(book["asks"]) == 5
    trades = await call(okx.fetch_trades, BTC)
    assert [t["price"] for t in trades] == [50000.1, 50500.0]
    assert trades[0]["amount"] == 1.0
    assert abs(await call(okx.fetch_time) - sim.simulator.clock.now_ms()) < 5_000


async def test_unsupported_modes_are_refused_not_ignored(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    with pytest.raises(ccxt.BadRequest, match="Parameter posSide error"):
        await call(okx.create_order, BTC, "market", "buy", 1, None, {"posSide": "long"})
    with pytest.raises(ccxt.BadRequest, match="Parameter tdMode error"):
        await call(okx.create_order, BTC, "market", "buy", 1, None, {"marginMode": "isolated"})
    with pytest.raises(ccxt.BadRequest, match="attachAlgoOrds"):
        await call(
            okx.create_order, BTC, "market", "buy", 1, None, {"stopLoss": {"triggerPrice": 49000}}
        )
    assert await call(okx.fetch_positions) == []


async def test_single_order_endpoint_and_all_tickers(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    okx.options["createOrder"] = "privatePostTradeOrder"
    order = await call(okx.create_order, BTC, "market", "buy", 1, None, {"clientOrderId": "one1"})
    assert (order["id"], order["clientOrderId"]) == (order["info"]["ordId"], "one1")
    item = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market"}
    with pytest.raises(ccxt.InvalidOrder, match=r'"code":"1".*"sCode":"51121"'):
        await call(okx.privatePostTradeOrder, {**item, "sz": "0.015"})
    assert await call(okx.fetch_tickers) == {}  # default type spot: OKX lists no spot here
    tickers = await call(okx.fetch_tickers, [BTC, ETH, SOL])
    assert set(tickers) == {BTC, ETH, SOL}
    assert tickers[ETH]["last"] == 3000.0
