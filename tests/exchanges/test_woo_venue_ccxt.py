"""The WOO X venue module's exchange calls: real ``ccxt.woo`` (as Testudo builds it) against
the simulator's WOO dialect over loopback."""

from __future__ import annotations

import json
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
from testudo.exchanges.funds import fetch_funds
from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.model import OrderKind, OrderRequest, Side

BTC = "BTC/USDT:USDT"
woo = venue_for("woo")
INFO = catalog.get("woo")
assert INFO is not None


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))


async def woo_client(sim: SimClient, account: SimAccount) -> Any:
    """A ccxt client as Testudo's exchange-account actor builds it (its lanes load the
    markets before the first call)."""
    factory = ClientFactory(base_url=sim.base_url, rate_limit=False)
    assert INFO is not None
    client = factory.create(INFO, Credentials(account.api_key, account.secret))
    await call(client.load_markets)
    return client


@pytest.fixture
async def account(sim: SimClient) -> SimAccount:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    return await sim.create_account("10000")


@pytest.fixture
async def client(sim: SimClient, account: SimAccount) -> Any:
    return await woo_client(sim, account)


def cid(role: str = "entry", seq: int = 1, target: int | None = None) -> str:
    return woo.client_order_id(str(uuid.uuid4()), role, seq, target)


def order(client_id: str, side: str, kind: str = "market", **extra: Any) -> OrderSpec:
    return OrderSpec(client_id, "BTC_USDT", side, kind, D(extra.pop("quantity", "0.02")), **extra)


def stop(client_id: str, trigger: str, side: str = "sell", **extra: Any) -> OrderSpec:
    return order(
        client_id,
        side,
        trigger_price=D(trigger),
        trigger_kind=extra.pop("kind", "stop_loss"),
        reduce_only=True,
        **extra,
    )


