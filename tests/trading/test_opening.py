"""Opening a group: which account a trade goes to (the trader remembers the user's accounts
and re-checks them in the opening transaction) and reading a group right after its 201."""

from __future__ import annotations

import httpx

from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, binance_trader, market_body

PROBLEM = "application/problem+json"


async def add_account(trader: Trader, sim: SimClient, name: str) -> str:
    funded = await sim.create_account("10000")
    response = await trader.http.post(
        "/api/v1/exchanges/accounts",
        headers=trader.session.bearer(),
        json={
            "exchange_name": "binance",
            "api_key": funded.api_key,
            "secret": funded.secret,
            "account_name": name,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_accounts_added_or_removed_between_trades_are_seen(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    first = await trader.post(market_body())
    assert first.status_code == 201, first.text
    assert first.json()["exchange_account_id"] == trader.account_id

    second = await add_account(trader, sim, "Second")
    ambiguous = await trader.post(market_body())
    assert ambiguous.status_code == 422 and ambiguous.headers["content-type"] == PROBLEM
    assert ambiguous.json()["error"] == "exchange_account_required"

    chosen = await trader.post(market_body(exchange_account_id=second))
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["exchange_account_id"] == second

    deleted = await xhttp.delete(
        f"/api/v1/exchanges/accounts/{second}", headers=trader.session.bearer()
    )
    assert deleted.status_code == 204
    gone = await trader.post(market_body(exchange_account_id=second))
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
    only = await trader.post(market_body())
    assert only.status_code == 201, only.text
    assert only.json()["exchange_account_id"] == trader.account_id


async def test_a_user_without_an_account_is_told_to_add_one(
    xhttp: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(xhttp, Wallet(), clock.now())
    response = await xhttp.post("/api/v1/trades", json=market_body(), headers=session.bearer())
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == "no_exchange_account"


async def test_a_group_listed_or_read_right_after_its_201_shows_the_acknowledged_entry(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(market_body())
    assert created.status_code == 201, created.text
    entry = next(o for o in created.json()["orders"] if o["role"] == "entry")
    assert entry["exchange_order_id"] and entry["status"] == "filled"

    listed = await xhttp.get("/api/v1/trades", headers=trader.session.bearer())
    (row,) = [g for g in listed.json()["trades"] if g["id"] == created.json()["id"]]
    listed_entry = next(o for o in row["orders"] if o["role"] == "entry")
    assert listed_entry["exchange_order_id"] == entry["exchange_order_id"]
    read = await trader.group(created.json()["id"])
    read_entry = next(o for o in read["orders"] if o["role"] == "entry")
    assert read_entry["exchange_order_id"] == entry["exchange_order_id"]
    assert read_entry["status"] == "filled"
    assert read["events"][0]["event_type"] == "trade_created"
    assert read["decision"]["approved"] is True
