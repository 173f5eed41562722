"""The real ``ccxt.bybit`` against the simulator's Bybit v5 dialect over loopback."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


@pytest.fixture
def bybit(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.bybit`` for ``account``, pointed at the simulator."""
    return sim.bybit(account)


async def test_load_markets_probes_coins_and_detects_the_unified_account(
    sim: SimClient, bybit: Any
) -> None:
    markets = await call(bybit.load_markets)
    assert set(markets) == {BTC, ETH, "SOL/USDT:USDT"}
    btc = markets[BTC]
    assert (btc["id"], btc["settle"], btc["linear"], btc["swap"]) == ("BTCUSDT", "USDT", True, True)
    assert btc["precision"] == {"amount": 0.001, "price": 0.1}
    assert btc["limits"]["cost"]["min"] == 5.0
    assert btc["limits"]["leverage"]["max"] == 100.0
    assert markets[ETH]["precision"]["amount"] == 0.01
    assert {"USDT", "BTC", "ETH", "SOL"} <= set(bybit.currencies)
    assert bybit.currencies["USDT"]["info"]["chains"][0]["chainDeposit"] == "1"
    assert bybit.options["enableUnifiedAccount"] is None
    assert await call(bybit.is_unified_enabled) == [False, True]
    assert bybit.options["unifiedMarginStatus"] == 6
    info = await call(bybit.privateGetV5UserQueryApi)
    assert (info["result"]["uta"], info["result"]["readOnly"]) == (1, 0)
    await sim.set_fault("bybit", "outage", endpoint="/v5/asset/coin/query-info")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(sim.bybit(SimAccount(1, bybit.apiKey, bybit.secret, "", "")).load_markets)


async def test_balance_positions_and_leverage(sim: SimClient, bybit: Any) -> None:
    balance = await call(bybit.fetch_balance)
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0, "debt": 0.0}
    assert balance["info"]["result"]["list"][0]["accountType"] == "UNIFIED"
    with pytest.raises(ccxt.BadRequest, match="110043"):
        await call(bybit.set_leverage, 10, BTC)
    assert (await call(bybit.set_leverage, 5, BTC))["retCode"] == 0
    with pytest.raises(ccxt.BadRequest, match="110043"):
        await call(bybit.set_leverage, 5, BTC)
    with pytest.raises(ccxt.BadRequest, match="leverage invalid"):
        await call(bybit.set_leverage, 101, BTC)
    await call(bybit.create_order, BTC, "market", "buy", 0.1)
    await sim.set_price("BTC_USDT", "51000")
    (position,) = await call(bybit.fetch_positions)
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.1)
    assert (position["entryPrice"], position["leverage"], position["hedged"]) == (50000.1, 5, False)
    assert position["unrealizedPnl"] == pytest.approx(99.99)
    assert position["initialMargin"] == pytest.approx(1020.0)
    assert position["info"]["positionIdx"] == 0
    flat = await call(bybit.fetch_position, ETH)
    assert (flat["contracts"], flat["side"], flat["info"]["positionIdx"]) == (0, None, 0)
    balance = await call(bybit.fetch_balance)
    fee = D("50000.1") * D("0.1") * D("0.00055")
    wallet = balance["info"]["result"]["list"][0]
    assert D(wallet["totalWalletBalance"]) == D("10000") - fee
    assert D(wallet["totalEquity"]) == D("10000") - fee + D("99.99")
    assert D(wallet["coin"][0]["totalPositionIM"]) == D("1020")
    assert D(str(balance["USDT"]["total"])) == D("10000") - fee
    assert balance["USDT"]["used"] == pytest.approx(1020.0)


