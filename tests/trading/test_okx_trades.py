"""Trade groups on an OKX account, end to end: the whole service, real ``ccxt.okx`` (with the
passphrase), the simulator's OKX v5 dialect. A long and a short ladder to the cent, with every
quantity checked in base units (Testudo, the engine) and in contracts (what OKX holds); SL/TP
updates, cancel, cleanup, crash recovery; the orders on the exchange checked at every step."""

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
from tests.conftest import make_settings
from tests.protection.support import link_okx
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import Trader, live_orders

BTC = "BTC/USDT:USDT"
CENT = D("0.01")
# Orders of a group that no longer exists, in Testudo's OKX format, and the user's own.
GHOST_ENTRY = "tdo0000000000000000000Ghoste1"
GHOST_STOP = "tdo0000000000000000000Ghosts1"


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


async def call(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(functools.partial(fn, *args))


CONTRACT = D("0.01")  # BTC-USDT-SWAP: ctVal, BTC per contract
CONDITIONAL = {"ordType": "conditional"}


async def exchange_orders(sim: SimClient, trader: Trader) -> list[dict[str, Any]]:
    """The account's open orders as the engine holds them (quantities in base units)."""
    state = await sim.state(trader.account)
    return list(state["venues"]["okx"]["open_orders"])


async def contracts_on_okx(client: Any) -> list[tuple[str, float, str]]:
    """What OKX lists, in contracts: (kind, amount, client id) of every open order."""
    regular = await call(client.fetch_open_orders, BTC)
    algos = await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL)
    out = [("order", o["amount"], o["clientOrderId"]) for o in regular]
    out += [("algo", o["amount"], o["info"]["algoClOrdId"]) for o in algos]
    return sorted(out)


async def wallet(client: Any) -> D:
    """The USDT cash balance (deposit + realised P&L - fees), as OKX reports it."""
    balance = await call(client.fetch_balance)
    return D(balance["info"]["data"][0]["details"][0]["cashBal"])


async def account_fees(client: Any) -> D:
    """Every fee OKX charged the (fresh) account: its fills' ``fee``, negative when charged.
    A fired stop's fill carries no clOrdId (its order came from the algo), so the fills are
    not filtered by the group's ids; the account traded nothing else."""
    trades = await call(client.fetch_my_trades, BTC)
    assert trades
    return -sum((D(t["info"]["fee"]) for t in trades), D(0))


async def protections_measured(http: httpx.AsyncClient) -> float:
    """``testudo_time_to_protection_seconds_count{venue="okx"}`` (0 before any)."""
    text = (await http.get("/metrics")).text
    prefix = 'testudo_time_to_protection_seconds_count{venue="okx"} '
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0][len(prefix) :]) if lines else 0.0


async def open_ladder(trader: Trader, ladder: Ladder) -> dict[str, Any]:
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
    assert created.json()["exchange"] == "okx"
    return await trader.wait(
        created.json()["id"],
        lambda b: (
            b["status"] == "active"
            and len(live_orders(b, "stop_loss")) == 1
            and len(live_orders(b, "take_profit")) == 2
        ),
    )


async def check_resting_orders(sim: SimClient, trader: Trader, ladder: Ladder) -> None:
    """On the exchange: one reduce-only market stop for the whole position (0.02 BTC, 2
    contracts), a reduce-only limit target and a reduce-only market take-profit (0.01 BTC,
    1 contract each), each under its OKX client id."""
    orders = await exchange_orders(sim, trader)
    close = "sell" if ladder.side == "buy" else "buy"
    by_kind = {(o["trigger_kind"], o["type"]): o for o in orders}
    assert len(orders) == 3 and all(o["reduce_only"] and o["side"] == close.upper() for o in orders)
    stop = by_kind[("sl", "MARKET")]
    assert (stop["qty"], stop["trigger_price"]) == ("0.02", ladder.stop)
    assert by_kind[(None, "LIMIT")]["price"] == ladder.tp1
    assert by_kind[("tp", "MARKET")]["trigger_price"] == ladder.tp2
    assert all(o["client_id"].startswith("tdo") and o["client_id"].isalnum() for o in orders)
    client = sim.okx(trader.account)
    listed = await contracts_on_okx(client)
    assert [(kind, amount) for kind, amount, _ in listed] == [
        ("algo", 1.0),
        ("algo", 2.0),
        ("order", 1.0),
    ]
    assert {cid for _, _, cid in listed} == {o["client_id"] for o in orders}
    (position,) = await call(client.fetch_positions)
    assert (position["contracts"], position["contractSize"]) == (2.0, 0.01)


