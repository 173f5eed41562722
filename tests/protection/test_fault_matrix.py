"""The fault matrix: every fault that could leave a position without its stop, on every venue.

Each test opens a limit long (resting below the market), arms a fault on the simulator, lets
the entry fill and checks the promise afterwards: the position is protected by exactly one
reduce-only stop resting on the exchange, or it is flat; the group says which and why; nothing
is placed twice. Faults are the venues' own answers (their error bodies and codes), played by
the simulator's fault rules (``count`` makes a rule lapse, ``skip`` lets earlier placements
through).
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import httpx
import pytest
import trio

from api.process import Running
from tests.trading.helpers import live_orders
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .support import (
    VENUES,
    VenueCase,
    assert_protected_or_flat,
    fill_entry,
    pending_long,
    venue_orders,
    venue_position,
    wait_protected_or_flat,
)

pytestmark = pytest.mark.slow

every_venue = pytest.mark.parametrize("venue", VENUES, ids=[v.id for v in VENUES])
SLOTTED = [v for v in VENUES if v.stop_slots is not None]


async def opened(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase, **extra: Any
) -> tuple[Any, str]:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await venue.link(http, sim, clock)
    created = await trader.post(pending_long(exchange_account_id=trader.account_id, **extra))
    assert created.status_code == 201, created.text
    return trader, created.json()["id"]


def events(body: dict[str, Any]) -> list[str]:
    return [e["event_type"] for e in body["events"]]


@every_venue
async def test_a_rate_limited_stop_is_retried_never_exited(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await sim.set_fault(venue.prefix, "rate_limit", endpoint=venue.stop_endpoint, count=2)
    await fill_entry(sim)
    body = await wait_protected_or_flat(sim, trader, venue, group_id)
    assert body["status"] == "active" and not body["closing"]
    assert "order_retry" in events(body) and "emergency_exit" not in events(body)
    assert [o for o in body["orders"] if o["role"] == "close"] == []


@every_venue
async def test_a_stop_that_cannot_rest_is_an_emergency_exit(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    refused = venue.stop_refused
    await sim.set_fault(
        venue.prefix,
        "reject",
        endpoint=venue.stop_endpoint,
        code=refused.code,
        message=refused.message,
        count=1,
    )
    await fill_entry(sim)
    body = await trader.wait(group_id, lambda b: b["status"] == "closed")
    await assert_protected_or_flat(sim, trader, venue, group_id)
    assert body["close_reason"] == "stop_rejected_emergency_exit"
    assert refused.message.split(".")[0] in (body["error"] or "")
    exit_event = next(e for e in body["events"] if e["event_type"] == "emergency_exit")
    assert exit_event["payload"]["reason"] in ("would_trigger", "invalid_trigger")


@pytest.mark.parametrize("venue", SLOTTED, ids=[v.id for v in SLOTTED])
async def test_too_many_conditional_orders_make_room_for_the_stop(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(
        xhttp, sim, clock, venue, take_profit=[{"price": "52000", "order_type": "market"}]
    )
    slots = venue.stop_slots
    assert slots is not None
    await sim.set_fault(
        venue.prefix,
        "reject",
        endpoint=venue.stop_endpoint,
        code=slots.code,
        message=slots.message,
        count=1,
    )
    await fill_entry(sim)
    body = await wait_protected_or_flat(sim, trader, venue, group_id)
    assert body["status"] == "active" and "stop_slots_freed" in events(body)
    assert body["take_profit"][0]["order_type"] == "limit"
    target = live_orders(body, "take_profit")
    assert len(target) == 1 and target[0]["trigger_price"] is None  # a plain limit now


@every_venue
async def test_a_rate_limited_target_is_retried(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await sim.set_fault(
        venue.prefix,
        "rate_limit",
        endpoint=venue.target_endpoint,
        skip=venue.target_skip,
        count=1,
    )
    await fill_entry(sim)
    body = await trader.wait(group_id, lambda b: len(live_orders(b, "take_profit")) == 1)
    await assert_protected_or_flat(sim, trader, venue, group_id)
    assert "order_retry" in events(body)


@every_venue
async def test_a_refused_target_leaves_the_stop_in_charge(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    refused = venue.target_refused
    await sim.set_fault(
        venue.prefix,
        "reject",
        endpoint=venue.target_endpoint,
        skip=venue.target_skip,
        code=refused.code,
        message=refused.message,
        count=1,
    )
    await fill_entry(sim)
    body = await trader.wait(group_id, lambda b: b["take_profit"][0]["error"] is not None)
    await trio.sleep(1)  # no retry loop, no exit
    body = await assert_protected_or_flat(sim, trader, venue, group_id)
    assert body["status"] == "active" and live_orders(body, "take_profit") == []
    assert "take_profit_refused" in events(body)


@every_venue
@pytest.mark.parametrize("fault", ["rate_limit", "reject"])
async def test_a_refused_close_keeps_the_stop_until_flat(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase, fault: str
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await fill_entry(sim)
    await wait_protected_or_flat(sim, trader, venue, group_id)
    refused = venue.close_refused
    params: dict[str, Any] = {"count": 2}
    if fault == "reject":
        params.update(code=refused.code, message=refused.message)
    await sim.set_fault(venue.prefix, fault, endpoint=venue.close_endpoint, **params)
    response = await xhttp.delete(f"/api/v1/trades/{group_id}", headers=trader.session.bearer())
    assert response.status_code == 200, response.text
    # While the close is refused, the stop is still on the exchange.
    body = await trader.wait(group_id, lambda b: "order_retry" in events(b))
    if body["status"] != "closed":
        assert len(live_orders(body, "stop_loss")) == 1
        assert await venue_position(sim, trader, venue) != 0
    body = await trader.wait(group_id, lambda b: b["status"] == "closed")
    await assert_protected_or_flat(sim, trader, venue, group_id)
    assert [o["status"] for o in body["orders"] if o["role"] == "close"][-1] == "filled"


@every_venue
async def test_a_large_adverse_move_before_the_close(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    """A close is priced from the market now: 12 % below the entry it still fills (priced
    from the entry, a bounded market order could not)."""
    trader, group_id = await opened(
        xhttp, sim, clock, venue, stop_loss_price="40000", take_profit=[{"price": "70000"}]
    )
    await fill_entry(sim)
    await wait_protected_or_flat(sim, trader, venue, group_id)
    await sim.set_price("BTC_USDT", "43500", freeze=True)
    response = await xhttp.delete(f"/api/v1/trades/{group_id}", headers=trader.session.bearer())
    assert response.status_code == 200, response.text
    body = await trader.wait(group_id, lambda b: b["status"] == "closed")
    await assert_protected_or_flat(sim, trader, venue, group_id)
    close = [o for o in body["orders"] if o["role"] == "close"]
    assert len(close) == 1 and D(close[0]["average_price"]) < D("44000")


@every_venue
async def test_a_stop_cancelled_by_hand_comes_back(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await fill_entry(sim)
    body = await wait_protected_or_flat(sim, trader, venue, group_id)
    stop = live_orders(body, "stop_loss")[0]
    client = venue.client(sim, trader.account)
    await trio.to_thread.run_sync(
        lambda: client.cancel_order(stop["exchange_order_id"], venue.symbol, venue.trigger_params)
    )
    body = await trader.wait(
        group_id,
        lambda b: (
            [o["exchange_order_id"] for o in live_orders(b, "stop_loss")]
            not in ([], [stop["exchange_order_id"]])
        ),
    )
    await assert_protected_or_flat(sim, trader, venue, group_id)
    assert body["status"] == "active"


@every_venue
async def test_a_position_closed_by_hand_ends_the_group(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await fill_entry(sim)
    await wait_protected_or_flat(sim, trader, venue, group_id)
    client = venue.client(sim, trader.account)
    price = 49400 if venue.id == "hyperliquid" else None
    await trio.to_thread.run_sync(
        lambda: client.create_order(
            venue.symbol, "market", "sell", venue.amount("0.02"), price, {"reduceOnly": True}
        )
    )
    body = await trader.wait(group_id, lambda b: b["status"] == "closed_externally")
    await assert_protected_or_flat(sim, trader, venue, group_id)
    assert await venue_orders(sim, trader, venue) == []  # the leftovers are cancelled
    await trio.sleep(1.5)  # and the stop is never placed again
    assert await venue_orders(sim, trader, venue) == []
    assert "closed_externally" in events(body)


@every_venue
async def test_an_ambiguous_stop_is_found_not_sent_twice(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    venue: VenueCase,
    exchange_service: Running,
) -> None:
    """The stop's answer is lost (the exchange placed it): it is found by its client order
    id; a second stop is never sent."""
    trader, group_id = await opened(xhttp, sim, clock, venue)
    await sim.set_fault(
        venue.prefix,
        "timeout",
        endpoint=venue.stop_endpoint,
        timeout_ms=2500,
        apply=True,
        count=1,
    )
    await fill_entry(sim)
    body = await wait_protected_or_flat(sim, trader, venue, group_id)
    stops = [o for o in body["orders"] if o["role"] == "stop_loss"]
    assert len(stops) == 1 and stops[0]["status"] == "open"