async def test_limit_orders_order_link_ids_and_cancel(bybit: Any) -> None:
    order = await call(
        bybit.create_order, BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "entry-1"}
    )
    assert (order["clientOrderId"], order["status"]) == ("entry-1", None)
    with pytest.raises(ccxt.InvalidOrder, match="110072"):
        await call(
            bybit.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "entry-1"}
        )
    with pytest.raises(ccxt.BadRequest, match="orderLinkId invalid"):
        await call(bybit.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "a.b"})
    with pytest.raises(ccxt.BadRequest, match="orderLinkId invalid"):
        await call(
            bybit.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "x" * 37}
        )
    (listed,) = await call(bybit.fetch_open_orders, BTC)
    assert (listed["id"], listed["status"], listed["price"]) == (order["id"], "open", 49000.0)
    assert listed["info"]["orderStatus"] == "New"
    (by_link,) = await call(bybit.fetch_open_orders, BTC, None, None, {"orderLinkId": "entry-1"})
    assert by_link["id"] == order["id"]
    assert (await call(bybit.fetch_open_order, order["id"], BTC))["clientOrderId"] == "entry-1"
    canceled = await call(bybit.cancel_order, order["id"], BTC)
    assert canceled["id"] == order["id"]
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await call(bybit.cancel_order, order["id"], BTC)
    assert await call(bybit.fetch_open_orders, BTC) == []
    (history,) = await call(
        bybit.fetch_canceled_and_closed_orders, BTC, None, None, {"orderLinkId": "entry-1"}
    )
    assert (history["id"], history["status"]) == (order["id"], "canceled")
    assert history["info"]["cancelType"] == "CancelByUser"
    with pytest.raises(ccxt.OrderNotFound):
        await call(bybit.fetch_closed_order, order["id"], BTC)
    again = await call(
        bybit.create_order, BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "entry-1"}
    )
    assert again["id"] != order["id"]


async def test_fetch_order_on_a_unified_account(bybit: Any) -> None:
    order = await call(
        bybit.create_order, BTC, "market", "buy", 0.01, None, {"clientOrderId": "m1"}
    )
    with pytest.raises(ccxt.ArgumentsRequired, match="acknowledged"):
        await call(bybit.fetch_order, order["id"], BTC)
    fetched = await call(bybit.fetch_order, order["id"], BTC, {"acknowledged": True})
    assert (fetched["status"], fetched["filled"], fetched["average"]) == ("closed", 0.01, 50000.1)
    assert (fetched["type"], fetched["timeInForce"], fetched["price"]) == ("market", "IOC", 51500.0)
    assert fetched["fee"] == {"cost": pytest.approx(0.275000550), "currency": "USDT"}
    closed = await call(bybit.fetch_closed_order, order["id"], BTC)
    assert (closed["id"], closed["status"], closed["clientOrderId"]) == (
        order["id"],
        "closed",
        "m1",
    )
    recent = await call(bybit.fetch_open_order, order["id"], BTC)
    assert recent["status"] == "closed"
    (by_link,) = await call(bybit.fetch_open_orders, BTC, None, None, {"orderLinkId": "m1"})
    assert by_link["status"] == "closed"
    assert await call(bybit.fetch_open_orders, BTC) == []
    with pytest.raises(ccxt.OrderNotFound):
        await call(
            bybit.fetch_order, "3db267c0-ec4c-48c7-9a3b-7b3cbb4354e9", BTC, {"acknowledged": True}
        )


