"""Bybit history through ccxt: seeded executions, 7-day windows, cursor pages, partial fills
and the control API's view of the ``bybit`` venue."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import attrs
import ccxt
import httpx
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.dialects.bybit.ids import exec_uuid, order_uuid
from testudo.sim.model import OrderKind, OrderRequest, Side
from testudo.sim.simulator import SimConfig

from .support import call

BTC = "BTC/USDT:USDT"
DAY_MS = 86_400_000


@attrs.define
class ShiftedClock:
    """The wall clock moved by ``offset_ms`` (a test jumps ahead in time with it)."""

    offset_ms: int = 0

    def now_ms(self) -> int:
        """Wall-clock milliseconds plus the offset."""
        return time.time_ns() // 1_000_000 + self.offset_ms


@pytest.fixture
def clock() -> ShiftedClock:
    """The simulator's clock, at the wall clock until a test moves it."""
    return ShiftedClock()


@pytest.fixture
def sim_config(clock: ShiftedClock) -> SimConfig:
    """The default test simulator on a clock tests can move."""
    return SimConfig(host="127.0.0.1", port=0, seed=0, walk_interval_s=None, clock=clock)


@pytest.fixture
def bybit(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.bybit`` for ``account``, pointed at the simulator."""
    return sim.bybit(account)


async def test_seeded_executions_follow_the_seven_day_windows(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    assert await sim.generate_history(account, venue="bybit", fills=3000, days=60, seed=3) == 3000
    await call(bybit.load_markets)
    now = bybit.milliseconds()
    recent = await call(bybit.fetch_my_trades, BTC, None, 100)
    engine_account = sim.simulator.engines["bybit"].account(account.account_id)
    newest = [f for f in engine_account.fills.all() if f.symbol == "BTC_USDT"][-100:]
    assert [t["id"] for t in recent] == [exec_uuid(f.id) for f in newest]
    assert all(now - t["timestamp"] <= 7 * DAY_MS for t in recent)
    since = now - 40 * DAY_MS
    window = await call(bybit.fetch_my_trades, BTC, since, 100)
    assert window and all(since <= t["timestamp"] <= since + 7 * DAY_MS for t in window)
    until = now - 30 * DAY_MS
    before = await call(bybit.fetch_my_trades, BTC, None, 100, {"until": until})
    assert before and all(until - 7 * DAY_MS <= t["timestamp"] <= until for t in before)
    with pytest.raises(ccxt.BadRequest, match="cannot exceed 7 days"):
        await call(bybit.fetch_my_trades, BTC, since, None, {"until": now})
    assert engine_account.wallet_balance == D("10000")


async def test_cursor_pages_cover_a_window_exactly_once(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    await sim.generate_history(account, venue="bybit", fills=4000, days=30, seed=5)
    await call(bybit.load_markets)
    since = bybit.milliseconds() - 7 * DAY_MS
    collected: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    pages = 0
    while True:
        page = await call(bybit.fetch_my_trades, BTC, since, 100, params)
        pages += 1
        collected.extend(page)
        cursor = next(
            (t["info"]["nextPageCursor"] for t in page if "nextPageCursor" in t["info"]), None
        )
        if not cursor:
            break
        params = {"cursor": cursor}
    engine_account = sim.simulator.engines["bybit"].account(account.account_id)
    expected = [
        f
        for f in engine_account.fills.all()
        if f.symbol == "BTC_USDT" and since <= f.time_ms <= since + 7 * DAY_MS
    ]
    assert pages > 2 and len(collected) == len(expected)
    assert {t["id"] for t in collected} == {exec_uuid(f.id) for f in expected}
    assert sum(D(t["info"]["execFee"]) for t in collected) == sum(f.fee for f in expected)
    paginated = await call(
        bybit.fetch_my_trades, BTC, since, None, {"paginate": True, "paginationCalls": 100}
    )
    assert {t["id"] for t in paginated} == {t["id"] for t in collected}


async def test_order_history_window_and_short_lived_cancellations(
    sim: SimClient, bybit: Any
) -> None:
    filled = await call(bybit.create_order, BTC, "market", "buy", 0.01)
    resting = await call(bybit.create_order, BTC, "limit", "buy", 0.01, 40000)
    await call(bybit.cancel_order, resting["id"], BTC)
    everything = await call(bybit.fetch_canceled_and_closed_orders, BTC)
    assert [o["id"] for o in everything] == [filled["id"], resting["id"]]
    assert [o["status"] for o in await call(bybit.fetch_closed_orders, BTC)] == ["closed"]
    old = await call(
        bybit.fetch_canceled_and_closed_orders, BTC, bybit.milliseconds() - 20 * DAY_MS
    )
    assert old == []


async def test_partial_fill_of_a_resting_order(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    order = await call(
        bybit.create_order, BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "part-1"}
    )
    result = await sim.fill_order(account, "bybit", order_id=order["id"], quantity="0.004")
    assert (result["status"], result["remaining"], result["venue"]) == (
        "PARTIALLY_FILLED",
        "0.006",
        "bybit",
    )
    opened = await call(bybit.fetch_open_order, order["id"], BTC)
    assert (opened["status"], opened["filled"], opened["remaining"]) == ("open", 0.004, 0.006)
    assert (opened["average"], opened["info"]["orderStatus"]) == (49000.0, "PartiallyFilled")
    (trade,) = await call(bybit.fetch_my_trades, BTC)
    assert (trade["takerOrMaker"], trade["order"], trade["fee"]["rate"]) == (
        "maker",
        order["id"],
        0.0002,
    )
    await sim.fill_order(account, "bybit", client_order_id="part-1", quantity="0.006")
    done = await call(bybit.fetch_closed_order, order["id"], BTC)
    assert (done["status"], done["filled"]) == ("closed", 0.01)
    with pytest.raises(httpx.HTTPStatusError):
        await sim.fill_order(account, "bybit", order_id=order_uuid(999), quantity="0.001")


async def test_control_state_lists_the_bybit_venue(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    await call(bybit.create_order, BTC, "market", "buy", 0.02)
    state = await sim.state(account)
    venue = state["venues"]["bybit"]
    assert venue["settle"] == "USDT"
    assert [p["size"] for p in venue["positions"]] == ["0.02"]
    assert venue["fills_total"] == 1
    fee = D("50000.1") * D("0.02") * D("0.00055")
    assert D(venue["balance"]["wallet"]) == D("10000") - fee
    prices = await sim.prices()
    assert prices["BTC_USDT"]["marks"]["bybit"] == "50000"


async def test_cancelled_orders_leave_the_history_after_a_day(
    sim: SimClient, bybit: Any, clock: ShiftedClock
) -> None:
    filled = await call(bybit.create_order, BTC, "market", "buy", 0.01)
    resting = await call(bybit.create_order, BTC, "limit", "buy", 0.01, 40000)
    await call(bybit.cancel_order, resting["id"], BTC)
    clock.offset_ms = DAY_MS + 60_000
    bybit.options["timeDifference"] = -clock.offset_ms
    kept = await call(bybit.fetch_canceled_and_closed_orders, BTC)
    assert [o["id"] for o in kept] == [filled["id"]]
    assert (await call(bybit.fetch_open_order, resting["id"], BTC))["status"] == "canceled"


async def test_realtime_keeps_the_500_latest_closed_orders(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    engine = sim.simulator.engines["bybit"]
    market = OrderRequest(symbol="BTC_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D("0.001"))
    first = engine.place(account.account_id, market).order
    for _ in range(500):
        engine.place(account.account_id, market)
    with pytest.raises(ccxt.OrderNotFound):
        await call(bybit.fetch_open_order, order_uuid(first.id), BTC)
    older = await call(bybit.fetch_closed_order, order_uuid(first.id), BTC)
    assert (older["status"], older["filled"]) == ("closed", 0.001)


async def test_only_realtime_lists_need_a_symbol_or_settle_coin(bybit: Any) -> None:
    order = await call(bybit.create_order, BTC, "market", "buy", 0.01)
    (closed,) = await call(bybit.fetch_closed_orders)
    assert (closed["id"], closed["symbol"]) == (order["id"], BTC)
    assert await call(bybit.fetch_open_orders) == []
    assert len(await call(bybit.fetch_my_trades)) == 1
    with pytest.raises(ccxt.BadRequest, match="symbol or settleCoin"):
        await call(bybit.privateGetV5OrderRealtime, {"category": "linear"})
    with pytest.raises(ccxt.BadRequest, match="category invalid"):
        await call(bybit.privateGetV5OrderRealtime, {"category": "spot", "symbol": "BTCUSDT"})
