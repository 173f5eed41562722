"""OKX history windows and paging on a clock the test moves: ``fills`` (3 days) against
``fills-history`` (3 months) paged by ``billId``, order history (7 days / 3 months) and the
2-hour life of canceled orders that never filled."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.simulator import SimConfig

from .support import call

BTC = "BTC/USDT:USDT"
DAY_MS = 86_400_000


@pytest.fixture
def sim_config() -> SimConfig:
    """A simulator on a manual clock that starts at the real time (ccxt signs real time)."""
    clock = ManualClock(time.time_ns() // 1_000_000)
    return SimConfig(host="127.0.0.1", port=0, seed=0, walk_interval_s=None, clock=clock)


def _advance(sim: SimClient, okx: Any, ms: int) -> None:
    """Move the simulator's clock; ccxt's timestamps follow (``timeDifference``)."""
    clock = sim.simulator.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ms)
    okx.options["timeDifference"] = okx.options["timeDifference"] - ms


async def _pages(fetch: Any, params: dict[str, str]) -> list[str]:
    """Every bill id, walking ``after`` cursors 100 at a time."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "100", **({"after": cursor} if cursor else {})}
        page = (await call(fetch, query))["data"]
        assert len(page) <= 100
        ids.extend(row["billId"] for row in page)
        if len(page) < 100:
            return ids
        cursor = page[-1]["billId"]


async def test_fills_windows_and_bill_id_paging(
    okx: Any, sim: SimClient, account: SimAccount
) -> None:
    assert await sim.generate_history(account, venue="okx", fills=3000, days=100, seed=3) == 3000
    await call(okx.load_markets)
    fills = sim.simulator.engines["okx"].account(account.account_id).fills.all()
    now = sim.simulator.clock.now_ms()
    recent = [str(f.id) for f in reversed(fills) if f.time_ms >= now - 3 * DAY_MS]
    quarter = [str(f.id) for f in reversed(fills) if f.time_ms >= now - 90 * DAY_MS]
    assert 0 < len(recent) < len(quarter) < len(fills)
    assert await _pages(okx.privateGetTradeFills, {}) == recent
    assert await _pages(okx.privateGetTradeFillsHistory, {"instType": "SWAP"}) == quarter
    assert await _pages(okx.privateGetTradeFillsHistory, {"instType": "SPOT"}) == []
    btc = [
        str(f.id)
        for f in reversed(fills)
        if f.symbol == "BTC_USDT" and f.time_ms >= now - 90 * DAY_MS
    ]
    by_symbol = await _pages(
        okx.privateGetTradeFillsHistory, {"instType": "SWAP", "instId": "BTC-USDT-SWAP"}
    )
    assert by_symbol == btc
    newer = await call(
        okx.privateGetTradeFillsHistory, {"instType": "SWAP", "before": quarter[50], "limit": "10"}
    )
    assert [row["billId"] for row in newer["data"]] == quarter[:10]
    begin, end = now - 30 * DAY_MS, now - 20 * DAY_MS
    window = await call(
        okx.privateGetTradeFillsHistory,
        {"instType": "SWAP", "begin": str(begin), "end": str(end), "limit": "100"},
    )
    expected = [str(f.id) for f in reversed(fills) if begin <= f.time_ms <= end][:100]
    assert [row["billId"] for row in window["data"]] == expected
    row = window["data"][0]
    assert row["tradeId"] != row["billId"] and row["instType"] == "SWAP"
    trades = await call(okx.fetch_my_trades, BTC, None, 100, {"after": btc[99]})
    assert [t["info"]["billId"] for t in trades] == sorted(btc[100:200])
    with pytest.raises(ccxt.BadRequest, match="50014"):
        await call(okx.privateGetTradeFillsHistory, {"instId": "BTC-USDT-SWAP"})


async def test_live_fills_follow_history_and_filter_by_order(
    okx: Any, sim: SimClient, account: SimAccount
) -> None:
    await sim.generate_history(account, venue="okx", fills=50, days=2, seed=1)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    order = await call(okx.create_order, BTC, "limit", "buy", 80, 50000.2)
    (newest, older) = (await call(okx.privateGetTradeFills, {"ordId": order["id"]}))["data"]
    assert (newest["fillPx"], newest["fillSz"], older["fillPx"], older["fillSz"]) == (
        "50000.2",
        "30",
        "50000.1",
        "50",
    )
    assert int(newest["billId"]) > int(older["billId"])
    latest = (await call(okx.privateGetTradeFills, {"limit": "2"}))["data"]
    assert [r["billId"] for r in latest] == [newest["billId"], older["billId"]]


async def test_order_history_windows_and_canceled_orders_that_never_filled(
    okx: Any, sim: SimClient
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    filled = await call(okx.create_order, BTC, "market", "buy", 1)
    resting = await call(
        okx.create_order, BTC, "limit", "buy", 1, 40000, {"clientOrderId": "gone1"}
    )
    await call(okx.cancel_order, resting["id"], BTC)
    history = await call(okx.fetch_closed_orders, BTC)
    assert [o["id"] for o in history] == [filled["id"]]
    assert [o["id"] for o in await call(okx.fetch_canceled_orders, BTC)] == [resting["id"]]
    _advance(sim, okx, 2 * 3_600_000 + 1_000)
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await call(okx.fetch_order, resting["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await call(okx.fetch_order, None, BTC, {"clientOrderId": "gone1"})
    assert await call(okx.fetch_canceled_orders, BTC) == []
    assert (await call(okx.fetch_order, filled["id"], BTC))["status"] == "closed"
    _advance(sim, okx, 7 * DAY_MS)
    assert await call(okx.fetch_closed_orders, BTC) == []
    archive = await call(
        okx.fetch_closed_orders, BTC, None, None, {"method": "privateGetTradeOrdersHistoryArchive"}
    )
    assert [o["id"] for o in archive] == [filled["id"]]