@pytest.mark.parametrize("ladder", [LONG, SHORT], ids=["long", "short"])
async def test_a_ladder_on_okx_to_the_cent(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    ladder: Ladder,
) -> None:
    """Entry, stop, two targets; the first target fills, the stop moves to break-even for
    the rest, then the stop fills: the wallet moved by the group's realised P&L less the
    fees OKX charged, to the cent."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    client = sim.okx(trader.account)
    before = await wallet(client)
    body = await open_ladder(trader, ladder)
    group_id = body["id"]
    await check_resting_orders(sim, trader, ladder)

    await sim.set_price("BTC_USDT", ladder.through_tp1, freeze=True)
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
    stops = [o for o in await exchange_orders(sim, trader) if o["trigger_kind"] == "sl"]
    assert [(s["qty"], D(s["trigger_price"])) for s in stops] == [("0.01", break_even)]
    algos = await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL)
    moved_stop = [a for a in algos if a["info"]["slTriggerPx"]]
    assert [(a["amount"], a["info"]["slOrdPx"]) for a in moved_stop] == [(1.0, "-1")]
    assert D(body["position_quantity"]) == D("0.01")

    await sim.set_price("BTC_USDT", ladder.through_break_even, freeze=True)
    body = await trader.wait(group_id, lambda b: b["status"] == "stopped_out")
    assert await exchange_orders(sim, trader) == []  # the trigger take-profit went too
    exits = [o for o in body["orders"] if o["role"] != "entry" and D(o["filled_quantity"]) > 0]
    direction = D(1) if ladder.side == "buy" else D(-1)
    expected = sum(
        ((D(o["average_price"]) - entry) * D(o["filled_quantity"]) * direction for o in exits),
        D(0),
    )
    assert sum((D(o["filled_quantity"]) for o in exits), D(0)) == D("0.02")
    assert D(body["realized_pnl"]) == expected
    fees = await account_fees(client)
    moved = await wallet(client) - before
    assert moved.quantize(CENT) == (expected - fees).quantize(CENT)
    assert moved == expected - fees  # exactly, in fact: OKX's P&L and fees to 1e-8
    fills = await call(client.fetch_my_trades, BTC)
    assert sum((D(str(t["amount"])) for t in fills), D(0)) * CONTRACT == D("0.04")
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


async def test_an_exposure_is_measured_until_the_stop_rests(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    """OKX rate-limits the first stop (50011): the group stays unprotected, retries, and
    the exposure lands in ``testudo_time_to_protection_seconds{venue="okx"}``."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    measured = await protections_measured(xhttp)
    await sim.set_fault("okx", "rate_limit", endpoint="/api/v5/trade/order-algo", count=1)
    body = await open_ladder(trader, LONG)
    assert "order_retry" in [e["event_type"] for e in body["events"]]
    assert body["protection"]["state"] == "protected"
    assert await protections_measured(xhttp) == measured + 1


async def test_stop_and_targets_are_updated_then_the_group_is_closed(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    body = await open_ladder(trader, LONG)
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
    on_exchange = await exchange_orders(sim, trader)
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
    assert await exchange_orders(sim, trader) == []
    assert await call(sim.okx(trader.account).fetch_positions) == []


async def test_a_pending_group_is_cancelled_and_ghosts_cleaned_up(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    pending = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": "45000",
        "quantity": "0.01",
        "stop_loss_price": "44000",
        "take_profit": [{"price": "47000"}],
        "leverage": 2,
    }
    kept = await trader.post(pending)
    cancelled = await trader.post({**pending, "entry_price": "44900", "stop_loss_price": "43900"})
    assert kept.status_code == cancelled.status_code == 201
    client = sim.okx(trader.account)
    await call(client.create_order, BTC, "market", "buy", 1)  # 1 contract, 0.01 BTC
    ghosts = [
        ("limit", "buy", 41000, {"clientOrderId": GHOST_ENTRY}),
        ("market", "sell", None, {"clientOrderId": GHOST_STOP, "stopLossPrice": 40000}),
        ("limit", "buy", 41100, {"clientOrderId": "mine1"}),
    ]
    for kind, side, price, params in ghosts:
        await call(client.create_order, BTC, kind, side, 1, price, params)
    gone = await xhttp.delete(
        f"/api/v1/trades/{cancelled.json()['id']}", headers=trader.session.bearer()
    )
    assert gone.status_code == 200
    await trader.wait(cancelled.json()["id"], lambda b: b["status"] == "cancelled")
    response = await xhttp.post("/api/v1/trades/cleanup", headers=trader.session.bearer())
    assert response.status_code == 200
    assert sorted(o["client_order_id"] for o in response.json()["cancelled_orders"]) == sorted(
        [GHOST_ENTRY, GHOST_STOP]
    )
    left = sorted(o["client_id"] for o in await exchange_orders(sim, trader))
    assert left == sorted([kept.json()["orders"][0]["client_order_id"], "mine1"])
    assert await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL) == []


async def test_a_timed_out_entry_is_found_by_client_id_not_sent_twice(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await link_okx(xhttp, sim, clock)
    await sim.set_fault(
        "okx", "timeout", endpoint="/api/v5/trade/batch-orders", timeout_ms=4000, apply=True
    )
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": "buy",
            "entry_price": "45000",
            "quantity": "0.01",
            "stop_loss_price": "44000",
            "take_profit": [{"price": "47000"}],
            "leverage": 2,
        }
    )
    await sim.clear_faults()
    assert created.status_code == 201, created.text
    body = await trader.wait(
        created.json()["id"],
        lambda b: b["status"] == "pending" and b["orders"][0]["exchange_order_id"] is not None,
    )
    entries = await exchange_orders(sim, trader)
    assert [o["client_id"] for o in entries] == [body["orders"][0]["client_order_id"]]


async def test_an_entry_filled_while_testudo_was_down_is_protected_at_start(
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
            trader = await link_okx(http, sim, clock)
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
            on_exchange = await exchange_orders(sim, trader)
            assert sorted((o["side"], o["trigger_kind"] or "-") for o in on_exchange) == [
                ("BUY", "-"),
                ("BUY", "sl"),
            ]
        second.shutdown()
