"""An OKX account through the API: the passphrase required and sealed, add, test, balance,
positions with their algo stops, key and mode checks, and risk sized on the USDT equity with
the lot in contracts."""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, Decimal as D
from typing import Any

import httpx
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, WebSession, sign_in
from tests.protection.support import link_okx
from tests.trading.helpers import Trader, live_orders, market_body
from testudo.clock import ManualClock
from testudo.sim.client import SimAccount, SimClient

BTC = "BTC/USDT:USDT"


async def call(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(functools.partial(fn, *args))


async def add_okx(
    http: httpx.AsyncClient, session: WebSession, account: SimAccount, **extra: str | None
) -> httpx.Response:
    body = {
        "exchange_name": "okx",
        "api_key": account.api_key,
        "secret": account.secret,
        "passphrase": account.passphrase,
        **extra,
    }
    return await http.post(
        "/api/v1/exchanges/accounts",
        headers=session.bearer(),
        json={k: v for k, v in body.items() if v is not None},
    )


async def test_add_test_balance_and_positions_with_their_algo_stops(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    added = await add_okx(xhttp, session, account, account_name="OKX main")
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["exchange_name"], body["account_name"]) == ("okx", "OKX main")
    assert body["permissions"]["withdrawals"] is False
    assert body["permissions"]["position_mode"] == "one_way"
    account_id, headers = body["id"], session.bearer()
    (row,) = await exchange_service.system.db.fetch_all(
        "SELECT passphrase_enc, secret_enc FROM exchange_accounts WHERE id = %s", (account_id,)
    )
    sealed = bytes(row["passphrase_enc"])
    assert sealed and account.passphrase.encode() not in sealed  # sealed like the secret
    url = f"/api/v1/exchanges/accounts/{account_id}"
    tested = (await xhttp.post(f"{url}/test", headers=headers)).json()
    assert tested["status"] == "success", tested
    balance = (await xhttp.get(f"{url}/balance", headers=headers)).json()
    (usdt,) = [b for b in balance["balances"] if b["asset"] == "USDT"]
    assert (D(usdt["total"]), D(usdt["free"])) == (D(10000), D(10000))

    trader = Trader(xhttp, session, account, account_id)
    created = await trader.post(market_body())
    assert created.status_code == 201, created.text
    group = await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    client = sim.okx(account)
    await call(client.create_order, BTC, "limit", "buy", 1, 40000, {"clientOrderId": "mine1"})
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
        "0.01",  # one contract of 0.01 BTC
    )
    assert position["protected"] and position["group_id"] == group["id"]
    protective = {o["id"]: o for o in position["protective_orders"]}
    assert protective[stop["exchange_order_id"]]["conditional"] is True
    assert protective[stop["exchange_order_id"]]["stop_price"] == "49000"
    roles = {o.get("role") for o in positions["open_orders"] if o.get("group_id") == group["id"]}
    assert roles == {"stop_loss", "take_profit"}
    mine = [o for o in positions["open_orders"] if o["client_order_id"] == "mine1"]
    assert len(mine) == 1 and D(mine[0]["amount"]) == D("0.01")  # 1 contract, in BTC


async def test_the_passphrase_is_required_and_checked(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    missing = await add_okx(xhttp, session, account, passphrase=None)
    assert missing.status_code == 422, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"] == "passphrase" for e in missing.json()["errors"])
    wrong = await add_okx(xhttp, session, account, passphrase="not-the-passphrase")
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"] == "invalid_credentials"
    for field in ("secret", "api_key"):
        bad = await add_okx(xhttp, session, account, **{field: "not-it"})
        assert bad.status_code == 401, bad.text


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"hedge_mode": True}, "hedge_mode_unsupported"),
        ({"permissions": {"enableWithdrawals": True}}, "withdrawal_permission"),
    ],
)
async def test_hedge_mode_accounts_and_withdrawing_keys_are_refused(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    options: dict[str, Any],
    error: str,
) -> None:
    session = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000", **options)
    response = await add_okx(xhttp, session, account)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == error


async def test_risk_is_sized_on_the_usdt_equity_in_whole_lots(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    """Equity is the USDT ``eq`` (cash + unrealised P&L): a position 1000 up makes the risk
    budget 2 % of about 11 000; the size is rounded down to OKX's lot, 0.01 contract =
    0.0001 BTC, and goes out as contracts."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    client = sim.okx(trader.account)
    await call(client.create_order, "ETH/USDT:USDT", "market", "buy", 10)  # 1 ETH
    await sim.set_price("ETH_USDT", "4000", freeze=True)
    raw = await call(client.fetch_balance)
    equity = D(raw["info"]["data"][0]["details"][0]["eq"])
    assert equity - D(raw["info"]["data"][0]["details"][0]["cashBal"]) > 900
    body = market_body(exchange_account_id=trader.account_id)
    del body["quantity"]
    created = await trader.post(body)
    assert created.status_code == 201, created.text
    stored = await trader.group(created.json()["id"])
    assert D(stored["decision"]["inputs"]["account"]["equity"]) == equity
    sized = (equity * D("0.02") / 1000).quantize(D("0.0001"), rounding=ROUND_DOWN)
    assert D(created.json()["quantity"]) == sized
    await trader.wait(created.json()["id"], lambda b: len(live_orders(b, "stop_loss")) == 1)
    (position,) = [p for p in await call(client.fetch_positions) if p["symbol"] == BTC]
    assert D(str(position["contracts"])) == sized / D("0.01")
