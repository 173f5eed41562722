"""Every OKX error code the dialect answers raises the exception ccxt maps it to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimClient

from .support import call

BTC = "BTC/USDT:USDT"
ORDER = {
    "instId": "BTC-USDT-SWAP",
    "tdMode": "cross",
    "side": "buy",
    "ordType": "market",
    "sz": "1",
}


def _batch(**changes: Any) -> Callable[[Any], Any]:
    def send(okx: Any) -> Any:
        item = {**ORDER, **changes}
        return okx.privatePostTradeBatchOrders([{k: v for k, v in item.items() if v is not None}])

    return send


CASES: list[tuple[str, type[Exception], Callable[[Any], Any]]] = [
    ("51001", ccxt.BadSymbol, _batch(instId="DOGE-USDT-SWAP")),
    (
        "51001",
        ccxt.BadSymbol,
        lambda okx: okx.publicGetMarketTicker({"instId": "DOGE-USDT-SWAP"}),
    ),
    ("51000", ccxt.BadRequest, _batch(side="long")),
    ("51000", ccxt.BadRequest, _batch(clOrdId="not_alnum")),
    ("50014", ccxt.BadRequest, _batch(sz=None)),
    ("50014", ccxt.BadRequest, lambda okx: okx.privateGetTradeFillsHistory({})),
    (
        "50015",
        ccxt.ExchangeError,
        lambda okx: okx.privateGetTradeOrdersAlgoHistory({"ordType": "conditional"}),
    ),
    (
        "51003",
        ccxt.BadRequest,
        lambda okx: okx.privatePostTradeCancelOrder({"instId": "BTC-USDT-SWAP"}),
    ),
    ("51008", ccxt.InsufficientFunds, _batch(sz="10000")),
    ("51111", ccxt.BadRequest, lambda okx: okx.privatePostTradeBatchOrders([ORDER] * 21)),
    ("51121", ccxt.InvalidOrder, _batch(sz="0.015")),
    ("51202", ccxt.InvalidOrder, _batch(sz="12000.01")),
    ("51203", ccxt.InvalidOrder, _batch(ordType="limit", px="40000", sz="100000000.01")),
    ("51204", ccxt.InvalidOrder, _batch(ordType="limit")),
    ("51000", ccxt.BadRequest, _batch(ordType="limit", px="40000.05")),
    ("51019", ccxt.ExchangeError, _batch(ordType="post_only", px="50000.1")),
    ("51169", ccxt.ExchangeError, _batch(side="sell", reduceOnly=True)),
    (
        "51400",
        ccxt.OrderNotFound,
        lambda okx: okx.privatePostTradeCancelOrder({"instId": "BTC-USDT-SWAP", "ordId": "1"}),
    ),
    (
        "51400",
        ccxt.OrderNotFound,
        lambda okx: okx.privatePostTradeCancelAlgos([{"instId": "BTC-USDT-SWAP", "algoId": "1"}]),
    ),
    (
        "51603",
        ccxt.OrderNotFound,
        lambda okx: okx.privateGetTradeOrder({"instId": "BTC-USDT-SWAP", "ordId": "1"}),
    ),
    (
        "51603",
        ccxt.OrderNotFound,
        lambda okx: okx.privateGetTradeOrderAlgo({"algoClOrdId": "nothing"}),
    ),
    (
        "59102",
        ccxt.ExchangeError,
        lambda okx: okx.privatePostAccountSetLeverage(
            {"instId": "BTC-USDT-SWAP", "lever": 101, "mgnMode": "cross"}
        ),
    ),
    ("51000", ccxt.BadRequest, lambda okx: okx.privateGetTradeFills({"limit": "101"})),
]


@pytest.mark.parametrize(("code", "error", "action"), CASES)
async def test_each_code_raises_the_exception_ccxt_maps_it_to(
    okx: Any, sim: SimClient, code: str, error: type[Exception], action: Callable[[Any], Any]
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.load_markets)
    with pytest.raises(error, match=code) as raised:
        await call(action, okx)
    assert type(raised.value) is error


async def test_batch_answers_per_item_codes_and_overall_code(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    good = {**ORDER, "clOrdId": "good1"}
    bad = {**ORDER, "clOrdId": "bad1", "sz": "0.015"}
    answer = await call(okx.privatePostTradeBatchOrders, [good, bad])
    assert (answer["code"], answer["msg"]) == ("2", "Bulk operation partially succeeded")
    assert [(i["clOrdId"], i["sCode"]) for i in answer["data"]] == [
        ("good1", "0"),
        ("bad1", "51121"),
    ]
    assert answer["data"][1]["ordId"] == ""
    with pytest.raises(ccxt.InvalidOrder, match="All operations failed"):
        await call(okx.privatePostTradeBatchOrders, [bad, {**bad, "clOrdId": "bad2"}])


async def test_reduce_only_in_the_position_direction_is_51170(okx: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.create_order, BTC, "market", "buy", 1)
    with pytest.raises(ccxt.ExchangeError, match="51170"):
        await call(okx.create_order, BTC, "market", "buy", 1, None, {"reduceOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        for _ in range(2):
            await call(okx.create_order, BTC, "limit", "buy", 1, 40000, {"clientOrderId": "dup1"})


async def test_unknown_routes_and_missing_parameters(sim: SimClient) -> None:
    raw = await sim.http.post("/okx/api/v5/public/time", content=b"{}")
    assert (raw.status_code, raw.json()["code"]) == (404, "404")
    raw = await sim.http.get("/okx/api/v5/public/instruments")
    assert (raw.status_code, raw.json()) == (
        400,
        {"code": "50014", "msg": "Parameter instType can not be empty", "data": []},
    )
    raw = await sim.http.get("/okx/api/v5/public/instruments?instType=SPOT")
    assert raw.json() == {"code": "0", "data": [], "msg": ""}
