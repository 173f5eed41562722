"""OKX signing (key, passphrase, timestamp, signature) and every fault mode as ``ccxt.okx``
experiences them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.dialects.okx.auth import sign
from testudo.sim.wiring import point_ccxt_at

from .support import call

BTC = "BTC/USDT:USDT"


def _with(account: SimAccount, **changes: str) -> SimAccount:
    fields = {
        "account_id": account.account_id,
        "api_key": account.api_key,
        "secret": account.secret,
        "wallet_address": account.wallet_address,
        "wallet_private_key": account.wallet_private_key,
        "passphrase": account.passphrase,
    }
    return SimAccount(**{**fields, **changes})  # type: ignore[arg-type]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _headers(account: SimAccount, method: str, path: str, body: str = "") -> dict[str, str]:
    stamp = _iso(time.time_ns() // 1_000_000)
    return {
        "OK-ACCESS-KEY": account.api_key,
        "OK-ACCESS-PASSPHRASE": account.passphrase,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": sign(account.secret, stamp, method, path, body),
        "Content-Type": "application/json",
    }


async def test_accounts_carry_a_passphrase(sim: SimClient, account: SimAccount) -> None:
    raw = await sim.http.post("/_sim/accounts", json={"balance": "5"})
    created = raw.json()
    assert created["passphrase"] and created["passphrase"] != account.passphrase
    again = await sim.create_account()
    assert len({account.passphrase, again.passphrase, created["passphrase"]}) == 3
    assert sim.simulator.registry.by_id[account.account_id].passphrase == account.passphrase


async def test_ccxt_signing_failures(sim: SimClient, account: SimAccount) -> None:
    cases: list[tuple[SimAccount, type[Exception], str]] = [
        (_with(account, secret="s" * 64), ccxt.AuthenticationError, "50113"),
        (_with(account, passphrase="wrong!Pass1"), ccxt.AuthenticationError, "50105"),
        (_with(account, api_key="k" * 64), ccxt.AuthenticationError, "50111"),
    ]
    for credentials, error, code in cases:
        with pytest.raises(error, match=code):
            await call(sim.okx(credentials).fetch_balance)
    late = sim.okx(account)
    await call(late.load_markets)
    for skew in (60_000, -60_000):
        late.options["timeDifference"] = skew
        with pytest.raises(ccxt.InvalidNonce, match="50102"):
            await call(late.fetch_balance)
    late.options["timeDifference"] = 20_000
    assert (await call(late.fetch_balance))["USDT"]["total"] == 10000.0


async def test_raw_signing_rules(sim: SimClient, account: SimAccount) -> None:
    path = "/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=1"
    headers = _headers(account, "GET", path)
    raw = await sim.http.get("/okx" + path, headers=headers)
    assert (raw.status_code, raw.json()["code"]) == (200, "51603")
    tampered = await sim.http.get("/okx" + path.replace("ordId=1", "ordId=2"), headers=headers)
    assert (tampered.status_code, tampered.json()) == (
        401,
        {"code": "50113", "msg": "Invalid Sign"},
    )
    for header, code in (
        ("OK-ACCESS-KEY", "50103"),
        ("OK-ACCESS-PASSPHRASE", "50104"),
        ("OK-ACCESS-SIGN", "50106"),
        ("OK-ACCESS-TIMESTAMP", "50107"),
    ):
        partial = {k: v for k, v in headers.items() if k != header}
        missing = await sim.http.get("/okx" + path, headers=partial)
        assert (missing.status_code, missing.json()["code"]) == (401, code)
    malformed = await sim.http.get(
        "/okx" + path, headers={**headers, "OK-ACCESS-TIMESTAMP": "yesterday"}
    )
    assert malformed.json()["code"] == "50112"
    body = '[{"instId": "BTC-USDT-SWAP"'
    post = "/api/v5/trade/batch-orders"
    broken = await sim.http.post(
        "/okx" + post, content=body, headers=_headers(account, "POST", post, body)
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "50002")


async def test_public_endpoints_need_no_credentials(sim: SimClient) -> None:
    anonymous = ccxt.okx({"enableRateLimit": False})
    point_ccxt_at(anonymous, sim.base_url)
    markets = await call(anonymous.load_markets)
    assert set(markets) == {BTC, "ETH/USDT:USDT", "SOL/USDT:USDT"}
    assert (await call(anonymous.fetch_ticker, BTC))["last"] == 50000.0


async def test_reject_answers_okx_per_order_envelope_then_lapses(sim: SimClient, okx: Any) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.load_markets)
    await sim.set_fault(
        "okx",
        "reject",
        endpoint="/api/v5/trade/batch-orders",
        code="51008",
        message="Order failed. Insufficient USDT margin in account",
        count=1,
    )
    with pytest.raises(ccxt.InsufficientFunds) as raised:
        await call(okx.create_order, BTC, "market", "buy", 1, None, {"clientOrderId": "r1"})
    body = json.loads(str(raised.value).partition(" ")[2])
    assert (body["code"], body["msg"]) == ("1", "All operations failed")
    assert body["data"][0] == {
        "clOrdId": "r1",
        "ordId": "",
        "sCode": "51008",
        "sMsg": "Order failed. Insufficient USDT margin in account",
        "tag": "",
    }
    assert (await call(okx.create_order, BTC, "market", "buy", 1))["id"]
    await sim.set_fault(
        "okx", "reject", endpoint="/api/v5/trade/order-algo", code="51280", message="SL", count=1
    )
    stop = {"stopLossPrice": 49000, "reduceOnly": True, "clientOrderId": "s1"}
    with pytest.raises(ccxt.InvalidOrder, match='"algoClOrdId":"s1"'):
        await call(okx.create_order, BTC, "market", "sell", 1, None, stop)
    assert (await call(okx.create_order, BTC, "market", "sell", 1, None, stop))["id"]
    await sim.set_fault(
        "okx", "reject", endpoint="/api/v5/account/balance", code="50013", message="busy"
    )
    with pytest.raises(ccxt.ExchangeNotAvailable, match="50013"):
        await call(okx.fetch_balance)
    raw = await sim.http.get("/okx/api/v5/account/balance")
    assert (raw.status_code, raw.json()) == (400, {"code": "50013", "msg": "busy", "data": []})


async def test_rate_limit_is_429_with_50011(sim: SimClient, okx: Any) -> None:
    await call(okx.load_markets)
    await sim.set_fault("okx", "rate_limit", retry_after=3)
    with pytest.raises(ccxt.RateLimitExceeded, match="50011"):
        await call(okx.fetch_balance)
    raw = await sim.http.get("/okx/api/v5/public/time")
    assert (raw.status_code, raw.headers["Retry-After"]) == (429, "3")
    assert raw.json() == {"msg": "Too Many Requests", "code": "50011"}
    await sim.set_fault("okx", "off")
    await sim.set_fault(
        "okx", "rate_limit", endpoint="/api/v5/account/balance", limit=1, window_ms=60_000
    )
    await call(okx.fetch_balance)
    with pytest.raises(ccxt.RateLimitExceeded):
        await call(okx.fetch_balance)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ccxt.ExchangeNotAvailable),
        (503, ccxt.ExchangeNotAvailable),
        (504, ccxt.RequestTimeout),
    ],
)
async def test_gateway_errors(
    sim: SimClient, okx: Any, status: int, error: type[Exception]
) -> None:
    await call(okx.load_markets)
    await sim.set_fault("okx", "error", status=status)
    with pytest.raises(error):
        await call(okx.fetch_balance)


async def test_timeout_outage_and_latency(sim: SimClient, okx: Any) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.load_markets)
    await sim.set_fault("okx", "latency", endpoint="/api/v5/account/balance", latency_ms=300)
    started = time.monotonic()
    assert (await call(okx.fetch_balance))["USDT"]["total"] == 10000.0
    assert time.monotonic() - started >= 0.3
    okx.timeout = 500
    await sim.set_fault(
        "okx", "timeout", endpoint="/api/v5/trade/batch-orders", timeout_ms=20_000, apply=True
    )
    with pytest.raises(ccxt.RequestTimeout):
        await call(okx.create_order, BTC, "market", "buy", 2, None, {"clientOrderId": "intent42"})
    await sim.set_fault("okx", "off")
    okx.timeout = 10_000
    placed = await call(okx.fetch_order, None, BTC, {"clientOrderId": "intent42"})
    assert (placed["status"], placed["filled"]) == ("closed", 2.0)
    await sim.set_fault("okx", "outage")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(okx.fetch_positions)
    assert await sim.set_fault("okx", "off") == []
    assert (await call(okx.fetch_positions))[0]["contracts"] == 2.0
