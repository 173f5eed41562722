"""The OKX venue module's exchange calls: real ``ccxt.okx`` (as Testudo builds it, with the
passphrase) against the simulator's OKX v5 dialect over loopback. Quantities are checked in
base units (Testudo's side) and in contracts (what OKX was sent and holds)."""

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
from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.sim.client import SimAccount, SimClient

BTC = "BTC/USDT:USDT"
okx = venue_for("okx")


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))


async def okx_client(sim: SimClient, account: SimAccount) -> Any:
    """A ccxt client as Testudo's exchange-account actor builds it."""
    factory = ClientFactory(base_url=sim.base_url, rate_limit=False)
    info = catalog.get("okx")
    assert info is not None
    client = factory.create(info, Credentials(account.api_key, account.secret, account.passphrase))
    await call(client.load_markets)
    client.sent = record(client)
    return client


@pytest.fixture
async def account(sim: SimClient) -> SimAccount:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    return await sim.create_account("10000")


@pytest.fixture
async def client(sim: SimClient, account: SimAccount) -> Any:
    return await okx_client(sim, account)


def cid(role: str = "entry", seq: int = 1, target: int | None = None) -> str:
    return okx.client_order_id(str(uuid.uuid4()), role, seq, target)


def order(client_id: str, side: str, kind: str = "market", **extra: Any) -> OrderSpec:
    return OrderSpec(client_id, "BTC_USDT", side, kind, D(extra.pop("quantity", "0.02")), **extra)


def stop(client_id: str, price: str, quantity: str = "0.02", side: str = "sell") -> OrderSpec:
    return order(
        client_id,
        side,
        quantity=quantity,
        trigger_price=D(price),
        trigger_kind="stop_loss",
        reduce_only=True,
    )


def record(client: Any) -> dict[str, list[Any]]:
    """Keep the JSON body of every POST ``client`` sends, by path (ccxt's ``fetch`` is
    the one place every request passes; it still goes out unchanged)."""
    bodies: dict[str, list[Any]] = {}
    send = client.fetch

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        path = "/api/v5/" + url.split("/api/v5/", 1)[-1].split("?", 1)[0]
        if method == "POST":
            bodies.setdefault(path, []).append(json.loads(body) if body else None)
        return send(url, method, headers, body)

    client.fetch = fetch
    return bodies


def sent(client: Any, path: str) -> list[Any]:
    """The JSON bodies ``client`` sent to ``path`` (a recorded client)."""
    return list(client.sent.get(path, []))


async def venue_contracts(sim: SimClient, account: SimAccount) -> D:
    state = await sim.state(account)
    return sum((D(p["size"]) for p in state["venues"]["okx"]["positions"]), D(0))