async def test_conditional_stop_and_take_profit(sim: SimClient, bybit: Any) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(bybit.create_order, BTC, "market", "buy", 0.2)
    entry = await call(bybit.create_order, BTC, "limit", "buy", 0.01, 45000)
    stop = await call(
        bybit.create_order,
        BTC,
        "market",
        "sell",
        0.2,
        None,
        {"triggerPrice": 49000, "triggerDirection": "descending", "reduceOnly": True},
    )
    take = await call(
        bybit.create_order, BTC, "market", "sell", 0.2, None, {"takeProfitPrice": 52000}
    )
    placed = {o["id"]: o for o in await call(bybit.fetch_open_orders, BTC)}
    assert set(placed) == {entry["id"], stop["id"], take["id"]}
    info = placed[stop["id"]]["info"]
    assert (info["orderStatus"], info["stopOrderType"], info["triggerDirection"]) == (
        "Untriggered",
        "Stop",
        2,
    )
    assert (placed[stop["id"]]["stopLossPrice"], placed[take["id"]]["takeProfitPrice"]) == (
        49000.0,
        52000.0,
    )
    assert placed[take["id"]]["info"]["triggerDirection"] == 1
    assert placed[take["id"]]["reduceOnly"] is True
    pending = await call(bybit.fetch_open_orders, BTC, None, None, {"trigger": True})
    assert {o["id"] for o in pending} == {stop["id"], take["id"]}
    active = await call(bybit.fetch_open_orders, BTC, None, None, {"orderFilter": "Order"})
    assert [o["id"] for o in active] == [entry["id"]]
    with pytest.raises(ccxt.InvalidOrder, match=r"110093.*expect Falling"):
        await call(
            bybit.create_order,
            BTC,
            "market",
            "sell",
            0.2,
            None,
            {"triggerPrice": 50500, "triggerDirection": "descending", "reduceOnly": True},
        )
    with pytest.raises(ccxt.InvalidOrder, match=r"110092.*expect Rising"):
        await call(bybit.create_order, BTC, "market", "sell", 0.2, None, {"takeProfitPrice": 49500})
    await call(bybit.cancel_order, stop["id"], BTC)
    (gone,) = await call(
        bybit.fetch_canceled_and_closed_orders,
        BTC,
        None,
        None,
        {"orderId": stop["id"], "trigger": True},
    )
    assert (gone["status"], gone["info"]["orderStatus"]) == ("canceled", "Deactivated")
    await sim.set_price("BTC_USDT", "52500")
    done = await call(bybit.fetch_closed_order, take["id"], BTC)
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.2, 52499.9)
    assert done["info"]["stopOrderType"] == "Stop"
    assert await call(bybit.fetch_positions) == []
    trades = await call(bybit.fetch_my_trades, BTC)
    fired = [t for t in trades if t["order"] == take["id"]]
    assert [(t["price"], t["amount"], t["side"]) for t in fired] == [(52499.9, 0.2, "sell")]
    assert fired[0]["info"]["closedSize"] == "0.200"