async def test_stops_go_to_the_algo_endpoint_with_a_numeric_client_id(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    entry = await call(woo.place, client, order(cid(), "buy"), None)
    # WOO acknowledges with ids only: the market entry is read back at once.
    assert (entry.status, entry.filled, entry.quantity) == ("filled", D("0.02"), D("0.02"))
    assert entry.average_price is not None and entry.price is None
    await sim.clear_requests()
    stop_id = cid("stop_loss")
    placed = await call(woo.place, client, stop(stop_id, "49000"), None)
    assert (placed.status, placed.client_order_id, placed.is_trigger) == ("open", stop_id, True)
    assert len(await sim.requests("woo", key="POST /v3/trade/algoOrder")) == 1
    assert await sim.requests("woo", key="POST /v3/trade/order") == []
    body = json.loads(client.last_request_body)
    assert "stopLossPrice" not in body
    assert (body["algoType"], body["type"], body["triggerPrice"]) == ("STOP", "MARKET", "49000")
    assert (body["clientAlgoOrderId"], body["reduceOnly"]) == (stop_id, True)
    fetched = await call(woo.fetch, client, "BTC_USDT", placed.exchange_order_id, True)
    assert (fetched.status, fetched.trigger_price, fetched.reduce_only) == (
        "open",
        D("49000"),
        True,
    )
    found = await call(woo.find_by_client_id, client, "BTC_USDT", stop_id, True)
    assert found is not None and found.exchange_order_id == placed.exchange_order_id
    assert await call(woo.find_by_client_id, client, "BTC_USDT", stop_id, False) is None
    assert await call(woo.find_by_client_id, client, "BTC_USDT", cid("stop_loss", 2), True) is None
    # The stop fires: the same algo order reports the fill.
    await sim.set_price("BTC_USDT", "48900", freeze=True)
    fired = await call(woo.fetch, client, "BTC_USDT", placed.exchange_order_id, True)
    assert (fired.status, fired.filled, fired.is_trigger) == ("filled", D("0.02"), True)
    average = await call(woo.average_fill_price, client, "BTC_USDT", placed.exchange_order_id, 0)
    assert average == fired.average_price
    assert await call(woo.cancel, client, "BTC_USDT", placed.exchange_order_id, True) is False
    assert await call(woo.positions, client) == []


async def test_every_open_order_of_both_kinds_is_listed_past_one_page(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    await call(woo.place, client, order(cid(), "buy", quantity="0.1"), None)
    engine = sim.simulator.engines["woo"]
    limits = [cid("entry", i) for i in range(503)]
    for i, client_id in enumerate(limits):
        engine.place(
            account.account_id,
            OrderRequest(
                symbol="BTC_USDT",
                side=Side.BUY,
                kind=OrderKind.LIMIT,
                qty=D("0.001"),
                price=D(40000 + i),
                client_id=client_id,
            ),
        )
    stops = [stop(cid("stop_loss", i), str(45000 + i), quantity="0.01") for i in range(3)]
    for spec in stops:
        await call(woo.place, client, spec, None)
    listed = await call(woo.open_orders, client)
    assert len(listed) == 506  # 503 limits over two pages of 500, and 3 algo stops
    assert {o.client_order_id for o in listed if o.is_trigger} == {s.client_order_id for s in stops}
    assert {o.client_order_id for o in listed if not o.is_trigger} == set(limits)
    assert all(o.symbol == "BTC_USDT" and woo.is_testudo_order(o.client_order_id) for o in listed)
    assert len(await call(woo.open_orders, client, "BTC_USDT")) == 506
    assert await call(woo.open_orders, client, "ETH_USDT") == []


async def test_a_timed_out_entry_is_found_by_its_client_id(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    client_id = cid()
    client.timeout = 500
    await sim.set_fault("woo", "timeout", endpoint="/v3/trade/order", timeout_ms=20_000, apply=True)
    with pytest.raises(ccxt.RequestTimeout) as failed:
        await call(woo.place, client, order(client_id, "buy"), None)
    await sim.set_fault("woo", "off")
    assert woo.classify(failed.value).kind == "unknown"
    found = await call(woo.find_by_client_id, client, "BTC_USDT", client_id, False)
    assert found is not None and (found.status, found.filled) == ("filled", D("0.02"))
    assert found.client_order_id == client_id and found.exchange_order_id != client_id
    assert await call(woo.find_by_client_id, client, "BTC_USDT", cid(), False) is None


async def test_a_partly_filled_order_cancelled_is_cancelled_not_filled(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    client_id = cid()
    resting = await call(
        woo.place, client, order(client_id, "buy", "limit", quantity="0.01", price=D("49000")), None
    )
    assert (resting.status, resting.price) == ("open", D("49000"))
    await sim.fill_order(account, "woo", client_order_id=client_id, quantity="0.004")
    assert await call(woo.cancel, client, "BTC_USDT", resting.exchange_order_id, False) is True
    state = await call(woo.fetch, client, "BTC_USDT", resting.exchange_order_id, False)
    assert (state.status, state.filled, state.average_price) == ("cancelled", D("0.004"), D(49000))
    assert await call(woo.cancel, client, "BTC_USDT", resting.exchange_order_id, False) is False


async def test_a_stop_the_market_reached_is_refused_as_would_trigger(client: Any) -> None:
    await call(woo.place, client, order(cid(), "buy"), None)
    with pytest.raises(ccxt.InvalidOrder) as refused:
        await call(woo.place, client, stop(cid("stop_loss"), "50000"), None)
    found = woo.classify(refused.value)
    assert (found.kind, found.reason, found.code) == ("refused", "would_trigger", "317151")


async def test_leverage_equity_positions_and_mode(sim: SimClient, client: Any) -> None:
    await call(woo.set_leverage, client, "BTC_USDT", D(3))
    await call(woo.place, client, order(cid(), "buy", quantity="0.1"), None)
    await sim.set_price("BTC_USDT", "51000", freeze=True)
    (position,) = await call(woo.positions, client)
    assert (position.symbol, position.side, position.quantity, position.leverage) == (
        "BTC_USDT",
        "long",
        D("0.1"),
        D(3),
    )
    assert position.liquidation_price is None
    funds = await call(fetch_funds, client, INFO, ["BTC_USDT"])
    info = (await call(client.v3PrivateGetAccountInfo))["data"]
    assert funds.equity == D(info["totalAccountValue"])
    assert funds.equity > D(str((await call(client.fetch_balance))["USDT"]["total"]))
    assert funds.available == D(info["freeCollateral"])
    assert funds.prices == {"BTC_USDT": D(51000)}
    assert await call(woo.position_mode, client) == "one_way"
    hedged = await woo_client(sim, await sim.create_account("1000", hedge_mode=True))
    assert await call(woo.position_mode, hedged) == "hedge"
    assert (await call(woo.read_permissions, client))["withdrawal_check"] == "unsupported"