async def test_a_market_entry_goes_out_in_contracts_and_reads_back_in_base_units(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    entry = await call(okx.place, client, order(cid(), "buy"), None)
    assert (entry.status, entry.filled, entry.quantity) == ("filled", D("0.02"), D("0.02"))
    assert entry.average_price is not None and entry.price is None
    (batch,) = sent(client, "/api/v5/trade/batch-orders")
    assert (batch[0]["sz"], batch[0]["ordType"]) == ("2", "market")  # 0.02 BTC = 2 contracts
    assert batch[0]["clOrdId"] == entry.client_order_id
    (position,) = await call(okx.positions, client)
    assert (position.side, position.quantity) == ("long", D("0.02"))
    raw = await call(client.fetch_positions)
    assert raw[0]["contracts"] == 2
    assert await venue_contracts(sim, account) == D("0.02")  # the engine holds base units
    rules = await call(okx.market_rules, client, "BTC_USDT")
    assert (rules.contract_size, rules.lot_size, rules.min_qty) == (
        D("0.01"),
        D("0.0001"),
        D("0.0001"),
    )


async def test_stops_are_market_algo_orders_fetched_found_and_cancelled_there(
    sim: SimClient, client: Any
) -> None:
    await call(okx.place, client, order(cid(), "buy"), None)
    stop_id = cid("stop_loss")
    placed = await call(okx.place, client, stop(stop_id, "49000"), None)
    assert (placed.status, placed.client_order_id, placed.is_trigger) == ("open", stop_id, True)
    (algo,) = sent(client, "/api/v5/trade/order-algo")
    assert (algo["ordType"], algo["slTriggerPx"], algo["slOrdPx"], algo["sz"]) == (
        "conditional",
        "49000",
        "-1",  # a market order when it fires, never a limit at the trigger
        "2",
    )
    assert (algo["algoClOrdId"], algo["reduceOnly"]) == (stop_id, True)
    assert sent(client, "/api/v5/trade/order") == []
    fetched = await call(okx.fetch, client, "BTC_USDT", placed.exchange_order_id, True)
    assert (fetched.status, fetched.trigger_price, fetched.quantity, fetched.price) == (
        "open",
        D("49000"),
        D("0.02"),
        None,
    )
    found = await call(okx.find_by_client_id, client, "BTC_USDT", stop_id, True)
    assert found is not None and found.exchange_order_id == placed.exchange_order_id
    assert await call(okx.find_by_client_id, client, "BTC_USDT", cid("stop_loss", 2), True) is (
        None
    )
    listed = await call(okx.open_orders, client)
    assert [(o.exchange_order_id, o.is_trigger, o.quantity) for o in listed] == [
        (placed.exchange_order_id, True, D("0.02"))
    ]
    assert await call(okx.cancel, client, "BTC_USDT", placed.exchange_order_id, True) is True
    assert len(sent(client, "/api/v5/trade/cancel-algos")) == 1
    gone = await call(okx.fetch, client, "BTC_USDT", placed.exchange_order_id, True)
    assert gone.status == "cancelled"
    assert await call(okx.cancel, client, "BTC_USDT", placed.exchange_order_id, True) is False
    assert await call(okx.open_orders, client) == []


async def test_a_fired_stop_reports_its_executions_fill_under_its_algo_id(
    sim: SimClient, client: Any
) -> None:
    await call(okx.place, client, order(cid(), "buy"), None)
    placed = await call(okx.place, client, stop(cid("stop_loss"), "49000"), None)
    await sim.set_price("BTC_USDT", "48900", freeze=True)
    fired = await call(okx.fetch, client, "BTC_USDT", placed.exchange_order_id, True)
    assert (fired.status, fired.filled, fired.is_trigger) == ("filled", D("0.02"), True)
    assert fired.exchange_order_id == placed.exchange_order_id
    assert fired.average_price is not None and fired.average_price < D(49000)
    found = await call(okx.find_by_client_id, client, "BTC_USDT", placed.client_order_id, True)
    assert found is not None and (found.status, found.filled) == ("filled", D("0.02"))
    assert await call(okx.positions, client) == []


async def test_a_partly_filled_limit_is_read_in_base_units_and_found_by_client_id(
    sim: SimClient, client: Any, account: SimAccount
) -> None:
    link = cid()
    resting = await call(
        okx.place, client, order(link, "buy", "limit", quantity="0.05", price=D("49000")), None
    )
    (batch,) = sent(client, "/api/v5/trade/batch-orders")
    assert (batch[0]["sz"], batch[0]["px"]) == ("5", "49000")
    await sim.fill_order(account, "okx", client_order_id=link, quantity="0.02")
    state = await call(okx.fetch, client, "BTC_USDT", resting.exchange_order_id, False)
    assert (state.status, state.filled, state.quantity, state.price) == (
        "open",
        D("0.02"),
        D("0.05"),
        D(49000),
    )
    found = await call(okx.find_by_client_id, client, "BTC_USDT", link, False)
    assert found is not None and found.exchange_order_id == resting.exchange_order_id
    assert await call(okx.find_by_client_id, client, "BTC_USDT", cid(), False) is None
    average = await call(okx.average_fill_price, client, "BTC_USDT", resting.exchange_order_id, 0)
    assert average == D(49000)
    assert await call(okx.cancel, client, "BTC_USDT", resting.exchange_order_id, False) is True
    assert await call(okx.cancel, client, "BTC_USDT", resting.exchange_order_id, False) is False


async def test_every_open_order_of_both_kinds_is_listed_past_one_page(client: Any) -> None:
    await call(okx.place, client, order(cid(), "buy", quantity="0.1"), None)
    limits = [
        order(cid("entry", i), "buy", "limit", quantity="0.0001", price=D(40000 + i))
        for i in range(105)
    ]
    for spec in limits:
        await call(okx.place, client, spec, None)
    stops = [stop(cid("stop_loss", i), str(45000 + i), "0.01") for i in range(3)]
    for spec in stops:
        await call(okx.place, client, spec, None)
    listed = await call(okx.open_orders, client)
    assert len(listed) == 108  # 105 limits over two pages of 100, and 3 stops
    assert {o.client_order_id for o in listed if o.is_trigger} == {s.client_order_id for s in stops}
    assert {o.client_order_id for o in listed if not o.is_trigger} == {
        s.client_order_id for s in limits
    }
    assert all(o.symbol == "BTC_USDT" for o in listed)
    assert await call(okx.open_orders, client, "ETH_USDT") == []


async def test_a_stop_the_market_passed_is_refused_as_would_trigger(client: Any) -> None:
    await call(okx.place, client, order(cid(), "buy"), None)
    with pytest.raises(ccxt.InvalidOrder) as refused:
        await call(okx.place, client, stop(cid("stop_loss"), "50500"), None)
    found = okx.classify(refused.value)
    assert (found.kind, found.reason, found.code) == ("refused", "would_trigger", "51280")


async def test_leverage_is_set_for_cross_margin(sim: SimClient, client: Any) -> None:
    await call(okx.set_leverage, client, "BTC_USDT", D(3))
    (body,) = sent(client, "/api/v5/account/set-leverage")
    assert (str(body["lever"]), body["mgnMode"], body["instId"]) == ("3", "cross", "BTC-USDT-SWAP")
    with pytest.raises(ccxt.BaseError) as refused:
        await call(okx.set_leverage, client, "BTC_USDT", D(101))
    assert okx.classify(refused.value).reason == "leverage"


async def test_equity_mode_and_permissions(sim: SimClient, client: Any) -> None:
    await call(okx.place, client, order(cid(), "buy", quantity="0.1"), None)
    await sim.set_price("BTC_USDT", "51000", freeze=True)
    raw = await call(client.fetch_balance)
    equity = okx.equity(raw)
    detail = raw["info"]["data"][0]["details"][0]
    assert equity.equity == D(detail["eq"]) > D(detail["cashBal"])
    assert equity.available == D(detail["availEq"])
    # Never the account-level adjEq: empty on a single-currency margin account.
    blank = {**raw, "info": {"data": [{**raw["info"]["data"][0], "adjEq": ""}]}}
    assert okx.equity(blank) == equity
    assert await call(okx.position_mode, client) == "one_way"
    assert (await call(okx.read_permissions, client))["withdrawals"] is False
    hedged = await okx_client(sim, await sim.create_account("1000", hedge_mode=True))
    assert await call(okx.position_mode, hedged) == "hedge"
    withdrawing = await okx_client(
        sim, await sim.create_account("1000", permissions={"enableWithdrawals": True})
    )
    assert (await call(okx.read_permissions, withdrawing))["withdrawals"] is True


async def test_a_wrong_passphrase_is_lost_credentials(sim: SimClient, account: SimAccount) -> None:
    factory = ClientFactory(base_url=sim.base_url, rate_limit=False)
    info = catalog.get("okx")
    assert info is not None
    wrong = factory.create(info, Credentials(account.api_key, account.secret, "not-it"))
    with pytest.raises(ccxt.AuthenticationError) as refused:
        await call(wrong.fetch_balance)
    found = okx.classify(refused.value)
    assert (found.kind, found.reason, found.code) == ("auth_lost", "invalid_passphrase", "50105")
