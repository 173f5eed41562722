"""The request-weight governor: polling of every account of a venue stays in one budget."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import attrs
import httpx
import pytest
import trio
import trio.testing
from hypothesis import given, settings, strategies as st

from tests.auth.helpers import Wallet, sign_in
from tests.exchanges.test_agent_wallet import approved_account
from tests.support import make_settings, running_service
from testudo.clock import ManualClock
from testudo.exchanges.governor import Governor, WeightWindow
from testudo.sim.client import SimClient


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=100),
    requests=st.lists(
        st.tuples(st.floats(min_value=0, max_value=5), st.integers(min_value=1, max_value=30)),
        max_size=60,
    ),
)
def test_granted_weight_never_exceeds_the_window(
    capacity: int, requests: list[tuple[float, int]]
) -> None:
    """Whatever the pattern, weight granted within any window is at most the capacity
    (a single request heavier than the capacity still goes, alone)."""
    window = WeightWindow(capacity, window=10.0)
    now = 0.0
    granted: list[tuple[float, int]] = []
    for gap, weight in requests:
        now += gap
        if window.take(now, weight) == 0.0:
            granted.append((now, weight))
    for at, _ in granted:
        inside = [w for t, w in granted if at - 10.0 < t <= at]
        assert sum(inside) <= capacity or len(inside) == 1


def test_the_wait_is_until_enough_weight_expires() -> None:
    window = WeightWindow(10, window=60.0)
    assert window.take(0.0, 6) == 0.0
    assert window.take(5.0, 4) == 0.0
    assert window.take(6.0, 3) == pytest.approx(54.0)  # the 6 of t=0 must expire
    assert window.take(60.0, 3) == 0.0
    assert window.used(60.0) == 7


async def test_acquire_waits_in_turn(autojump_clock: trio.testing.MockClock) -> None:
    governor = Governor({"hyperliquid": 20})
    waits = [await governor.acquire("hyperliquid", 10) for _ in range(4)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(60.0) and waits[3] == pytest.approx(0.0)
    assert await governor.acquire("elsewhere", 10**6) == 0.0  # no budget known: no wait


async def test_hyperliquid_polling_stays_inside_the_budget(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> None:
    """Three accounts each watching a pending group, polled every 0.1 s: without the
    governor that is 3 x 10 x 2 weight per second; with a polling share of 1/12 of
    Hyperliquid's 1200 per minute (100), the venue sees no more than that."""
    settings_ = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_timeout_ms=2000,
        trade_poll_interval=0.1,
        order_recheck_interval=1.0,
        exchange_rate_limit=False,
        poll_budget_share=1 / 12,
    )
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    async with (
        running_service(nursery, settings_, clock) as service,
        httpx.AsyncClient(base_url=service.http_url, timeout=30) as http,
    ):
        for _ in range(3):
            session = await sign_in(http, Wallet(), clock.now())
            owner = await sim.create_account("10000")
            account_id = await approved_account(http, session, owner)
            created = await http.post(
                "/api/v1/trades",
                headers=session.bearer(),
                json={
                    "symbol": "BTC_USDT",
                    "side": "buy",
                    "entry_price": "45000",
                    "quantity": "0.01",
                    "stop_loss_price": "44000",
                    "exchange_account_id": account_id,
                    "leverage": 2,
                },
            )
            assert created.status_code == 201, created.text
        await sim.clear_requests()
        began = trio.current_time()
        await trio.sleep(6)
        spent = service.system.accounts.governor.used("hyperliquid")
        elapsed = trio.current_time() - began
    logged = await sim.requests("hyperliquid", key="/info:*")
    polls = [
        r for r in logged if r["key"] in ("/info:clearinghouseState", "/info:frontendOpenOrders")
    ]
    weight = sum(2 if r["key"] == "/info:clearinghouseState" else 20 for r in polls)
    # The governor's window is a minute: in these seconds it grants at most its capacity,
    # where unthrottled polling would have spent 3 accounts x 10 polls/s x 2 x elapsed.
    assert weight <= 100 + 22  # the capacity, plus one request in flight when we looked
    assert spent >= weight  # trades' own requests are charged to the same budget
    assert 3 * 10 * 2 * elapsed > 3 * weight  # the budget, not the interval, bounded it
    assert D(weight) > 0
