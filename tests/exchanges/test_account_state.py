"""The exchange-account actor's kept funds: used only when fetched after the account's last
write and within their maximum age (real ccxt against the simulator; an exchange outage
tells whether a snapshot went to the exchange)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.support import make_settings, running_service
from testudo.clock import ManualClock
from testudo.exchanges.accounts import AccountView
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import AccountSnapshot, venue_for
from testudo.sim.client import SimClient

QUIET_REFRESH_WAIT = 1.0  # the actor refreshes 0.1 s after writes pause; a generous margin


@attrs.frozen
class Setup:
    service: Running
    account: AccountView


async def start(
    nursery: trio.Nursery,
    tmp_path: Path,
    db_url: str,
    clock: ManualClock,
    sim: SimClient,
    **overrides: float,
) -> AsyncIterator[Setup]:
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_timeout_ms=1500,
        exchange_rate_limit=False,
        **overrides,
    )
    async with running_service(nursery, settings, clock) as service:
        async with httpx.AsyncClient(base_url=service.http_url, timeout=30) as http:
            session = await sign_in(http, Wallet(), clock.now())
            funded = await sim.create_account("5000")
            added = await http.post(
                "/api/v1/exchanges/accounts",
                headers=session.bearer(),
                json={
                    "exchange_name": "binance",
                    "api_key": funded.api_key,
                    "secret": funded.secret,
                },
            )
            assert added.status_code == 201, added.text
        accounts = service.system.accounts
        view = await accounts.require(session.user["id"], added.json()["id"])
        yield Setup(service, view)


@pytest.fixture
async def setup(
    nursery: trio.Nursery, tmp_path: Path, db_url: str, clock: ManualClock, sim: SimClient
) -> AsyncIterator[Setup]:
    async for value in start(nursery, tmp_path, db_url, clock, sim):
        yield value


async def outage(sim: SimClient) -> None:
    await sim.set_fault("binanceusdm", "outage")


async def snapshot(setup: Setup, need_price: bool = False) -> AccountSnapshot:
    accounts = setup.service.system.accounts
    return await accounts.snapshot(setup.account, "BTC_USDT", need_price=need_price)


async def write(setup: Setup) -> None:
    """One write call on the account (setting the leverage)."""
    venue = venue_for(setup.account.info)
    await setup.service.system.accounts.call(
        setup.account,
        functools.partial(venue.set_leverage, symbol="BTC_USDT", leverage=D(3)),
        read_only=False,
    )


async def test_fresh_funds_answer_without_asking_the_exchange(setup: Setup, sim: SimClient) -> None:
    first = await snapshot(setup)
    assert first.equity == D("5000") and first.available == D("5000")
    assert first.rules.tick_size > 0 and first.rules.lot_size > 0
    await outage(sim)
    again = await snapshot(setup)  # kept: the exchange is not asked
    assert again.equity == first.equity


async def test_funds_from_before_a_write_are_never_used(setup: Setup, sim: SimClient) -> None:
    await snapshot(setup)
    await outage(sim)
    with pytest.raises(ExchangeFailure):  # a failed write may still have changed the account
        await write(setup)
    with pytest.raises(ExchangeFailure):  # had to fetch: the kept funds predate the write
        await snapshot(setup)


async def test_the_actor_refreshes_by_itself_once_writes_pause(
    setup: Setup, sim: SimClient
) -> None:
    await snapshot(setup)
    await write(setup)
    await trio.sleep(QUIET_REFRESH_WAIT)
    await outage(sim)
    kept = await snapshot(setup)  # fetched by the actor after the write
    assert kept.equity == D("5000")


async def test_funds_older_than_the_maximum_age_are_fetched_again(
    nursery: trio.Nursery, tmp_path: Path, db_url: str, clock: ManualClock, sim: SimClient
) -> None:
    async for setup in start(nursery, tmp_path, db_url, clock, sim, account_state_max_age=0.2):
        await snapshot(setup)
        await trio.sleep(0.3)
        await outage(sim)
        with pytest.raises(ExchangeFailure):
            await snapshot(setup)


async def test_a_kept_price_is_used_only_within_its_maximum_age(
    nursery: trio.Nursery, tmp_path: Path, db_url: str, clock: ManualClock, sim: SimClient
) -> None:
    async for setup in start(
        nursery, tmp_path, db_url, clock, sim, account_state_max_age=60, price_max_age=0.3
    ):
        await sim.set_price("BTC_USDT", "50000", freeze=True)
        assert (await snapshot(setup, need_price=True)).rules.last_price == D("50000")
        await sim.set_price("BTC_USDT", "51000", freeze=True)
        assert (await snapshot(setup, need_price=True)).rules.last_price == D("50000")
        await trio.sleep(0.4)
        assert (await snapshot(setup, need_price=True)).rules.last_price == D("51000")


async def test_an_unknown_symbol_is_a_problem_not_a_crash(setup: Setup) -> None:
    await snapshot(setup)
    accounts = setup.service.system.accounts
    with pytest.raises(ExchangeFailure):
        await accounts.snapshot(setup.account, "NOPE_USDT", need_price=False)
    assert (await snapshot(setup)).equity == D("5000")  # the actor is still serving