async def test_order_rejections_map_to_ccxt_errors(sim: SimClient, bybit: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await call(bybit.create_order, BTC, "market", "buy", 5)
    with pytest.raises(ccxt.InvalidOrder, match=r"110094.*5USDT"):
        await call(bybit.create_order, BTC, "limit", "buy", 0.001, 1000)
    with pytest.raises(ccxt.InvalidOrder, match=r"110017.*position is zero"):
        await call(bybit.create_order, BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    await call(bybit.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match=r"110017.*same side"):
        await call(bybit.create_order, BTC, "market", "buy", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.BadRequest, match="position idx not match position mode"):
        await call(bybit.create_order, BTC, "market", "buy", 0.01, None, {"positionIdx": 1})
    with pytest.raises(ccxt.BadRequest, match="maximum limit"):
        await call(bybit.create_order, BTC, "market", "buy", 120)
    with pytest.raises(ccxt.BadRequest, match="symbol invalid"):
        await call(
            bybit.privatePostV5OrderCreate,
            {
                "category": "linear",
                "symbol": "DOGEUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "10",
            },
        )
    with pytest.raises(ccxt.BadSymbol):
        await call(bybit.publicGetV5MarketTickers, {"category": "linear", "symbol": "DOGEUSDT"})
    empty = sim.bybit(await sim.create_account("0"))
    with pytest.raises(ccxt.InsufficientFunds, match="110004"):
        await call(empty.create_order, BTC, "market", "buy", 0.01)


async def test_authentication_failures(sim: SimClient, account: SimAccount) -> None:
    def client(key: str, secret: str) -> Any:
        """A client of the account with other credentials."""
        return sim.bybit(SimAccount(account.account_id, key, secret, "", ""))

    with pytest.raises(ccxt.AuthenticationError, match="10003"):
        await call(client("k" * 18, account.secret).fetch_balance)
    with pytest.raises(ccxt.AuthenticationError, match=r"10004.*error sign"):
        await call(client(account.api_key, "s" * 36).fetch_balance)
    late = sim.bybit(account)
    await call(late.load_markets)
    late.options["timeDifference"] = 120_000
    with pytest.raises(ccxt.InvalidNonce, match=r"10002.*recv_window\[5000\]"):
        await call(late.fetch_balance)
    late.options["recvWindow"] = 180_000
    assert (await call(late.fetch_balance))["USDT"]["total"] == 10000.0
    late.options["recvWindow"] = 5_000
    late.options["timeDifference"] = -2_000
    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        await call(late.fetch_balance)
    unsigned = await sim.http.get(
        "/bybit/v5/account/wallet-balance?accountType=UNIFIED",
        headers={"X-BAPI-API-KEY": account.api_key},
    )
    body = unsigned.json()
    assert (unsigned.status_code, body["retCode"]) == (200, 10001)
    assert body["retMsg"].endswith("apiSignature[]: openapi sign params error!")
    broad = sim.bybit(account).exceptions["broad"]
    assert broad["openapi sign params error!"] is ccxt.AuthenticationError


async def test_key_without_trading_permission(sim: SimClient) -> None:
    reader = sim.bybit(await sim.create_account(permissions={"enableFutures": False}))
    assert (await call(reader.fetch_balance))["USDT"]["total"] == 10000.0
    info = await call(reader.privateGetV5UserQueryApi)
    assert (info["result"]["readOnly"], info["result"]["permissions"]["ContractTrade"]) == (1, [])
    with pytest.raises(ccxt.PermissionDenied, match="10005"):
        await call(reader.create_order, BTC, "market", "buy", 0.01)


async def test_market_data(sim: SimClient, bybit: Any) -> None:
    await call(bybit.create_order, BTC, "market", "buy", 0.01)
    await sim.set_price("BTC_USDT", "50500")
    ticker = await call(bybit.fetch_ticker, BTC)
    assert (ticker["last"], ticker["open"], ticker["high"]) == (50500.0, 50000.1, 50500.0)
    assert (ticker["bid"], ticker["ask"], ticker["markPrice"]) == (50499.9, 50500.1, 50500.0)
    assert ticker["info"]["fundingRate"] == "0.0001"
    book = await call(bybit.fetch_order_book, BTC, 5)
    assert book["bids"][0] == [50499.9, 0.5] and book["asks"][0] == [50500.1, 0.5]
    assert len(book["asks"]) == 5
    trades = await call(bybit.fetch_trades, BTC)
    assert [t["price"] for t in trades] == [50000.1, 50500.0]
    assert abs(await call(bybit.fetch_time) - bybit.milliseconds()) < 5_000
    fee = await call(bybit.fetch_trading_fee, BTC)
    assert (fee["maker"], fee["taker"]) == (0.0002, 0.00055)


async def test_rate_limit_headers_count_per_endpoint(bybit: Any) -> None:
    def limits() -> dict[str, int]:
        """The ``X-Bapi-Limit*`` headers of the last answer."""
        headers = {k.lower(): v for k, v in bybit.last_response_headers.items()}
        return {k: int(v) for k, v in headers.items() if k.startswith("x-bapi-limit")}

    await call(bybit.load_markets)
    await call(bybit.create_order, BTC, "market", "buy", 0.01)
    first = limits()
    await call(bybit.create_order, BTC, "market", "buy", 0.01)
    second = limits()
    assert (first["x-bapi-limit"], second["x-bapi-limit"]) == (20, 20)
    assert second["x-bapi-limit-status"] <= first["x-bapi-limit-status"] < 20
    assert abs(second["x-bapi-limit-reset-timestamp"] - bybit.milliseconds()) < 5_000
    await call(bybit.fetch_balance)
    assert limits()["x-bapi-limit"] == 50


async def test_cancel_all_orders_by_kind(bybit: Any) -> None:
    await call(bybit.create_order, BTC, "market", "buy", 0.02)
    limit = await call(bybit.create_order, BTC, "limit", "buy", 0.01, 45000)
    eth = await call(bybit.create_order, ETH, "limit", "buy", 0.1, 2500)
    stop = await call(
        bybit.create_order, BTC, "market", "sell", 0.02, None, {"stopLossPrice": 48000}
    )
    gone = await call(bybit.cancel_all_orders, BTC, {"trigger": True})
    assert [o["id"] for o in gone] == [stop["id"]]
    left = await call(bybit.fetch_open_orders)
    assert {o["id"] for o in left} == {limit["id"], eth["id"]}
    gone = await call(bybit.cancel_all_orders)
    assert {o["id"] for o in gone} == {limit["id"], eth["id"]}
    assert await call(bybit.fetch_open_orders) == []
