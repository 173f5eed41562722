"""Decision Loop evaluations per second, as a pure function, against in-run baselines.

Baselines measured in the same run, on the same inputs:

* ``sizing formula``: the four-constraint size (docs/risk.md, "Sizing") written as a bare Decimal
  expression (risk budget / stop distance, cap / distance, cap, margin capacity, min, floor to
  the lot) — the arithmetic floor of any sizing code;
* ``input construction``: building the attrs inputs of one evaluation (request with two
  targets, account state, market) — what a caller pays before it even asks.

The Decision Loop itself runs every check (14), rounds prices and quantities, splits the
targets, builds the warnings and the attrs result; ``to_json`` adds the wire form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest

from testudo.risk.config import RiskConfig
from testudo.risk.decision import AccountState, Market, TargetRequest, TradeRequest, evaluate

ROUNDS = 20_000
D = Decimal

CONFIG = RiskConfig(max_risk_amount=D(150), max_position_size=D(1))
MARKET = Market("BTC/USDT", D("0.1"), D("0.001"), D("0.001"), D(5), D(125))
ACCOUNT = AccountState(D(10_000), D(8_000), 2, D(-120), D(10_120))
APPROVED = TradeRequest(
    "buy",
    D("50000.05"),
    D(49_000),
    (TargetRequest(D(51_500)), TargetRequest(D(53_000))),
    None,
    D(5),
)
REJECTED = TradeRequest("buy", D(50_000), D(49_900), (TargetRequest(D(50_050)),), D(3), D(20))


def best_of(runs: int, rounds: int, work: Callable[[], Any]) -> float:
    """The fastest of ``runs`` timings of ``rounds`` calls of ``work``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, time.perf_counter() - began)
    return best


def bare_sizing() -> Decimal:
    entry, stop, lot = D("50000.05"), D(49_000), D("0.001")
    distance = abs(entry - stop)
    sizes = (
        D(10_000) * D(2) / 100 / distance,
        D(150) / distance,
        D(1),
        D(8_000) * D(5) / entry,
    )
    return (min(sizes) / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def build_inputs() -> tuple[TradeRequest, AccountState, Market]:
    request = TradeRequest(
        "buy",
        D("50000.05"),
        D(49_000),
        (TargetRequest(D(51_500)), TargetRequest(D(53_000))),
        None,
        D(5),
    )
    account = AccountState(D(10_000), D(8_000), 2, D(-120), D(10_120))
    market = Market("BTC/USDT", D("0.1"), D("0.001"), D("0.001"), D(5), D(125))
    return request, account, market


@pytest.mark.bench
def test_decision_loop_throughput() -> None:
    from .harness import report

    assert evaluate(CONFIG, APPROVED, ACCOUNT, MARKET).approved
    assert not evaluate(CONFIG, REJECTED, ACCOUNT, MARKET).approved
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("sizing formula (bare Decimal)", bare_sizing),
        ("input construction (attrs)", build_inputs),
        ("evaluate, approved", lambda: evaluate(CONFIG, APPROVED, ACCOUNT, MARKET)),
        ("evaluate, rejected (6 failures)", lambda: evaluate(CONFIG, REJECTED, ACCOUNT, MARKET)),
        (
            "evaluate + to_json, approved",
            lambda: evaluate(CONFIG, APPROVED, ACCOUNT, MARKET).to_json(),
        ),
    ]
    for _, work in cases:  # warm-up
        best_of(1, 2000, work)
    timings = {name: best_of(3, ROUNDS, work) for name, work in cases}
    bare = timings["sizing formula (bare Decimal)"]
    build = timings["input construction (attrs)"]
    rows = [
        {
            "path": name,
            "us_per_call": round(elapsed / ROUNDS * 1e6, 2),
            "calls_per_s": round(ROUNDS / elapsed),
            "ratio_to_formula": round(elapsed / bare, 1),
            "ratio_to_inputs": round(elapsed / build, 1),
        }
        for name, elapsed in timings.items()
    ]
    report(
        "decision",
        rows,
        ["path", "us_per_call", "calls_per_s", "ratio_to_formula", "ratio_to_inputs"],
    )
    assert all(elapsed > 0 for elapsed in timings.values())
