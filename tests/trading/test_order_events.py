"""order_update events over the real WebSocket: an entry's fill, a target's fill, a stop's
cancel (the stop resized after the first target), each as the API promises."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection

from api.process import Running
from tests.realtime.support import connect, subscribe
from testudo.clock import ManualClock
from testudo.sim.client import SimClient
from testudo.trading.model import Order
from testudo.trading.order_events import Seen, order_updates, status_of

from .helpers import binance_trader, market_body

Event = dict[str, Any]


async def next_update(
    ws: WebSocketConnection, seen: list[Event], match: Callable[[Event], bool]
) -> Event:
    """The first order_update on the socket that matches (every frame is kept in ``seen``)."""
    with trio.move_on_after(30):
        while True:
            frame = json.loads(await ws.get_message())
            data: Event = frame.get("data", {})
            seen.append(data)
            if data.get("e") == "order_update" and match(data):
                return data
    raise AssertionError(f"no such order_update among {seen}")


async def test_fills_and_cancels_are_order_updates(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    uid = trader.session.user["id"]
    seen: list[Event] = []
    async with connect(exchange_service.ws_url, trader.session.bearer()) as ws:
        assert (await subscribe(ws, f"order.{uid}"))["result"] is None
        body = market_body(
            quantity="0.02",
            take_profit=[
                {"price": "51000", "quantity": "0.01"},
                {"price": "53000", "quantity": "0.01"},
            ],
        )
        created = await trader.post(body)
        assert created.status_code == 201, created.text
        group_id = created.json()["id"]

        entry = await next_update(ws, seen, lambda d: d["role"] == "entry")
        assert entry["status"] == "filled" and entry["s"] == "BTC_USDT"
        assert entry["group_id"] == group_id and entry["side"] == "buy"
        assert entry["type"] == "market" and entry["filled_quantity"] == "0.02"
        price = D(entry["average_price"])
        assert abs(price - 50000) < 1
        assert D(entry["fee"]) == (price * D("0.02") * D("0.0005")).quantize(D("1e-8"))  # taker
        assert isinstance(entry["seq"], int) and entry["order_id"]
        stop = await next_update(
            ws, seen, lambda d: d["role"] == "stop_loss" and d["status"] == "placed"
        )
        assert stop["trigger_price"] == "49000" and stop["quantity"] == "0.02"

        await sim.set_price("BTC_USDT", "51100", freeze=True)
        target = await next_update(
            ws, seen, lambda d: d["role"] == "take_profit" and d["status"] == "filled"
        )
        assert target["target_index"] == 0 and target["filled_quantity"] == "0.01"
        assert target["side"] == "sell" and D(target["fee"]) > 0
        resized = await next_update(
            ws, seen, lambda d: d["role"] == "stop_loss" and d["status"] == "placed"
        )
        assert resized["quantity"] == "0.01"
        cancelled = await next_update(
            ws,
            seen,
            lambda d: d["order_id"] == stop["order_id"] and d["status"] == "cancelled",
        )
        assert cancelled["role"] == "stop_loss" and cancelled["filled_quantity"] == "0"
    seqs = [d["seq"] for d in seen if "seq" in d]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    kinds = {d["e"] for d in seen}
    assert {"trade_created", "order_update"} <= kinds  # group events keep their own names


def order(status: str, filled: str = "0") -> Order:
    return Order(
        "o1", "take_profit", 0, 1, "c1", "x1", "sell", "limit", D("51000"), None, D("0.01"),
        True, status, filled=D(filled),
    )  # fmt: skip


def test_statuses() -> None:
    assert status_of(order("pending_submit")) is None
    assert status_of(order("open")) == "placed"
    assert status_of(order("open", "0.004")) == "partially_filled"
    assert status_of(order("filled", "0.01")) == "filled"
    assert status_of(order("cancelled")) == "cancelled"
    assert status_of(order("cancelled"), expired=True) == "expired"
    assert status_of(order("not_found")) == "rejected"


def test_one_update_per_change() -> None:
    seen: dict[str, Seen] = {}
    resting = order("open")
    assert [p["status"] for _, p in order_updates([resting], seen)] == ["placed"]
    assert order_updates([resting], seen) == []  # nothing changed: nothing told
    resting.filled = D("0.004")
    assert [p["status"] for _, p in order_updates([resting], seen)] == ["partially_filled"]
    resting.filled = D("0.006")
    assert [p["filled_quantity"] for _, p in order_updates([resting], seen)] == ["0.006"]
    resting.status = "cancelled"
    told = order_updates([resting], seen, frozenset({"o1"}))
    assert [p["status"] for _, p in told] == ["expired"]


def test_fills_come_before_what_answers_them() -> None:
    old_stop, target, new_stop = order("open"), order("open"), order("pending_submit")
    old_stop.id, new_stop.id = "stop1", "stop2"
    seen: dict[str, Seen] = {}
    order_updates([old_stop, target], seen)
    old_stop.status, target.status, target.filled = "cancelled", "filled", D("0.01")
    new_stop.status = "open"
    told = order_updates([old_stop, target, new_stop], seen)
    assert [(p["order_id"], p["status"]) for _, p in told] == [
        ("o1", "filled"),
        ("stop2", "placed"),
        ("stop1", "cancelled"),
    ]
