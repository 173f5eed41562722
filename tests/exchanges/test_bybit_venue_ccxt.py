"""The Bybit venue module's exchange calls: real ``ccxt.bybit`` (as Testudo builds it) against
the simulator's Bybit v5 dialect over loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal as D
from functools import partial
from typing import Any

import ccxt
import pytest
import trio

from testudo.exchanges import catalog
from testudo.exchanges.clients import ClientFactory, Credentials
from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.model import OrderKind, OrderRequest, Side

BTC = "BTC/USDT:USDT"
bybit = venue_for("bybit")


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))


async def bybit_client(sim: SimClient, account: SimAccount) -> Any:
    """A ccxt client as Testudo's exchange-account actor builds it (its lanes load the
    markets before the first call)."""
    factory = ClientFactory(base_url=sim.base_url, rate_limit=False)
    info = catalog.get("bybit")
    assert info is not None
    client = factory.create(info, Credentials(account.api_key, account.secret))
    await call(client.load_markets)
    return client


@pytest.fixture
async def account(sim: SimClient) -> SimAccount:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    return await sim.create_account("10000")


@pytest.fixture
async def client(sim: SimClient, account: SimAccount) -> Any:
    return await bybit_client(sim, account)


def cid(role: str = "entry", seq: int = 1, target: int | None = None) -> str:
    return bybit.client_order_id(str(uuid.uuid4()), role, seq, target)


def order(client_id: str, side: str, kind: str = "market", **extra: Any) -> OrderSpec:
    return OrderSpec(client_id, "BTC_USDT", side, kind, D(extra.pop("quantity", "0.02")), **extra)


async def test_orders_are_placed_read_and_found_by_order_link_id(
    sim: SimClient, client: Any
) -> None:
    entry = await call(bybit.place, client, order(cid(), "buy"), None)
    # Bybit acknowledges with ids only: the market entry is read back at once.
    assert (entry.status, entry.filled, entry.quantity) == ("filled", D("0.02"), D("0.02"))
    assert entry.average_price is not None and entry.price is None
    stop_id = cid("stop_loss")
    stop_spec = order(
        stop_id,
        "sell",
        trigger_price=D("49000"),
        trigger_kind="stop_loss",
        reduce_only=True,
    )
    stop = await call(bybit.place, client, stop_spec, None)
    assert (stop.status, stop.client_order_id) == ("open", stop_id)
    fetched = await call(bybit.fetch, client, "BTC_USDT", stop.exchange_order_id, True)
    assert (fetched.status, fetched.trigger_price, fetched.reduce_only) == (
        "open",
        D("49000"),
        True,
    )
    found = await call(bybit.find_by_client_id, client, "BTC_USDT", stop_id, True)
    assert found is not None and found.exchange_order_id == stop.exchange_order_id
    assert await call(bybit.find_by_client_id, client, "BTC_USDT", cid("stop_loss", 2), True) is (
        None
    )
    # The stop fires: the same order id reports the fill (it left the StopOrder list).
    await sim.set_price("BTC_USDT", "48900", freeze=True)
    fired = await call(bybit.fetch, client, "BTC_USDT", stop.exchange_order_id, True)
    assert (fired.status, fired.filled, fired.is_trigger) == ("filled", D("0.02"), True)
    average = await call(bybit.average_fill_price, client, "BTC_USDT", stop.exchange_order_id, 0)
    assert average == fired.average_price
    assert await call(bybit.cancel, client, "BTC_USDT", stop.exchange_order_id, True) is False


async def test_fetch_and_lookup_reach_the_history_past_the_500_latest(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    """``/v5/order/realtime`` keeps the 500 most recently finished orders; an older one is
    read from the order history (the realtime list alone would call it gone)."""
    link = cid()
    first = await call(bybit.place, client, order(link, "buy", quantity="0.001"), None)
    engine = sim.simulator.engines["bybit"]
    market = OrderRequest(symbol="BTC_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D("0.001"))
    for _ in range(500):
        engine.place(account.account_id, market)
    with pytest.raises(ccxt.OrderNotFound):
        await call(client.fetch_order, first.exchange_order_id, BTC, {"acknowledged": True})
    old = await call(bybit.fetch, client, "BTC_USDT", first.exchange_order_id, False)
    assert (old.status, old.filled, old.client_order_id) == ("filled", D("0.001"), link)
    found = await call(bybit.find_by_client_id, client, "BTC_USDT", link, False)
    assert found is not None and found.exchange_order_id == first.exchange_order_id
    with pytest.raises(ccxt.OrderNotFound):
        await call(bybit.fetch, client, "BTC_USDT", str(uuid.uuid4()), False)


async def test_every_open_order_of_both_kinds_is_listed_past_one_page(client: Any) -> None:
    await call(bybit.place, client, order(cid(), "buy", quantity="0.1"), None)
    limits = [
        order(cid("entry", i), "buy", "limit", quantity="0.001", price=D(40000 + i))
        for i in range(55)
    ]
    for spec in limits:
        await call(bybit.place, client, spec, None)
    stops = [
        order(
            cid("stop_loss", i),
            "sell",
            trigger_price=D(45000 + i),
            trigger_kind="stop_loss",
            reduce_only=True,
            quantity="0.01",
        )
        for i in range(3)
    ]
    for spec in stops:
        await call(bybit.place, client, spec, None)
    listed = await call(bybit.open_orders, client)
    assert len(listed) == 58  # 55 limits over two pages of 50, and 3 stops
    assert {o.client_order_id for o in listed if o.is_trigger} == {s.client_order_id for s in stops}
    assert {o.client_order_id for o in listed if not o.is_trigger} == {
        s.client_order_id for s in limits
    }
    assert all(o.symbol == "BTC_USDT" for o in listed)
    assert len(await call(bybit.open_orders, client, "BTC_USDT")) == 58
    assert await call(bybit.open_orders, client, "ETH_USDT") == []


async def test_a_partly_filled_order_cancelled_is_cancelled_not_filled(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    link = cid()
    resting = await call(
        bybit.place, client, order(link, "buy", "limit", quantity="0.01", price=D("49000")), None
    )
    await sim.fill_order(account, "bybit", client_order_id=link, quantity="0.004")
    assert await call(bybit.cancel, client, "BTC_USDT", resting.exchange_order_id, False) is True
    state = await call(bybit.fetch, client, "BTC_USDT", resting.exchange_order_id, False)
    assert (state.status, state.filled, state.average_price) == ("cancelled", D("0.004"), D(49000))


async def test_a_stop_the_market_passed_is_refused_as_would_trigger(client: Any) -> None:
    await call(bybit.place, client, order(cid(), "buy"), None)
    passed = order(
        cid("stop_loss"),
        "sell",
        trigger_price=D("50500"),
        trigger_kind="stop_loss",
        reduce_only=True,
    )
    with pytest.raises(ccxt.InvalidOrder) as refused:
        await call(bybit.place, client, passed, None)
    found = bybit.classify(refused.value)
    assert (found.kind, found.reason, found.code) == ("refused", "would_trigger", "110093")


async def test_an_unchanged_leverage_is_success_and_a_wrong_one_is_not(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    await call(bybit.set_leverage, client, "BTC_USDT", D(10))  # a fresh account's default
    await call(bybit.set_leverage, client, "BTC_USDT", D(3))
    await call(bybit.set_leverage, client, "BTC_USDT", D(3))  # 110043, twice over
    with pytest.raises(ccxt.BadRequest, match="leverage invalid"):
        await call(bybit.set_leverage, client, "BTC_USDT", D(101))
    logged = await sim.requests("bybit", key="/v5/position/set-leverage")
    assert len(logged) == 4
    position = await call(client.fetch_position, BTC)
    assert position["leverage"] == 3


async def test_equity_mode_and_permissions(sim: SimClient, client: Any) -> None:
    await call(bybit.place, client, order(cid(), "buy", quantity="0.1"), None)
    await sim.set_price("BTC_USDT", "51000", freeze=True)
    raw = await call(client.fetch_balance)
    equity = bybit.equity(raw)
    wallet = raw["info"]["result"]["list"][0]
    assert equity.equity == D(wallet["totalEquity"]) > D(str(raw["USDT"]["total"]))
    assert equity.available == D(wallet["totalAvailableBalance"])
    assert await call(bybit.position_mode, client) == "one_way"
    assert (await call(bybit.read_permissions, client))["withdrawals"] is False
    hedged = await bybit_client(sim, await sim.create_account("1000", hedge_mode=True))
    assert await call(bybit.position_mode, hedged) == "hedge"
    withdrawing = await bybit_client(
        sim, await sim.create_account("1000", permissions={"enableWithdrawals": True})
    )
    assert (await call(bybit.read_permissions, withdrawing))["withdrawals"] is True
