"""OKX algo orders through the real ``ccxt.okx``: market stops and take-profits on
``order-algo``, their lists, look-ups and cancels, trigger rules, and triggering."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimClient
from testudo.sim.dialects.okx.common import TRIGGERED_ORDER_OFFSET

from .support import call

BTC = "BTC/USDT:USDT"
CONDITIONAL = {"ordType": "conditional"}


async def _long(okx: Any, sim: SimClient, contracts: float = 20) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.create_order, BTC, "market", "buy", contracts)


def _stop(price: float, client_id: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"stopLossPrice": price, "reduceOnly": True}
    if client_id:
        params["clientOrderId"] = client_id
    return params


async def test_stop_and_take_profit_are_conditional_algo_orders(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    stop = await call(okx.create_order, BTC, "market", "sell", 20, None, _stop(49000, "stop1"))
    take = await call(
        okx.create_order,
        BTC,
        "market",
        "sell",
        20,
        None,
        {"takeProfitPrice": 52000, "reduceOnly": True, "clientOrderId": "take1"},
    )
    assert (stop["id"], stop["info"]["algoId"], stop["info"]["algoClOrdId"]) == (
        stop["info"]["algoId"],
        stop["id"],
        "stop1",
    )
    assert await call(okx.fetch_open_orders, BTC) == []
    assert await call(okx.fetch_open_orders, BTC, None, None, {"trigger": True}) == []
    pending = await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL)
    by_client = {o["clientOrderId"]: o for o in pending}
    assert set(by_client) == {"stop1", "take1"}
    assert (by_client["stop1"]["stopLossPrice"], by_client["stop1"]["info"]["slOrdPx"]) == (
        49000.0,
        "-1",
    )
    assert (by_client["take1"]["takeProfitPrice"], by_client["take1"]["info"]["tpOrdPx"]) == (
        52000.0,
        "-1",
    )
    assert (by_client["stop1"]["amount"], by_client["stop1"]["reduceOnly"]) == (20.0, True)
    assert by_client["stop1"]["info"]["ordType"] == "conditional"
    fetched = await call(okx.fetch_order, stop["id"], BTC, {"trigger": True})
    by_algo_client = await call(
        okx.fetch_order, None, BTC, {"trigger": True, "clientOrderId": "stop1"}
    )
    assert (fetched["status"], by_algo_client["id"]) == ("open", stop["id"])
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await call(okx.fetch_order, stop["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await call(okx.cancel_order, stop["id"], BTC)
    canceled = await call(okx.cancel_orders, [], BTC, {"trigger": True, "clientOrderId": ["take1"]})
    assert [o["id"] for o in canceled] == [take["id"]]
    await call(okx.cancel_order, stop["id"], BTC, {"trigger": True})
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await call(okx.cancel_order, stop["id"], BTC, {"trigger": True})
    assert await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL) == []
    history = await call(
        okx.fetch_canceled_orders, BTC, None, None, {"trigger": True, **CONDITIONAL}
    )
    assert {o["id"] for o in history} == {stop["id"], take["id"]}
    assert (await call(okx.fetch_order, stop["id"], BTC, {"trigger": True}))["status"] == "canceled"


@pytest.mark.parametrize(
    ("side", "params", "code"),
    [
        ("sell", {"stopLossPrice": 50500}, "51280"),
        ("buy", {"stopLossPrice": 49500}, "51278"),
        ("sell", {"takeProfitPrice": 49500}, "51279"),
        ("buy", {"takeProfitPrice": 50500}, "51277"),
    ],
)
async def test_a_trigger_the_last_price_already_reached_is_refused(
    okx: Any, sim: SimClient, side: str, params: dict[str, Any], code: str
) -> None:
    await _long(okx, sim)
    with pytest.raises(ccxt.InvalidOrder, match=code):
        await call(okx.create_order, BTC, "market", side, 20, None, params)
    assert await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL) == []


async def test_a_market_stop_fires_and_its_fill_is_in_my_trades(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    stop = await call(okx.create_order, BTC, "market", "sell", 20, None, _stop(49000, "stopA"))
    await sim.set_price("BTC_USDT", "48900")
    algo = await call(okx.fetch_order, stop["id"], BTC, {"trigger": True})
    executed_id = algo["info"]["ordId"]
    assert (algo["status"], algo["info"]["state"], algo["info"]["actualSide"]) == (
        "closed",
        "effective",
        "sl",
    )
    assert (algo["info"]["actualSz"], algo["info"]["ordIdList"]) == ("20", [executed_id])
    assert int(executed_id) == int(stop["id"]) + TRIGGERED_ORDER_OFFSET
    executed = await call(okx.fetch_order, executed_id, BTC)
    assert (executed["status"], executed["filled"], executed["average"]) == (
        "closed",
        20.0,
        48899.9,
    )
    assert (executed["info"]["ordId"], executed["info"]["algoClOrdId"]) == (executed_id, "stopA")
    assert executed["id"] == stop["id"]  # ccxt reads algoId first when the order has one
    last = (await call(okx.fetch_my_trades, BTC))[-1]
    assert (last["order"], last["amount"], last["price"], last["side"]) == (
        executed_id,
        20.0,
        48899.9,
        "sell",
    )
    assert D(last["info"]["fillPnl"]) == (D("48899.9") - D("50000.1")) * D("0.2")
    assert last["info"]["clOrdId"] == "" and last["info"]["subType"] == "5"
    assert await call(okx.fetch_positions) == []
    closed = await call(okx.fetch_closed_orders, BTC, None, None, {"trigger": True, **CONDITIONAL})
    assert [o["id"] for o in closed] == [stop["id"]]


async def test_a_triggered_stop_limit_rests_as_a_regular_order(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    stop = await call(okx.create_order, BTC, "limit", "sell", 20, 48800, _stop(49000))
    assert stop["id"]
    pending = await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL)
    assert pending[0]["info"]["slOrdPx"] == "48800"
    await sim.set_price("BTC_USDT", "48700")
    (resting,) = await call(okx.fetch_open_orders, BTC)
    executed_id = resting["info"]["ordId"]
    assert (resting["id"], resting["price"], resting["info"]["algoId"]) == (
        stop["id"],
        48800.0,
        stop["id"],
    )
    await call(okx.cancel_order, executed_id, BTC)
    assert await call(okx.fetch_open_orders, BTC) == []
    algo = await call(okx.fetch_order, stop["id"], BTC, {"trigger": True})
    assert algo["info"]["state"] == "effective"
    assert (await call(okx.fetch_positions))[0]["contracts"] == 20.0


async def test_close_fraction_stop_goes_with_the_position(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    stop = await call(
        okx.create_order,
        BTC,
        "market",
        "sell",
        0,
        None,
        {"stopLossPrice": 49000, "closeFraction": "1", "reduceOnly": True},
    )
    (pending,) = await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL)
    assert (pending["id"], pending["info"]["closeFraction"], pending["info"]["sz"]) == (
        stop["id"],
        "1",
        "",
    )
    await call(okx.create_order, BTC, "market", "sell", 20, None, {"reduceOnly": True})
    assert await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL) == []
    gone = await call(okx.fetch_order, stop["id"], BTC, {"trigger": True})
    assert gone["info"]["state"] == "canceled"


async def test_trigger_orders_and_a_failed_reduce_only_stop(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    entry = await call(okx.create_order, BTC, "market", "buy", 5, None, {"triggerPrice": 51000})
    (listed,) = await call(okx.fetch_open_orders, BTC, None, None, {"trigger": True})
    assert (listed["id"], listed["triggerPrice"], listed["info"]["ordType"]) == (
        entry["id"],
        51000.0,
        "trigger",
    )
    stop = await call(okx.create_order, BTC, "market", "sell", 20, None, _stop(49000))
    await call(okx.create_order, BTC, "market", "sell", 20, None, {"reduceOnly": True})
    await sim.set_price("BTC_USDT", "48900")
    failed = await call(okx.fetch_order, stop["id"], BTC, {"trigger": True})
    assert (failed["status"], failed["info"]["state"], failed["info"]["failCode"]) == (
        "canceled",
        "order_failed",
        "51169",
    )
    assert failed["info"]["ordId"] == ""
    await sim.set_price("BTC_USDT", "51100")
    done = await call(okx.fetch_order, entry["id"], BTC, {"trigger": True})
    executed = await call(okx.fetch_order, done["info"]["ordId"], BTC)
    assert (executed["filled"], executed["average"]) == (5.0, 51100.1)
    assert (await call(okx.fetch_positions))[0]["contracts"] == 5.0


async def test_an_explicit_algo_client_id_names_the_algo_order(okx: Any, sim: SimClient) -> None:
    await _long(okx, sim)
    params = {"stopLossPrice": 49000, "reduceOnly": True, "algoClOrdId": "algo7"}
    stop = await call(okx.create_order, BTC, "market", "sell", 20, None, params)
    assert stop["info"]["algoClOrdId"] == "algo7"
    assert stop["clientOrderId"].startswith(okx.options["brokerId"])  # ccxt's own clOrdId
    found = await call(okx.fetch_order, None, BTC, {"trigger": True, "clientOrderId": "algo7"})
    assert (found["id"], found["info"]["algoClOrdId"]) == (stop["id"], "algo7")
    await call(okx.cancel_orders, [], BTC, {"trigger": True, "clientOrderId": "algo7"})
    assert await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL) == []
