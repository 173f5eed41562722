"""The real ``ccxt.binanceusdm`` against the simulator over loopback."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDT:USDT"
SOL = "SOL/USDT:USDT"


async def test_load_markets_shows_real_filters(binance: Any) -> None:
    markets = await call(binance.load_markets)
    assert set(markets) == {BTC, "ETH/USDT:USDT", SOL}
    btc = markets[BTC]
    assert (btc["id"], btc["settle"], btc["linear"], btc["swap"]) == ("BTCUSDT", "USDT", True, True)
    assert btc["precision"] == {"amount": 0.001, "price": 0.1, "base": 1e-08, "quote": 1e-08}
    assert btc["limits"]["cost"]["min"] == 100.0
    assert markets[SOL]["precision"]["amount"] == 1.0
    assert "USDT" in binance.currencies


async def test_fetch_currencies_option_skips_the_sapi_calls(
    sim: SimClient, account: SimAccount
) -> None:
    await sim.set_fault("binanceusdm", "outage", endpoint="/sapi/*")
    quiet = sim.binance(account, fetchCurrencies=False)
    assert BTC in await call(quiet.load_markets)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(sim.binance(account).load_markets)


async def test_balance_positions_and_leverage(binance: Any, sim: SimClient) -> None:
    balance = await call(binance.fetch_balance)
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    response = await call(binance.set_leverage, 10, BTC)
    assert response["leverage"] == 10
    order = await call(binance.create_order, BTC, "market", "buy", 0.1)
    assert (order["status"], order["filled"], order["average"]) == ("closed", 0.1, 50000.1)
    await sim.set_price("BTC_USDT", "51000")
    (position,) = await call(binance.fetch_positions)
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.1)
    assert position["entryPrice"] == 50000.1
    assert position["unrealizedPnl"] == pytest.approx(99.99)
    assert position["initialMargin"] == pytest.approx(510.0)
    balance = await call(binance.fetch_balance)
    fee = D("50000.1") * D("0.1") * D("0.0005")
    assert D(str(balance["USDT"]["total"])) == D("10000") - fee + D("99.99")
    assert balance["USDT"]["used"] == pytest.approx(510.0)
    with pytest.raises(ccxt.BadRequest):
        await call(binance.set_leverage, 100, SOL)


async def test_limit_orders_client_ids_and_cancel(binance: Any) -> None:
    order = await call(
        binance.create_order, BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "entry-1"}
    )
    assert (order["status"], order["clientOrderId"], order["price"]) == ("open", "entry-1", 49000.0)
    with pytest.raises(ccxt.InvalidOrder, match="-4116"):
        await call(
            binance.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "entry-1"}
        )
    (listed,) = await call(binance.fetch_open_orders, BTC)
    assert listed["id"] == order["id"]
    fetched = await call(binance.fetch_order, order["id"], BTC)
    assert fetched["status"] == "open"
    by_client = await call(binance.fetch_order, None, BTC, {"clientOrderId": "entry-1"})
    assert by_client["id"] == order["id"]
    canceled = await call(binance.cancel_order, order["id"], BTC)
    assert canceled["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await call(binance.cancel_order, order["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound):
        await call(binance.fetch_order, "12345", BTC)
    again = await call(
        binance.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "entry-1"}
    )
    assert again["status"] == "open"


async def test_partial_fill_of_a_marketable_limit(binance: Any) -> None:
    order = await call(binance.create_order, BTC, "limit", "buy", 2, 50000.2)
    assert (order["status"], order["filled"], order["remaining"]) == ("open", 1.5, 0.5)
    trades = await call(binance.fetch_my_trades, BTC)
    assert [(t["price"], t["amount"]) for t in trades] == [(50000.1, 0.5), (50000.2, 1.0)]
    assert all(t["order"] == order["id"] and t["takerOrMaker"] == "taker" for t in trades)


async def test_stop_and_take_profit_orders(binance: Any, sim: SimClient) -> None:
    await call(binance.create_order, BTC, "market", "buy", 0.2)
    stop = await call(
        binance.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"stopPrice": 49000, "reduceOnly": True},
    )
    take = await call(
        binance.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"takeProfitPrice": 52000, "reduceOnly": True},
    )
    assert (stop["type"], stop["triggerPrice"], stop["reduceOnly"]) == ("market", 49000.0, True)
    assert take["takeProfitPrice"] == 52000.0
    assert await call(binance.fetch_open_orders, BTC) == []
    pending = await call(binance.fetch_open_orders, BTC, None, None, {"trigger": True})
    assert {o["id"] for o in pending} == {stop["id"], take["id"]}
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await call(binance.create_order, BTC, "market", "sell", 0.2, None, {"stopPrice": 50500})
    await call(binance.cancel_order, stop["id"], BTC, {"trigger": True})
    await sim.set_price("BTC_USDT", "52500")
    done = await call(binance.fetch_order, take["id"], BTC, {"trigger": True})
    assert done["status"] == "closed"
    assert done["info"]["actualOrderId"] == take["id"]
    executed = await call(binance.fetch_order, take["id"], BTC)
    assert (executed["filled"], executed["average"]) == (0.2, 52499.9)
    assert await call(binance.fetch_positions) == []
    gone = await call(binance.fetch_order, stop["id"], BTC, {"trigger": True})
    assert gone["status"] == "canceled"


async def test_order_rejections_map_to_ccxt_errors(binance: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await call(binance.create_order, BTC, "market", "buy", 5)
    with pytest.raises(ccxt.InvalidOrder, match="no smaller than 100"):
        await call(binance.create_order, BTC, "market", "buy", 0.001)
    with pytest.raises(ccxt.InvalidOrder, match="ReduceOnly"):
        await call(binance.create_order, BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.BadSymbol):
        await call(binance.fapiPublicGetDepth, {"symbol": "DOGEUSDT"})


async def test_authentication_failures(sim: SimClient, account: SimAccount) -> None:
    wrong_key = sim.binance(
        SimAccount(
            account.account_id,
            "k" * 64,
            account.secret,
            account.wallet_address,
            account.wallet_private_key,
        )
    )
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await call(wrong_key.fetch_balance)
    malformed = sim.binance(SimAccount(account.account_id, "short", account.secret, "", ""))
    with pytest.raises(ccxt.AuthenticationError, match="-2014"):
        await call(malformed.fetch_balance)
    wrong_secret = sim.binance(SimAccount(account.account_id, account.api_key, "s" * 64, "", ""))
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await call(wrong_secret.fetch_balance)
    late = sim.binance(account)
    await call(late.load_markets)
    late.options["timeDifference"] = 120_000
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await call(late.fetch_balance)
    late.options["timeDifference"] = -5_000
    with pytest.raises(ccxt.InvalidNonce, match="ahead"):
        await call(late.fetch_balance)


async def test_key_permissions(sim: SimClient) -> None:
    reader = await sim.create_account(permissions={"enableFutures": False})
    withdrawer = await sim.create_account(permissions={"enableWithdrawals": True})
    restrictions = await call(sim.binance(withdrawer).sapiGetAccountApiRestrictions)
    assert restrictions["enableWithdrawals"] is True and restrictions["enableReading"] is True
    restrictions = await call(sim.binance(reader).sapiGetAccountApiRestrictions)
    assert (restrictions["enableWithdrawals"], restrictions["enableFutures"]) == (False, False)
    read_only = sim.binance(reader)
    assert (await call(read_only.fetch_balance))["USDT"]["total"] == 10000.0
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await call(read_only.create_order, BTC, "market", "buy", 0.01)


async def test_market_data(binance: Any, sim: SimClient) -> None:
    await call(binance.create_order, BTC, "market", "buy", 0.01)
    await sim.set_price("BTC_USDT", "50500")
    ticker = await call(binance.fetch_ticker, BTC)
    assert (ticker["last"], ticker["open"], ticker["high"]) == (50500.0, 50000.1, 50500.0)
    book = await call(binance.fetch_order_book, BTC, 5)
    assert book["bids"][0] == [50499.9, 0.5] and book["asks"][0] == [50500.1, 0.5]
    assert len(book["asks"]) == 5
    trades = await call(binance.fetch_trades, BTC)
    assert [t["price"] for t in trades] == [50000.1, 50500.0]


async def test_my_trades_follow_binance_limits(
    binance: Any, sim: SimClient, account: SimAccount
) -> None:
    assert await sim.generate_history(account, fills=5000, days=90, seed=2) == 5000
    await call(binance.load_markets)
    now = binance.milliseconds()
    recent = await call(binance.fetch_my_trades, BTC)
    assert recent and all(now - t["timestamp"] <= 7 * 86_400_000 for t in recent)
    since = now - 60 * 86_400_000
    window = await call(binance.fetch_my_trades, BTC, since)
    assert all(since <= t["timestamp"] <= since + 7 * 86_400_000 for t in window)
    with pytest.raises(ccxt.BadRequest, match="-1127"):
        await call(binance.fetch_my_trades, BTC, since, None, {"endTime": now})
    everything = []
    from_id = 0
    while True:
        page = await call(binance.fetch_my_trades, BTC, None, 1000, {"fromId": from_id})
        assert len(page) <= 1000
        everything.extend(page)
        if len(page) < 1000:
            break
        from_id = int(page[-1]["id"]) + 1
    state = sim.simulator.engines["binance"].account(account.account_id)
    btc_fills = [f for f in state.fills.all() if f.symbol == "BTC_USDT"]
    assert [int(t["id"]) for t in everything] == [f.id for f in btc_fills]
    assert sum(D(str(t["info"]["realizedPnl"])) for t in everything) == sum(
        f.realized_pnl for f in btc_fills
    )
