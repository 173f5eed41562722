"""Price feed, random walk task and fault decisions."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import trio
import trio.testing

from testudo.sim.clock import ManualClock
from testudo.sim.faults import NO_FAULT, FaultError, FaultMode, Faults, rule_from_json
from testudo.sim.instruments import DEFAULT_PRICES
from testudo.sim.model import OrderKind, OrderRequest, Side
from testudo.sim.prices import PriceFeed, UnknownSymbol
from testudo.sim.server import walk_prices
from testudo.sim.simulator import SimConfig, Simulator


def test_walk_is_deterministic_per_seed() -> None:
    a, b, c = (PriceFeed(DEFAULT_PRICES, seed=s) for s in (1, 1, 2))
    for _ in range(50):
        a.step()
        b.step()
        c.step()
    assert [a.price(s) for s in a.symbols] == [b.price(s) for s in b.symbols]
    assert [a.price(s) for s in a.symbols] != [c.price(s) for s in c.symbols]


def test_set_price_freezes_and_resumes() -> None:
    feed = PriceFeed(DEFAULT_PRICES, seed=1)
    feed.set("BTC_USDT", D("49000"), freeze=True)
    assert "BTC_USDT" not in feed.step()
    assert feed.price("BTC_USDT") == D("49000")
    feed.set("BTC_USDT", D("49000"), freeze=False)
    moved = set()
    for _ in range(5):
        moved.update(feed.step())
    assert "BTC_USDT" in moved
    with pytest.raises(UnknownSymbol):
        feed.set("DOGE_USDT", D("1"))
    with pytest.raises(ValueError):
        feed.set("BTC_USDT", D("0"))


async def test_walker_steps_once_per_interval(autojump_clock: trio.testing.MockClock) -> None:
    sim = Simulator(SimConfig(seed=5, clock=ManualClock()))
    with trio.move_on_after(10.5):
        await walk_prices(sim, 1.0)
    assert sim.feed.steps == 10


def test_walk_moves_orders_through_the_engines() -> None:
    sim = Simulator(SimConfig(seed=5, clock=ManualClock()))
    creds = sim.create_account()
    engine = sim.engines["binance"]
    engine.place(
        creds.account_id, OrderRequest("BTC_USDT", Side.BUY, OrderKind.LIMIT, D("0.01"), D("49990"))
    )
    fills = []
    for _ in range(2000):
        fills.extend(sim.step())
        if fills:
            break
    assert fills and fills[0].price == D("49990")


def test_fault_rules_match_exchange_and_endpoint() -> None:
    faults = Faults(seed=1)
    faults.apply(rule_from_json({"exchange": "binanceusdm", "mode": "latency", "latency_ms": 200}))
    faults.apply(
        rule_from_json(
            {
                "exchange": "binanceusdm",
                "endpoint": "/fapi/v1/order",
                "mode": "error",
                "status": 502,
            }
        )
    )
    plan = faults.plan("binanceusdm", ["/fapi/v1/order"], 0)
    assert plan.delay_s == pytest.approx(0.2)
    assert plan.response is not None and plan.response.status == 502
    plan = faults.plan("binanceusdm", ["/fapi/v3/account"], 0)
    assert plan.delay_s == pytest.approx(0.2)
    assert plan.response is None
    assert faults.plan("hyperliquid", ["/info"], 0).delay_s == 0
    faults.apply(
        rule_from_json({"exchange": "binanceusdm", "endpoint": "/fapi/v1/order", "mode": "off"})
    )
    assert [r.mode for r in faults.rules] == [FaultMode.LATENCY]
    faults.apply(rule_from_json({"exchange": "binanceusdm", "mode": "off"}))
    assert faults.rules == ()


def test_error_rate_is_a_seeded_fraction() -> None:
    faults = Faults(seed=3)
    faults.apply(rule_from_json({"exchange": "*", "mode": "error", "error_rate": 0.25}))
    errors = sum(faults.plan("hyperliquid", ["/info"], 0).response is not None for _ in range(2000))
    assert 400 < errors < 600


def test_windowed_rate_limit_reports_retry_after() -> None:
    faults = Faults()
    faults.apply(
        rule_from_json(
            {"exchange": "hyperliquid", "mode": "rate_limit", "limit": 2, "window_ms": 10_000}
        )
    )
    answers = [faults.plan("hyperliquid", ["/info"], t).response for t in (0, 1000, 2000)]
    assert answers[:2] == [None, None]
    assert answers[2] is not None and (answers[2].status, answers[2].retry_after) == (429, 8)
    assert faults.plan("hyperliquid", ["/info"], 10_001).response is None


def test_timeout_and_outage_plans() -> None:
    faults = Faults()
    faults.apply(
        rule_from_json({"exchange": "x", "mode": "timeout", "timeout_ms": 1500, "apply": True})
    )
    plan = faults.plan("x", ["/p"], 0)
    assert (plan.hang_s, plan.apply_first) == (1.5, True)
    faults.apply(rule_from_json({"exchange": "x", "mode": "outage"}))
    plan = faults.plan("x", ["/p"], 0)
    assert plan.hang_s is None and plan.response is not None and plan.response.status == 503


@pytest.mark.parametrize(
    "bad",
    [
        {"mode": "explode"},
        {"mode": "error", "error_rate": 2},
        {"mode": "latency", "latency_ms": -1},
        {"mode": "error", "status": 42},
        {"exchange": "x"},
        {"mode": "error", "latency_ms": "soon"},
    ],
)
def test_invalid_fault_specs(bad: dict[str, object]) -> None:
    with pytest.raises(FaultError):
        rule_from_json(bad)


def test_count_makes_a_rule_lapse() -> None:
    faults = Faults()
    faults.apply(rule_from_json({"exchange": "x", "mode": "outage", "count": 2}))
    answers = [faults.plan("x", ["/p"], 0).response for _ in range(3)]
    assert [a is not None for a in answers] == [True, True, False]
    assert faults.rules == ()


def test_count_spends_only_requests_the_rule_affected() -> None:
    faults = Faults()
    faults.apply(
        rule_from_json({"exchange": "x", "endpoint": "/order", "mode": "latency", "count": 1})
    )
    faults.apply(rule_from_json({"exchange": "x", "mode": "reject", "code": "-4045", "count": 1}))
    assert faults.plan("y", ["/order"], 0) == NO_FAULT  # another exchange: nothing spent
    plan = faults.plan("x", ["/order"], 0)
    assert plan.response is not None and plan.response.mode is FaultMode.REJECT
    assert (plan.response.code, plan.response.status) == ("-4045", 400)
    assert faults.plan("x", ["/order"], 0) == NO_FAULT


def test_reject_needs_a_code() -> None:
    with pytest.raises(FaultError):
        rule_from_json({"exchange": "x", "mode": "reject"})
    with pytest.raises(FaultError):
        rule_from_json({"exchange": "x", "mode": "outage", "count": 0})


def test_skip_lets_the_first_matching_requests_through() -> None:
    faults = Faults()
    faults.apply(rule_from_json({"exchange": "x", "mode": "outage", "skip": 2, "count": 1}))
    answers = [faults.plan("x", ["/p"], 0).response is not None for _ in range(4)]
    assert answers == [False, False, True, False]
    with pytest.raises(FaultError):
        rule_from_json({"exchange": "x", "mode": "outage", "skip": -1})
