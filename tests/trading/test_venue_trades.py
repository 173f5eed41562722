"""Trade groups end to end on every venue with an API-key account (Bybit, OKX, WOO X): the
whole service, the venue's real ccxt client, the simulator's dialect of the venue. A long and
a short ladder to the cent; SL/TP updates, cancel, cleanup, crash recovery; the orders on the
exchange checked at every step. How each venue is driven and read (its wallet, its fees, its
client ids, OKX's contracts) is its row of the venue table (:class:`TradeCase`)."""

from __future__ import annotations

import functools
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from api.process import Running, run_service
from tests.protection.support import BYBIT, OKX, WOO, TradeCase, VenueCase, venue_orders
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, live_orders
from .venue_reads import call

CENT = D("0.01")
TRADED = [BYBIT, OKX, WOO]
every_venue = pytest.mark.parametrize("venue", TRADED, ids=[v.id for v in TRADED])


@attrs.frozen
class Ladder:
    """One side of the scenario: prices for the entry at 50000, its targets, the first
    target's fill and the stop-out after break-even."""

    side: str
    stop: str
    tp1: str
    tp2: str
    through_tp1: str
    through_break_even: str


LONG = Ladder("buy", "49000", "51500", "53000", "51600", "50000")
SHORT = Ladder("sell", "51000", "48500", "47000", "48400", "50000")
PENDING = {
    "symbol": "BTC_USDT",
    "side": "buy",
    "entry_price": "45000",
    "quantity": "0.01",
    "stop_loss_price": "44000",
    "take_profit": [{"price": "47000"}],
    "leverage": 2,
}


def trades_of(venue: VenueCase) -> TradeCase:
    assert venue.trades is not None, f"{venue.id} has no trade scenarios"
    return venue.trades


