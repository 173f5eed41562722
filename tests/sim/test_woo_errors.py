"""WOO X signing (v1 and v3), refusals and injected faults as the real ``ccxt.woo`` sees them."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from testudo.sim.accounts import Registry
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.dialects.wire import WireRequest
from testudo.sim.dialects.woo.auth import authenticate
from testudo.sim.dialects.woo.errors import WooError

from .support import call

BTC = "BTC/USDT:USDT"


@pytest.mark.parametrize(
    ("path", "section", "method", "params"),
    [
        ("trade/order", ["v3", "private"], "POST", {"symbol": "PERP_BTC_USDT", "quantity": "1"}),
        ("trade/order", ["v3", "private"], "GET", {"clientOrderId": "12", "orderId": "3"}),
        ("trade/algoOrder", ["v3", "private"], "DELETE", {"algoOrderId": "5"}),
        ("asset/balances", ["v3", "private"], "GET", {}),
        ("order/{oid}/trades", ["v1", "private"], "GET", {"oid": "42"}),
        ("orders", ["v1", "private"], "GET", {"symbol": "PERP_BTC_USDT", "status": "NEW"}),
        ("client/isolated_margin", ["v1", "private"], "POST", {"symbol": "X", "action": "ADD"}),
        ("order", ["v1", "private"], "DELETE", {"order_id": "9", "symbol": "PERP_BTC_USDT"}),
    ],
)
def test_ccxt_signatures_verify(path: str, section: list[str], method: str, params: Any) -> None:
    """What ccxt signs (v3: timestamp+method+path+query/body; v1: sorted params|timestamp)
    is exactly what the dialect checks, and one changed byte is refused."""
    registry = Registry(seed=5)
    creds = registry.create()
    woo = ccxt.woo({"apiKey": creds.api_key, "secret": creds.secret})
    woo.urls["api"] = {"pub": "http://x", "public": "http://x", "private": "http://x"}
    signed = woo.sign(path, section, method, dict(params))
    url: str = signed["url"]
    request = WireRequest(
        method=method,
        path=url.removeprefix("http://x").partition("?")[0],
        query=url.partition("?")[2],
        body=(signed["body"] or "").encode(),
        headers=signed["headers"],
    )
    now = int(signed["headers"]["x-api-timestamp"])
    assert authenticate(request, registry, now, trading=True) is creds
    tampered = WireRequest(
        request.method, request.path, request.query + "&x=1", request.body, request.headers
    )
    with pytest.raises(WooError) as refused:
        authenticate(tampered, registry, now, trading=True)
    assert (refused.value.code, refused.value.status) == (-1002, 401)


async def test_v3_authentication_failures(sim: SimClient, account: SimAccount) -> None:
    wrong_key = sim.woo(SimAccount(account.account_id, "k" * 64, account.secret, "", ""))
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        await call(wrong_key.fetch_balance)
    wrong_secret = sim.woo(SimAccount(account.account_id, account.api_key, "s" * 64, "", ""))
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        await call(wrong_secret.fetch_positions)
    late = sim.woo(account)
    await call(late.load_markets)
    late.options["timeDifference"] = 400_000
    with pytest.raises(ccxt.AuthenticationError, match="300 s window"):
        await call(late.fetch_balance)
    bare = await sim.http.get("/woo/v3/asset/balances")
    assert bare.status_code == 401
    assert bare.json() == {
        "success": False,
        "code": -1001,
        "message": "The api key or secret is in wrong format.",
    }


async def test_v1_authentication_failures(sim: SimClient, account: SimAccount) -> None:
    woo = sim.woo(account)
    order = await call(woo.create_order, BTC, "market", "buy", 0.01)
    assert len(await call(woo.fetch_order_trades, order["id"], BTC)) == 1
    wrong_secret = sim.woo(SimAccount(account.account_id, account.api_key, "s" * 64, "", ""))
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        await call(wrong_secret.fetch_order_trades, order["id"], BTC)
    unsigned = await sim.http.get(f"/woo/v1/order/{order['id']}/trades")
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, -1001)


async def test_trading_needs_the_futures_permission(sim: SimClient) -> None:
    reader = sim.woo(await sim.create_account(permissions={"enableFutures": False}))
    assert (await call(reader.fetch_balance))["USDT"]["total"] == 10000.0
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        await call(reader.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        await call(reader.set_leverage, 5, BTC)


async def test_order_refusals_map_to_ccxt_errors(woo: Any, sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.load_markets)

    def raw(**fields: Any) -> Any:
        order = {"symbol": "PERP_BTC_USDT", "side": "BUY", "type": "LIMIT", "price": "49000"}
        return call(woo.v3PrivatePostTradeOrder, {**order, "quantity": "0.01", **fields})

    with pytest.raises(ccxt.InvalidOrder, match="-1103"):
        await raw(price="49000.05")
    with pytest.raises(ccxt.InvalidOrder, match="-1104"):
        await raw(quantity="0.00015")
    with pytest.raises(ccxt.InvalidOrder, match="-1008"):
        await raw(quantity="60")
    with pytest.raises(ccxt.BadRequest, match="-1005"):
        await raw(type="ASK")
    with pytest.raises(ccxt.BadRequest, match="out of range"):
        await raw(quantity="1e999999")
    with pytest.raises(ccxt.BadRequest, match="-1005"):
        await raw(amount="100")
    with pytest.raises(ccxt.BadRequest, match="-1012"):
        await call(woo.create_order, BTC, "limit", "buy", 0.01, 50000.1, {"postOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="302186"):
        await call(woo.create_order, BTC, "market", "buy", 0.01, None, {"positionSide": "LONG"})
    with pytest.raises(ccxt.BadSymbol, match="317155"):
        await call(woo.v3PublicGetFutures, {"symbol": "PERP_DOGE_USDT"})
    with pytest.raises(ccxt.BadRequest, match="symbol must not be blank"):
        await call(woo.v3PrivateDeleteTradeOrder, {"orderId": "1"})
    with pytest.raises(ccxt.InvalidOrder, match="317167"):
        await call(
            woo.create_order,
            BTC,
            "market",
            "sell",
            0.01,
            None,
            {"trailingAmount": "100", "trailingTriggerPrice": "51000"},
        )
    with pytest.raises(ccxt.OrderNotFound, match="317152"):
        await call(woo.fetch_order, "123", None, {"trigger": True})
    with pytest.raises(ccxt.OperationFailed, match="-1000"):
        await call(woo.v3PrivateGetAccountTokenConfig)


async def test_leverage_refusals(woo: Any) -> None:
    with pytest.raises(ccxt.BadRequest, match="302306"):
        await call(woo.set_leverage, 0, BTC)
    with pytest.raises(ccxt.BadRequest, match="at most 50"):
        await call(woo.set_leverage, 75, BTC)
    await call(woo.set_leverage, 50, BTC)
    await call(woo.create_order, BTC, "market", "buy", 1)
    with pytest.raises(ccxt.InsufficientFunds, match="302305"):
        await call(woo.set_leverage, 2, BTC)
    assert (await call(woo.fetch_leverage, BTC))["longLeverage"] == 50


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        (-1001, "The api key or secret is in wrong format.", ccxt.AuthenticationError),
        (-1004, "An unknown parameter was sent.", ccxt.BadRequest),
        (-1007, "The data is already exists or your request is duplicated.", ccxt.BadRequest),
        (-1009, "Can not request withdrawal settlement.", ccxt.BadRequest),
        (
            -1011,
            "Can not place/cancel orders, it may because internal network error.",
            ccxt.ExchangeError,
        ),
        (-1011, "The system is under maintenance.", ccxt.OnMaintenance),
        (302170, "Collateral is not sufficient to cover initial margin.", ccxt.InsufficientFunds),
        (302159, "Your request has timed out. Please try again later.", ccxt.RequestTimeout),
        (317168, "Order failed due to internal service error.", ccxt.OperationFailed),
    ],
)
async def test_reject_fault_answers_woo_codes(
    woo: Any, sim: SimClient, code: int, message: str, error: type[Exception]
) -> None:
    await call(woo.load_markets)
    await sim.set_fault(
        "woo", "reject", endpoint="/v3/trade/order", code=code, message=message, count=1
    )
    with pytest.raises(error, match=str(code)):
        await call(woo.create_order, BTC, "market", "buy", 0.01)
    assert (await call(woo.create_order, BTC, "market", "buy", 0.01))["id"]
    raw = await sim.http.get("/_sim/faults")
    assert raw.json()["rules"] == []


async def test_reject_targets_one_method_of_a_path(woo: Any, sim: SimClient) -> None:
    await call(woo.load_markets)
    await sim.set_fault(
        "woo", "reject", endpoint="DELETE /v3/trade/algoOrder", code=-1011, message="Can not place"
    )
    stop = await call(woo.create_order, BTC, "market", "buy", 0.01, None, {"triggerPrice": 52000})
    with pytest.raises(ccxt.ExchangeError, match="-1011"):
        await call(woo.cancel_order, stop["id"], None, {"trigger": True})
    await sim.set_fault("woo", "off")
    assert (await call(woo.cancel_order, stop["id"], None, {"trigger": True}))[
        "status"
    ] == "canceled"


async def test_latency_error_and_outage(woo: Any, sim: SimClient) -> None:
    await call(woo.load_markets)
    await sim.set_fault("woo", "latency", endpoint="/v3/asset/balances", latency_ms=300)
    started = time.monotonic()
    assert (await call(woo.fetch_balance))["USDT"]["total"] == 10000.0
    assert time.monotonic() - started >= 0.3
    for status, error in ((500, ccxt.ExchangeNotAvailable), (504, ccxt.RequestTimeout)):
        await sim.set_fault("woo", "error", endpoint="/v3/futures/positions", status=status)
        with pytest.raises(error):
            await call(woo.fetch_positions)
        await sim.set_fault("woo", "off", endpoint="/v3/futures/positions")
    await sim.set_fault("woo", "outage")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(woo.fetch_balance)
    assert await sim.set_fault("woo", "off") == []
    assert (await call(woo.fetch_balance))["USDT"]["total"] == 10000.0


async def test_rate_limit_answers_429_with_code_1003(woo: Any, sim: SimClient) -> None:
    await call(woo.load_markets)
    await sim.set_fault("woo", "rate_limit", retry_after=3)
    with pytest.raises(ccxt.RateLimitExceeded, match="-1003"):
        await call(woo.fetch_balance)
    raw = await sim.http.get("/woo/v3/public/systemInfo")
    assert (raw.status_code, raw.headers["Retry-After"]) == (429, "3")
    assert raw.json() == {"success": False, "code": -1003, "message": "Rate limit exceed."}
    await sim.set_fault("woo", "off")
    await sim.set_fault("woo", "rate_limit", endpoint="/v3/trade/order", limit=1, window_ms=60_000)
    await call(woo.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.RateLimitExceeded):
        await call(woo.create_order, BTC, "market", "buy", 0.01)


async def test_timeout_and_ambiguous_timeout(woo: Any, sim: SimClient) -> None:
    await call(woo.load_markets)
    woo.timeout = 500
    await sim.set_fault("woo", "timeout", endpoint="/v3/asset/balances", timeout_ms=20_000)
    with pytest.raises(ccxt.RequestTimeout):
        await call(woo.fetch_balance)
    await sim.set_fault(
        "woo", "timeout", endpoint="/v3/trade/algoOrder", timeout_ms=20_000, apply=True
    )
    with pytest.raises(ccxt.RequestTimeout):
        await call(
            woo.create_order,
            BTC,
            "market",
            "sell",
            0.01,
            None,
            {"triggerPrice": 48000, "clientOrderId": "4242"},
        )
    await sim.set_fault("woo", "off")
    woo.timeout = 10_000
    placed = await call(woo.fetch_order, "4242", None, {"trigger": True, "clientOrderId": "4242"})
    assert (placed["status"], placed["triggerPrice"]) == ("open", 48000.0)
