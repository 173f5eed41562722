"""Lifecycle paths, rejections, concurrency and exactly-once behaviour of POST /trades."""

from __future__ import annotations

import functools
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, binance_trader, live_orders

PROBLEM = "application/problem+json"


def pending_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": "40000",
        "quantity": "0.01",
        "stop_loss_price": "39000",
        "take_profit": [{"price": "42000"}],
        "leverage": 2,
    }
    body.update(extra)
    return body


async def exchange_orders(sim: SimClient, trader: Trader) -> list[dict[str, Any]]:
    client = sim.binance(trader.account, warnOnFetchOpenOrdersWithoutSymbol=False)
    regular = await trio.to_thread.run_sync(client.fetch_open_orders)
    triggers = await trio.to_thread.run_sync(
        lambda: client.fetch_open_orders(None, None, None, {"trigger": True})
    )
    return list(regular) + list(triggers)


async def test_cancel_while_pending(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(pending_body())
    assert created.status_code == 201, created.text
    group = created.json()
    assert group["status"] == "pending" and len(live_orders(group, "entry")) == 1
    listed = (await xhttp.get("/api/v1/trades", headers=trader.session.bearer())).json()
    assert [g["id"] for g in listed["trades"]] == [group["id"]]
    cancelled = await xhttp.delete(f"/api/v1/trades/{group['id']}", headers=trader.session.bearer())
    assert cancelled.status_code == 200
    body = await trader.wait(group["id"], lambda b: b["status"] == "cancelled")
    assert body["orders"][0]["status"] == "cancelled"
    assert await exchange_orders(sim, trader) == []
    again = await xhttp.delete(f"/api/v1/trades/{group['id']}", headers=trader.session.bearer())
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM


async def test_cancel_while_active_closes_the_position(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(
        pending_body(
            order_type="market",
            entry_price=None,
            stop_loss_price="49000",
            take_profit=[{"price": "52000"}],
        )
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    await trader.wait(
        group_id,
        lambda b: len(live_orders(b, "stop_loss")) == 1 and len(live_orders(b, "take_profit")) == 1,
    )
    response = await xhttp.delete(f"/api/v1/trades/{group_id}", headers=trader.session.bearer())
    assert response.status_code == 200
    body = await trader.wait(group_id, lambda b: b["status"] == "closed")
    assert body["position_quantity"] == "0"
    close = [o for o in body["orders"] if o["role"] == "close"]
    assert len(close) == 1 and close[0]["reduce_only"] and close[0]["filled_quantity"] == "0.01"
    assert await exchange_orders(sim, trader) == []
    positions = await trio.to_thread.run_sync(sim.binance(trader.account).fetch_positions)
    assert all(float(p.get("contracts") or 0) == 0 for p in positions)


async def test_break_even_after_the_first_take_profit(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "buy",
            "order_type": "market",
            "quantity": "0.02",
            "stop_loss_price": "49000",
            "leverage": 2,
            "break_even": True,
            "take_profit": [
                {"price": "51500", "quantity": "0.01"},
                {"price": "53000", "quantity": "0.01"},
            ],
        }
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    await trader.wait(group_id, lambda b: len(live_orders(b, "take_profit")) == 2)
    await sim.set_price("BTC_USDT", "51600", freeze=True)
    body = await trader.wait(
        group_id,
        lambda b: (
            b["break_even"]["triggered"]
            and len(live_orders(b, "stop_loss")) == 1
            and live_orders(b, "stop_loss")[0]["quantity"] == "0.01"
        ),
    )
    entry = D(body["average_entry_price"])
    stop = D(live_orders(body, "stop_loss")[0]["trigger_price"])
    assert stop > entry  # entry plus the fees offset, for a long
    assert stop == (entry * D("1.001")).quantize(D("0.1"))
    # Turn it off again on another group: a real toggle.
    toggled = await xhttp.put(
        f"/api/v1/trades/{group_id}/breakeven",
        json={"enabled": False},
        headers=trader.session.bearer(),
    )
    assert toggled.status_code == 200 and toggled.json()["break_even"]["enabled"] is False


async def test_every_failed_check_is_listed_with_its_numbers(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    response = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "buy",
            "entry_price": "50000",
            "leverage": 10,
            "take_profit": [{"price": "50500"}],
        }
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["error"] == "risk_rejected"
    codes = [c["code"] for c in body["failed_checks"]]
    assert codes[:2] == ["stop_loss_required", "leverage"]
    leverage = body["failed_checks"][1]
    assert leverage["limit"] == "5" and leverage["actual"] == "10"
    decisions = await exchange_service.system.db.fetch_all(
        "SELECT approved, trade_group_id FROM risk_decisions"
    )
    assert decisions == [{"approved": False, "trade_group_id": None}]
    assert await exchange_orders(sim, trader) == []


async def test_twenty_concurrent_trades_against_five_positions(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock, balance="100000")
    statuses: list[int] = []

    async def one(i: int) -> None:
        response = await trader.post(pending_body(entry_price=str(40000 - i)))
        statuses.append(response.status_code)
        if response.status_code == 422:
            assert "max_open_positions" in [c["code"] for c in response.json()["failed_checks"]]

    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(one, i)
    assert sorted(statuses) == [201] * 5 + [422] * 15
    entries = [o for o in await exchange_orders(sim, trader) if o["type"] == "limit"]
    assert len(entries) == 5


async def test_a_hundred_concurrent_duplicates_open_one_group(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    body = pending_body(idempotency_key="order-7f3a")
    responses: list[httpx.Response] = []

    async def one() -> None:
        responses.append(await trader.post(body))

    async with trio.open_nursery() as nursery:
        for _ in range(100):
            nursery.start_soon(one)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    groups = await exchange_service.system.db.fetch_all("SELECT id FROM trade_groups")
    assert len(groups) == 1
    entries = [o for o in await exchange_orders(sim, trader) if o["type"] == "limit"]
    assert len(entries) == 1
    # The same key with another body is refused; the header works like the body field.
    other = await trader.post(pending_body(quantity="0.02"), **{"Idempotency-Key": "order-7f3a"})
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    replay = await trader.post(pending_body(), **{"Idempotency-Key": "order-7f3a"})
    assert replay.status_code == 201 and replay.json()["id"] == responses[0].json()["id"]


async def test_update_stop_and_targets(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(
        pending_body(
            order_type="market",
            entry_price=None,
            quantity="0.02",
            stop_loss_price="49000",
            take_profit=[{"price": "52000"}],
        )
    )
    group_id = created.json()["id"]
    await trader.wait(group_id, lambda b: len(live_orders(b, "stop_loss")) == 1)
    headers = trader.session.bearer()
    wrong = await xhttp.put(
        f"/api/v1/trades/{group_id}/sl", json={"price": "50500"}, headers=headers
    )
    assert wrong.status_code == 422 and wrong.json()["error"] == "stop_wrong_side"
    moved = await xhttp.put(
        f"/api/v1/trades/{group_id}/sl", json={"price": "49500"}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    body = await trader.wait(
        group_id, lambda b: [o["trigger_price"] for o in live_orders(b, "stop_loss")] == ["49500"]
    )
    assert body["stop_loss_price"] == "49500"
    too_big = await xhttp.put(
        f"/api/v1/trades/{group_id}/tp",
        headers=headers,
        json={"take_profit": [{"price": "52000", "quantity": "0.05"}]},
    )
    assert too_big.status_code == 422
    targets = await xhttp.put(
        f"/api/v1/trades/{group_id}/tp",
        headers=headers,
        json={"take_profit": [{"price": "51000", "quantity": "0.01"}, {"price": "53000"}]},
    )
    assert targets.status_code == 200, targets.text
    body = await trader.wait(
        group_id,
        lambda b: sorted(o["price"] for o in live_orders(b, "take_profit")) == ["51000", "53000"],
    )
    assert [o["quantity"] for o in live_orders(body, "take_profit")] == ["0.01", "0.01"]


async def test_entry_filled_while_testudo_was_down_gets_protected_at_start(
    db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        trade_poll_interval=0.25,
        exchange_rate_limit=False,
    )
    async with trio.open_nursery() as nursery:
        first: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=first.http_url, timeout=30) as http:
            trader = await binance_trader(http, sim, clock)
            created = await trader.post(
                pending_body(
                    entry_price="49500", stop_loss_price="48500", take_profit=[{"price": "52000"}]
                )
            )
            assert created.status_code == 201
            group_id = created.json()["id"]
        first.shutdown()
    await sim.set_price("BTC_USDT", "49400", freeze=True)  # the entry fills while we are down
    async with trio.open_nursery() as nursery:
        second: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=second.http_url, timeout=30) as http:
            trader.http = http
            body = await trader.wait(
                group_id,
                lambda b: (
                    b["status"] == "active"
                    and len(live_orders(b, "stop_loss")) == 1
                    and len(live_orders(b, "take_profit")) == 1
                ),
            )
            assert [o["role"] for o in body["orders"]].count("entry") == 1
            on_exchange = await exchange_orders(sim, trader)
            assert len(on_exchange) == 2  # stop and target; the entry was never sent again
        second.shutdown()


async def test_a_timed_out_entry_is_found_by_client_id_not_sent_twice(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    await sim.set_fault(
        "binanceusdm", "timeout", endpoint="/fapi/v1/order", timeout_ms=4000, apply=True
    )
    created = await trader.post(pending_body())
    await sim.clear_faults()
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    body = await trader.wait(
        group_id,
        lambda b: b["status"] == "pending" and b["orders"][0]["exchange_order_id"] is not None,
    )
    assert len(body["orders"]) == 1
    entries = [o for o in await exchange_orders(sim, trader) if o["type"] == "limit"]
    assert len(entries) == 1 and entries[0]["clientOrderId"] == body["orders"][0]["client_order_id"]


async def test_cleanup_cancels_ghost_orders(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    kept = await trader.post(pending_body())
    assert kept.status_code == 201
    client = sim.binance(trader.account)
    await trio.to_thread.run_sync(
        lambda: client.create_order(
            "BTC/USDT:USDT", "limit", "buy", 0.01, 41000, {"clientOrderId": "tdo-ghost-e1"}
        )
    )
    await trio.to_thread.run_sync(
        lambda: client.create_order(
            "BTC/USDT:USDT", "limit", "buy", 0.01, 41100, {"clientOrderId": "mine-1"}
        )
    )
    response = await xhttp.post("/api/v1/trades/cleanup", headers=trader.session.bearer())
    assert response.status_code == 200
    assert [o["client_order_id"] for o in response.json()["cancelled_orders"]] == ["tdo-ghost-e1"]
    left = sorted(o["clientOrderId"] for o in await exchange_orders(sim, trader))
    assert left == sorted([kept.json()["orders"][0]["client_order_id"], "mine-1"])


async def test_groups_are_private(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    alice = await binance_trader(xhttp, sim, clock)
    bob = await binance_trader(xhttp, sim, clock)
    group_id = (await alice.post(pending_body())).json()["id"]
    for method, path, body in [
        ("GET", "", None),
        ("DELETE", "", None),
        ("PUT", "/sl", {"price": "39500"}),
        ("PUT", "/breakeven", {"enabled": True}),
    ]:
        response = await xhttp.request(
            method, f"/api/v1/trades/{group_id}{path}", json=body, headers=bob.session.bearer()
        )
        assert response.status_code == 404, (method, path, response.text)
    assert (await xhttp.get("/api/v1/trades", headers=bob.session.bearer())).json() == {
        "trades": []
    }