async def linked(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> Trader:
    """BTC at 50000 (frozen), and a fresh user with a fresh account linked on the venue."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    return await venue.link(http, sim, clock)


async def protections_measured(http: httpx.AsyncClient, venue: VenueCase) -> float:
    """``testudo_time_to_protection_seconds_count{venue=...}`` (0 before any)."""
    text = (await http.get("/metrics")).text
    prefix = f'testudo_time_to_protection_seconds_count{{venue="{venue.id}"}} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0][len(prefix) :]) if lines else 0.0


async def open_ladder(trader: Trader, venue: VenueCase, ladder: Ladder) -> dict[str, Any]:
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": ladder.side,
            "order_type": "market",
            "quantity": "0.02",
            "stop_loss_price": ladder.stop,
            "leverage": 2,
            "break_even": True,
            "take_profit": [
                {"price": ladder.tp1, "quantity": "0.01"},
                {"price": ladder.tp2, "quantity": "0.01", "order_type": "market"},
            ],
            "exchange_account_id": trader.account_id,
        }
    )
    assert created.status_code == 201, created.text
    assert created.json()["exchange"] == venue.id
    return await trader.wait(
        created.json()["id"],
        lambda b: (
            b["status"] == "active"
            and len(live_orders(b, "stop_loss")) == 1
            and len(live_orders(b, "take_profit")) == 2
        ),
    )


async def check_resting_orders(
    sim: SimClient, trader: Trader, venue: VenueCase, ladder: Ladder
) -> None:
    """On the exchange: one reduce-only market stop for the whole position, a reduce-only
    limit target and a reduce-only market take-profit, each under a client id in Testudo's
    format for the venue."""
    orders = await venue_orders(sim, trader, venue)
    close = "sell" if ladder.side == "buy" else "buy"
    by_kind = {(o["trigger_kind"], o["type"]): o for o in orders}
    assert len(orders) == 3 and all(o["reduce_only"] and o["side"] == close.upper() for o in orders)
    stop = by_kind[("sl", "MARKET")]
    assert (stop["qty"], stop["trigger_price"]) == ("0.02", ladder.stop)
    assert by_kind[(None, "LIMIT")]["price"] == ladder.tp1
    assert by_kind[("tp", "MARKET")]["trigger_price"] == ladder.tp2
    ids = [o["client_id"] for o in orders]
    assert all(trades_of(venue).is_ours(i) for i in ids), ids
    await trades_of(venue).checks.resting(venue.client(sim, trader.account), orders)


async def check_break_even(
    sim: SimClient, trader: Trader, venue: VenueCase, ladder: Ladder, group_id: str
) -> dict[str, Any]:
    """The first target filled: the stop moved to break-even (+/- 0.1 %) for the rest, on
    the group and on the exchange; the market target still rests."""
    body = await trader.wait(
        group_id,
        lambda b: (
            b["break_even"]["triggered"]
            and [o["quantity"] for o in live_orders(b, "stop_loss")] == ["0.01"]
        ),
    )
    entry = D(body["average_entry_price"])
    offset = D("1.001") if ladder.side == "buy" else D("0.999")
    break_even = D(live_orders(body, "stop_loss")[0]["trigger_price"])
    assert break_even == (entry * offset).quantize(D("0.1"))
    assert [o["trigger_price"] for o in live_orders(body, "take_profit")] == [ladder.tp2]
    stops = [o for o in await venue_orders(sim, trader, venue) if o["trigger_kind"] == "sl"]
    assert [(s["qty"], D(s["trigger_price"])) for s in stops] == [("0.01", break_even)]
    assert D(body["position_quantity"]) == D("0.01")
    await trades_of(venue).checks.at_break_even(venue.client(sim, trader.account))
    return body


@every_venue
@pytest.mark.parametrize("ladder", [LONG, SHORT], ids=["long", "short"])
async def test_a_ladder_to_the_cent(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    venue: VenueCase,
    ladder: Ladder,
) -> None:
    """Entry, stop, two targets; the first target fills, the stop moves to break-even for
    the rest, then the stop fills: the wallet moved by the group's realised P&L less the
    fees the venue charged, to the cent."""
    trader = await linked(xhttp, sim, clock, venue)
    client = venue.client(sim, trader.account)
    before = await trades_of(venue).wallet(client)
    body = await open_ladder(trader, venue, ladder)
    group_id = body["id"]
    await check_resting_orders(sim, trader, venue, ladder)

    await sim.set_price("BTC_USDT", ladder.through_tp1, freeze=True)
    body = await check_break_even(sim, trader, venue, ladder, group_id)
    entry = D(body["average_entry_price"])

    await sim.set_price("BTC_USDT", ladder.through_break_even, freeze=True)
    body = await trader.wait(group_id, lambda b: b["status"] == "stopped_out")
    assert await venue_orders(sim, trader, venue) == []  # the trigger take-profit went too
    exits = [o for o in body["orders"] if o["role"] != "entry" and D(o["filled_quantity"]) > 0]
    direction = D(1) if ladder.side == "buy" else D(-1)
    expected = sum(
        ((D(o["average_price"]) - entry) * D(o["filled_quantity"]) * direction for o in exits),
        D(0),
    )
    assert sum((D(o["filled_quantity"]) for o in exits), D(0)) == D("0.02")
    assert D(body["realized_pnl"]) == expected
    fees = await trades_of(venue).fees(client, body)
    moved = await trades_of(venue).wallet(client) - before
    assert moved.quantize(CENT) == (expected - fees).quantize(CENT)
    assert moved == expected - fees  # exactly, in fact: the venue's P&L and fees to 1e-8
    await trades_of(venue).checks.stopped_out(client)
    await check_events(exchange_service, trader)


async def check_events(service: Running, trader: Trader) -> None:
    """The group's changes and the fills' balance changes reached the user's streams."""
    user = trader.session.user["id"]
    rows = await service.system.db.fetch_all(
        "SELECT stream, payload FROM events WHERE stream IN (%s, %s) ORDER BY seq",
        (f"order.{user}", f"balance.{user}"),
    )
    kinds = {(r["stream"].split(".")[0], r["payload"]["e"]) for r in rows}
    assert {("order", "trade_created"), ("order", "group_status_changed")} <= kinds
    assert ("balance", "balance_update") in kinds


@every_venue
async def test_an_exposure_is_measured_until_the_stop_rests(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    """The venue rate-limits the first stop (its own code): the group stays unprotected,
    retries, and the exposure lands in ``testudo_time_to_protection_seconds{venue=...}``."""
    trader = await linked(xhttp, sim, clock, venue)
    measured = await protections_measured(xhttp, venue)
    # where the entry goes to the stop's endpoint, the fault lets it through
    skip = int(trades_of(venue).entry_endpoint == venue.stop_endpoint)
    await sim.set_fault(
        venue.prefix, "rate_limit", endpoint=venue.stop_endpoint, skip=skip, count=1
    )
    body = await open_ladder(trader, venue, LONG)
    assert "order_retry" in [e["event_type"] for e in body["events"]]
    assert body["protection"]["state"] == "protected"
    assert await protections_measured(xhttp, venue) == measured + 1


@every_venue
async def test_stop_and_targets_are_updated_then_the_group_is_closed(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader = await linked(xhttp, sim, clock, venue)
    body = await open_ladder(trader, venue, LONG)
    group_id, headers = body["id"], trader.session.bearer()
    moved = await xhttp.put(
        f"/api/v1/trades/{group_id}/sl", json={"price": "49500"}, headers=headers
    )
    assert moved.status_code == 200, moved.text
    await trader.wait(
        group_id, lambda b: [o["trigger_price"] for o in live_orders(b, "stop_loss")] == ["49500"]
    )
    targets = await xhttp.put(
        f"/api/v1/trades/{group_id}/tp",
        headers=headers,
        json={"take_profit": [{"price": "51000", "quantity": "0.01"}, {"price": "52500"}]},
    )
    assert targets.status_code == 200, targets.text
    await trader.wait(
        group_id,
        lambda b: sorted(o["price"] for o in live_orders(b, "take_profit")) == ["51000", "52500"],
    )
    on_exchange = await venue_orders(sim, trader, venue)
    assert sorted((o["trigger_price"] or o["price"], o["qty"]) for o in on_exchange) == [
        ("49500", "0.02"),
        ("51000", "0.01"),
        ("52500", "0.01"),
    ]
    closed = await xhttp.delete(f"/api/v1/trades/{group_id}", headers=headers)
    assert closed.status_code == 200, closed.text
    body = await trader.wait(group_id, lambda b: b["status"] == "closed")
    close = [o for o in body["orders"] if o["role"] == "close"]
    assert len(close) == 1 and close[0]["filled_quantity"] == "0.02"
    assert await venue_orders(sim, trader, venue) == []
    assert await call(venue.client(sim, trader.account).fetch_positions) == []


async def place_ghosts(client: Any, venue: VenueCase) -> tuple[str, str, str]:
    """A position of the trader's own, Testudo's entry and stop of a group no one owns, and
    a limit of the trader's own: (ghost entry id, ghost stop id, the trader's id)."""
    ghosts = trades_of(venue).ghosts()
    amount = venue.amount("0.01")  # OKX: 1 contract
    await call(client.create_order, venue.symbol, "market", "buy", amount)
    orders: list[tuple[str, str, int | None, dict[str, Any]]] = [
        ("limit", "buy", 41000, {"clientOrderId": ghosts.entry}),
        ("market", "sell", None, {"clientOrderId": ghosts.stop, ghosts.trigger: 40000}),
        ("limit", "buy", 41100, {"clientOrderId": ghosts.mine}),
    ]
    for kind, side, price, params in orders:
        await call(
            client.create_order,
            venue.symbol,
            kind,
            side,
            amount,
            price,
            {**params, **ghosts.params},
        )
    return ghosts.entry, ghosts.stop, ghosts.mine


@every_venue
async def test_a_pending_group_is_cancelled_and_ghosts_cleaned_up(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    """Testudo's ids left by a group no one owns are cancelled, a stop included; the
    trader's own ids and the live group's entry are left alone."""
    trader = await linked(xhttp, sim, clock, venue)
    kept = await trader.post(PENDING)
    cancelled = await trader.post({**PENDING, "entry_price": "44900", "stop_loss_price": "43900"})
    assert kept.status_code == cancelled.status_code == 201
    client = venue.client(sim, trader.account)
    ghost_entry, ghost_stop, mine = await place_ghosts(client, venue)
    gone = await xhttp.delete(
        f"/api/v1/trades/{cancelled.json()['id']}", headers=trader.session.bearer()
    )
    assert gone.status_code == 200
    await trader.wait(cancelled.json()["id"], lambda b: b["status"] == "cancelled")
    response = await xhttp.post("/api/v1/trades/cleanup", headers=trader.session.bearer())
    assert response.status_code == 200
    assert sorted(o["client_order_id"] for o in response.json()["cancelled_orders"]) == sorted(
        [ghost_entry, ghost_stop]
    )
    left = sorted(str(o["client_id"]) for o in await venue_orders(sim, trader, venue))
    assert left == sorted([kept.json()["orders"][0]["client_order_id"], mine])
    await trades_of(venue).checks.cleaned_up(client)


@every_venue
async def test_a_timed_out_entry_is_found_by_its_client_id_not_sent_twice(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    trader = await linked(xhttp, sim, clock, venue)
    await sim.set_fault(
        venue.prefix,
        "timeout",
        endpoint=trades_of(venue).entry_endpoint,
        timeout_ms=4000,
        apply=True,
    )
    created = await trader.post(PENDING)
    await sim.clear_faults()
    assert created.status_code == 201, created.text
    body = await trader.wait(
        created.json()["id"],
        lambda b: b["status"] == "pending" and b["orders"][0]["exchange_order_id"] is not None,
    )
    entries = await venue_orders(sim, trader, venue)
    assert [str(o["client_id"]) for o in entries] == [body["orders"][0]["client_order_id"]]
    assert body["orders"][0]["exchange_order_id"] != body["orders"][0]["client_order_id"]


@every_venue
async def test_an_entry_filled_while_testudo_was_down_is_protected_at_start(
    db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock, venue: VenueCase
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
            trader = await venue.link(http, sim, clock)
            created = await trader.post(
                {
                    "symbol": "BTC_USDT",
                    "side": "sell",
                    "entry_price": "50500",
                    "quantity": "0.02",
                    "stop_loss_price": "51500",
                    "take_profit": [{"price": "48000"}],
                    "leverage": 2,
                }
            )
            assert created.status_code == 201, created.text
        first.shutdown()
    await sim.set_price("BTC_USDT", "50600", freeze=True)  # the short entry fills meanwhile
    async with trio.open_nursery() as nursery:
        second: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=second.http_url, timeout=30) as http:
            trader.http = http
            body = await trader.wait(
                created.json()["id"],
                lambda b: (
                    b["status"] == "active"
                    and len(live_orders(b, "stop_loss")) == 1
                    and len(live_orders(b, "take_profit")) == 1
                ),
            )
            assert [o["role"] for o in body["orders"]].count("entry") == 1
            on_exchange = await venue_orders(sim, trader, venue)
            assert sorted((o["side"], o["trigger_kind"] or "-") for o in on_exchange) == [
                ("BUY", "-"),
                ("BUY", "sl"),
            ]
        second.shutdown()
