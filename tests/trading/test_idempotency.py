"""Idempotency keys around the edges: answers given before anything was recorded do not
burn the key, a used key answers as it did even when the account is gone, keys expire."""

from __future__ import annotations

import attrs
import httpx

from tests.auth.helpers import cookies_of
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import binance_trader, market_body

PROBLEM = "application/problem+json"


async def test_an_exchange_failure_before_the_decision_does_not_burn_the_key(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    await sim.set_fault("binanceusdm", "outage")
    failed = await trader.post(market_body(), **{"Idempotency-Key": "k-outage"})
    assert failed.status_code in (502, 503) and failed.headers["content-type"] == PROBLEM
    await sim.clear_faults()
    created = await trader.post(market_body(), **{"Idempotency-Key": "k-outage"})
    assert created.status_code == 201, created.text
    again = await trader.post(market_body(), **{"Idempotency-Key": "k-outage"})
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]


async def test_a_used_key_answers_as_it_did_after_its_account_is_gone(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(market_body(), **{"Idempotency-Key": "k-gone"})
    assert created.status_code == 201, created.text
    deleted = await xhttp.delete(
        f"/api/v1/exchanges/accounts/{trader.account_id}", headers=trader.session.bearer()
    )
    assert deleted.status_code == 204
    fresh = await trader.post(market_body())
    assert fresh.status_code == 422 and fresh.json()["error"] == "no_exchange_account"
    replayed = await trader.post(market_body(), **{"Idempotency-Key": "k-gone"})
    assert replayed.status_code == 201 and replayed.json()["id"] == created.json()["id"]


async def test_a_rejection_is_stored_and_keys_expire_after_a_day(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    risky = market_body(stop_loss_price="25000")  # risk far above 2 % of the account
    rejected = await trader.post(risky, **{"Idempotency-Key": "k-day"})
    assert rejected.status_code == 422 and rejected.json()["error"] == "risk_rejected"
    replayed = await trader.post(risky, **{"Idempotency-Key": "k-day"})
    assert replayed.status_code == 422 and replayed.json() == rejected.json()
    other = await trader.post(market_body(), **{"Idempotency-Key": "k-day"})
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    clock.advance(25 * 3600)
    refreshed = await xhttp.post("/api/v1/auth/refresh", headers=trader.session.refresh_header())
    assert refreshed.status_code == 200, refreshed.text
    cookies = cookies_of(refreshed)
    trader.session = attrs.evolve(
        trader.session,
        access=cookies["access_token"]["value"],
        refresh=cookies["refresh_token"]["value"],
    )
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    later = await trader.post(market_body(), **{"Idempotency-Key": "k-day"})
    assert later.status_code == 201, later.text
