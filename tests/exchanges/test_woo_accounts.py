"""A WOO X account through the API: add, test, balance, positions with their algo stops, key and
mode checks, and equity from the holding and the futures positions."""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, Decimal as D
from typing import Any

import httpx
import trio

from api.process import Running
from tests.auth.helpers import Wallet, WebSession, sign_in
from tests.protection.support import link_woo
from tests.trading.helpers import Trader, live_orders, market_body
from testudo.clock import ManualClock
from testudo.sim.client import SimAccount, SimClient

BTC = "BTC/USDT:USDT"


async def call(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(functools.partial(fn, *args))


async def add_woo(
    http: httpx.AsyncClient, session: WebSession, account: SimAccount, **extra: str
) -> httpx.Response:
    return await http.post(
        "/api/v1/exchanges/accounts",
        headers=session.bearer(),
        json={
            "exchange_name": "woo",
            "api_key": account.api_key,
            "secret": account.secret,
            **extra,
        },
    )


async def test_add_test_balance_and_positions_with_their_stops(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    added = await add_woo(xhttp, session, account, account_name="WOO X main")
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["exchange_name"], body["account_name"]) == ("woo", "WOO X main")
    assert body["permissions"]["withdrawal_check"] == "unsupported"
    assert body["permissions"]["position_mode"] == "one_way"
    account_id, headers = body["id"], session.bearer()
    url = f"/api/v1/exchanges/accounts/{account_id}"
    tested = (await xhttp.post(f"{url}/test", headers=headers)).json()
    assert tested["status"] == "success", tested
    balance = (await xhttp.get(f"{url}/balance", headers=headers)).json()
    (usdt,) = [b for b in balance["balances"] if b["asset"] == "USDT"]
    assert (D(usdt["total"]), D(usdt["free"]), D(usdt["used"])) == (D(10000), D(10000), D(0))

    trader = Trader(xhttp, session, account, account_id)
    created = await trader.post(market_body())
    assert created.status_code == 201, created.text
    group = await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    client = sim.woo(account)
    await call(client.create_order, BTC, "limit", "buy", 0.01, 40000, {"clientOrderId": "4242"})
    stop = live_orders(group, "stop_loss")[0]

    async def view() -> dict[str, Any]:
        answer = await xhttp.get(f"{url}/positions", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    with trio.fail_after(10):
        positions = await view()
        while len(positions["open_orders"]) < 3:  # the view answers from the last poll
            await trio.sleep(0.2)
            positions = await view()
    (position,) = positions["positions"]
    assert (position["symbol"], position["side"], position["quantity"]) == (
        "BTC_USDT",
        "long",
        "0.01",
    )
    assert position["protected"] and position["group_id"] == group["id"]
    protective = {o["id"]: o for o in position["protective_orders"]}
    assert protective[stop["exchange_order_id"]]["conditional"] is True
    assert protective[stop["exchange_order_id"]]["stop_price"] == "49000"
    roles = {o.get("role") for o in positions["open_orders"] if o.get("group_id") == group["id"]}
    assert roles == {"stop_loss", "take_profit"}
    assert any(o["client_order_id"] == "4242" for o in positions["open_orders"])


async def test_hedge_mode_accounts_are_refused(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    """``positionMode: HEDGE_MODE`` in the account info: refused like Binance's dual side."""
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000", hedge_mode=True)
    response = await add_woo(xhttp, session, account)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "hedge_mode_unsupported"


async def test_bad_keys_are_invalid_credentials(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    for wrong in ({"secret": "not-the-secret"}, {"api_key": "unknown-key"}):
        response = await xhttp.post(
            "/api/v1/exchanges/accounts",
            headers=session.bearer(),
            json={
                "exchange_name": "woo",
                "api_key": account.api_key,
                "secret": account.secret,
                **wrong,
            },
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_credentials"


async def test_risk_is_sized_on_the_holding_plus_the_positions_pnl(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    """Equity is the holding + unrealised P&L (WOO's ``totalAccountValue``), not ccxt's USDT
    total (the holding alone): a position 1000 up makes the risk budget 2 % of about 11 000."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_woo(xhttp, sim, clock)
    client = sim.woo(trader.account)
    await call(client.create_order, "ETH/USDT:USDT", "market", "buy", 1)
    await sim.set_price("ETH_USDT", "4000", freeze=True)
    raw = await call(client.fetch_balance)
    total_equity = D((await call(client.v3PrivateGetAccountInfo))["data"]["totalAccountValue"])
    assert total_equity - D(str(raw["USDT"]["total"])) > 900
    body = market_body(exchange_account_id=trader.account_id)
    del body["quantity"]
    created = await trader.post(body)
    assert created.status_code == 201, created.text
    stored = await trader.group(created.json()["id"])
    assert D(stored["decision"]["inputs"]["account"]["equity"]) == total_equity
    sized = (total_equity * D("0.02") / 1000).quantize(
        D("0.0001"), rounding=ROUND_DOWN
    )  # lot 0.0001
    assert D(created.json()["quantity"]) == sized
