"""Each step of the Decision Loop on its own: the order, every check function, the sizing,
the targets and the warnings (``testudo/risk/{order,checks,sizing,targets,advisories}.py``).

``test_decision.py`` checks them together through ``evaluate``; here each function is called
directly with the smallest inputs that decide it.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings, strategies as st

from testudo.risk import advisories, checks
from testudo.risk.model import CheckResult, Market, TargetRequest, TradeRequest
from testudo.risk.order import Order, prepare_order, stop_distance
from testudo.risk.rounding import ceil_to_step, floor_to_step
from testudo.risk.sizing import (
    constraint_sizes,
    effective_leverage,
    leverage_limit,
    size_position,
    sizing_of,
    smallest,
)
from testudo.risk.targets import TargetsOutcome, place_targets, share_out

from .support import BTC, D, account, config, trade

TICK = BTC.tick_size
steps = st.sampled_from([D("0.01"), D("0.1"), D("0.5"), D(1), D("0.001"), D(25)])
amounts = st.decimals(D("0.001"), D("100000"), places=3, allow_nan=False, allow_infinity=False)


def order_of(request: TradeRequest, market: Market = BTC) -> Order:
    return prepare_order(request, market.tick_size)


def outcome(check: CheckResult) -> tuple[bool, str | None, str | None]:
    return check.passed, check.limit, check.actual


# --- rounding and the order ------------------------------------------------------------------


@given(amounts, steps)
def test_floor_and_ceil_to_step_bracket_the_value(value: Decimal, step: Decimal) -> None:
    low, high = floor_to_step(value, step), ceil_to_step(value, step)
    assert low <= value <= high
    assert low % step == 0 and high % step == 0
    assert high - low in (0, step)


def test_prepare_order_rounds_entry_and_stop_and_notes_them() -> None:
    order = order_of(trade("buy", entry="50000.05", stop="49000.07"))
    assert (order.side, order.entry, order.stop) == ("buy", D("50000.0"), D("49000.0"))
    assert order.rounded == ("entry 50000.05 → 50000", "stop 49000.07 → 49000")
    assert order.distance == D(1000) and order.stop_ok and order.problems == ()
    short = order_of(trade("short", entry="50000.05", stop="51000.01", targets=(49_000,)))
    assert (short.side, short.entry, short.stop) == ("sell", D("50000.1"), D("51000.1"))


def test_prepare_order_lists_every_problem() -> None:
    request = TradeRequest(
        side="hold",
        entry_price=D("NaN"),
        stop_price=D(-1),
        targets=(TargetRequest(D(0), D(0), "stop"),),
        quantity=D(0),
        leverage=D("0.5"),
        entry_type="stop",
    )
    order = order_of(request)
    assert not order.entry_ok and not order.stop_valid and not order.targets_valid
    assert not order.quantity_valid and not order.leverage_valid and order.distance is None
    assert len(order.problems) == 9
    assert order.problems[0] == "side must be buy or sell, not 'hold'"


def test_an_entry_rounding_to_zero_is_a_problem() -> None:
    order = order_of(trade(entry="0.04", stop=None, targets=()))
    assert not order.entry_ok
    assert order.problems == ("entry price 0.04 rounds down to 0 at the tick size 0.1",)


@given(amounts, amounts)
def test_stop_distance_only_for_a_protective_stop(entry: Decimal, stop: Decimal) -> None:
    assert stop_distance("buy", entry, stop) == (entry - stop if stop < entry else None)
    assert stop_distance("sell", entry, stop) == (stop - entry if stop > entry else None)
    assert stop_distance(None, entry, stop) is None
    assert stop_distance("buy", entry, D(0)) is None


# --- checks 1, 2, 4-7 ------------------------------------------------------------------------


def test_check_order_values() -> None:
    assert checks.check_order_values(order_of(trade())).passed
    bad = checks.check_order_values(order_of(trade(side="hold", leverage="0.5")))
    assert not bad.passed
    assert (
        bad.message == "side must be buy or sell, not 'hold'; leverage must be at least 1, not 0.5"
    )


def test_check_stop_side_every_branch() -> None:
    def run(side: str, stop: object, entry: object = 50_000) -> CheckResult:
        request = trade(side, entry=entry, stop=stop, targets=())
        return checks.check_stop_side(request, BTC, order_of(request))

    assert run("buy", None).message == "not applicable: no stop"
    assert run("buy", 49_000).message == "stop 49000 is below the entry"
    assert outcome(run("sell", 51_000)) == (True, "50000", "51000")
    assert run("buy", 50_000).message == "the stop 50000 equals the entry: zero stop distance"
    wrong = run("buy", 51_000)
    assert outcome(wrong) == (False, "50000", "51000")
    assert wrong.message == "a long stop must be below the entry 50000, not 51000"
    assert run("sell", 49_000).message == "a short stop must be above the entry 50000, not 49000"
    assert run("buy", "0.01").message == "the stop 0.01 rounds down to 0 at the tick size 0.1"
    assert run("buy", -5).message.startswith("skipped:")
    assert run("buy", 49_000, entry=-1).message.startswith("skipped:")


def test_check_stop_required() -> None:
    with_stop, without = trade(stop=49_000), trade(stop=None)
    assert outcome(checks.check_stop_required(config(), with_stop)) == (True, "true", "49000")
    assert outcome(checks.check_stop_required(config(), without)) == (False, "true", None)
    allowed = checks.check_stop_required(config(require_stop_loss=False), without)
    assert outcome(allowed) == (True, "false", None)


def test_check_leverage_uses_the_smaller_maximum() -> None:
    market = Market("X", D("0.1"), D("0.001"), max_leverage=D(3))
    assert leverage_limit(config(max_leverage=5), market) == (D(3), "market X")
    assert leverage_limit(config(max_leverage=2), market) == (D(2), "the risk config")
    over = checks.check_leverage(config(max_leverage=5), trade(leverage=4), market)
    assert outcome(over) == (False, "3", "4")
    assert over.message == "leverage 4x exceeds the maximum 3x (market X)"
    assert checks.check_leverage(config(max_leverage=5), trade(leverage=3), market).passed
    assert checks.check_leverage(config(), trade(leverage="0.5"), market).message.startswith(
        "skipped:"
    )


@given(st.integers(1, 1000), st.integers(0, 1200))
@example(5, 5)
@example(5, 4)
def test_check_open_positions(maximum: int, count: int) -> None:
    result = checks.check_open_positions(
        config(max_open_positions=maximum), account(open_positions=count)
    )
    assert outcome(result) == (count < maximum, str(maximum), str(count))


@given(
    st.decimals(D("0.1"), D(100), places=1),
    st.decimals(D(-2000), D(2000), places=2),
)
def test_check_daily_drawdown(limit: Decimal, pnl: Decimal) -> None:
    state = account(equity=1000, daily_pnl=pnl, day_start_equity=1000)
    result = checks.check_daily_drawdown(config(daily_max_drawdown_percent=limit), state)
    drawdown = max(-pnl, D(0)) / 10  # percent of 1000
    assert result.passed == (drawdown < limit)
    assert D(result.limit or "NaN") == limit


# --- check 8: reward:risk --------------------------------------------------------------------


def targets_outcome(
    prices: tuple[int, ...], quantities: tuple[str, ...], ok: bool = True
) -> TargetsOutcome:
    passed = CheckResult("targets", True, None, None, "")
    return TargetsOutcome(passed, tuple(D(p) for p in prices), tuple(D(q) for q in quantities), ok)


def test_average_target_is_weighted_by_quantity() -> None:
    prices = (D(51_000), D(54_000))
    assert checks.average_target(prices, (D(3), D(1)), long=True) == D(51_750)
    assert checks.average_target(prices, (D(0), D(1)), long=True) == D(52_500)  # equal weights


def test_check_risk_reward() -> None:
    request = trade(targets=(52_000,))
    order = order_of(request)  # entry 50000, stop 49000: risk 1000 per unit
    two = targets_outcome((52_000,), ("0.2",))
    assert outcome(checks.check_risk_reward(config(), request, order, two)) == (True, "1.5", "2")
    low = checks.check_risk_reward(config(min_risk_reward_ratio=3), request, order, two)
    assert outcome(low) == (False, "3", "2")
    assert low.message == (
        "reward:risk 2 is below the minimum 3 (average target 52000, stop distance 1000)"
    )
    off = checks.check_risk_reward(config(min_risk_reward_ratio=0), request, order, two)
    assert off.message == "reward:risk 2 (no minimum)"
    bad = targets_outcome((52_000,), ("0.2",), ok=False)
    assert checks.check_risk_reward(config(), request, order, bad).message.startswith("skipped:")
    no_targets = trade(targets=())
    none = checks.check_risk_reward(config(), no_targets, order_of(no_targets), two)
    assert none.message == "not applicable: no take-profit target"


# --- checks 10-14 ----------------------------------------------------------------------------


@given(amounts, st.one_of(st.none(), amounts))
def test_check_max_position_size(quantity: Decimal, cap: Decimal | None) -> None:
    result = checks.check_max_position_size(config(max_position_size=cap), quantity)
    assert result.passed == (cap is None or quantity <= cap)
    if cap is not None:
        assert checks.check_max_position_size(config(max_position_size=cap), None).message == (
            "skipped: no quantity"
        )


@given(amounts, amounts)
@example(D(150), D(150))
def test_check_max_risk_amount(risk: Decimal, cap: Decimal) -> None:
    order = order_of(trade())
    result = checks.check_max_risk_amount(config(max_risk_amount=cap), order, D(1), risk)
    assert result.passed == (risk <= cap)
    assert checks.check_max_risk_amount(config(), order, D(1), risk).passed


def test_check_max_risk_amount_without_a_stop_is_unbounded() -> None:
    order = order_of(trade(stop=None, quantity="0.1"))
    result = checks.check_max_risk_amount(config(max_risk_amount=100), order, D("0.1"), D(0))
    assert outcome(result) == (False, "100", None)
    assert "unbounded" in result.message


@given(
    st.decimals(D("0.001"), D(10), places=3),
    st.sampled_from([D(1), D(2), D(5)]),
    st.decimals(D(0), D(100_000), places=2),
)
@example(D("0.1"), D(1), D(5000))  # exactly the free margin: allowed
@example(D("0.1"), D(1), D("4999.99"))
def test_check_margin(quantity: Decimal, leverage: Decimal, available: Decimal) -> None:
    order = order_of(trade())  # entry 50000
    result = checks.check_margin(account(available=available), order, quantity, leverage)
    assert result.passed == (quantity * 50_000 / leverage <= available)
    assert checks.check_margin(account(), order, None, leverage).message == "skipped: no quantity"


def test_check_min_quantity_and_notional() -> None:
    request, order = trade(), order_of(trade())
    ok = targets_outcome((52_000, 53_000), ("0.1", "0.0005"))
    small = checks.check_min_quantity(request, BTC, D("0.1"), ok)
    assert outcome(small) == (False, "0.001", "0.1")
    assert small.message.startswith("target 2 quantity 0.0005 below the market minimum 0.001")
    assert checks.check_min_quantity(
        request, BTC, D("0.0005"), targets_outcome((), ())
    ).message == ("quantity 0.0005 below the market minimum 0.001 (or not positive)")
    assert checks.check_min_notional(request, BTC, order, D("0.0001")).actual == "5"
    assert checks.check_min_notional(request, BTC, order, D("0.0001")).passed
    tiny = checks.check_min_notional(request, BTC, order, D("0.00009"))
    assert outcome(tiny) == (False, "5", "4.5")
    no_minimum = Market("X", D("0.1"), D("0.001"))
    zero = checks.check_min_quantity(trade(quantity="0.0001"), no_minimum, D(0), ok)
    assert outcome(zero) == (False, "0", "0")  # 0 is never a quantity, minimum or not
    fits_none = checks.check_min_quantity(request, BTC, D(0), ok)
    assert fits_none.message == "skipped: no quantity fits (see position_size)"
    asked_zero = trade(quantity="0.0001")
    assert not checks.check_min_quantity(asked_zero, BTC, D(0), ok).passed
    assert checks.check_min_notional(asked_zero, BTC, order, D(0)).message == (
        "skipped: the quantity is 0 (min_quantity)"
    )


# --- check 9: sizing -------------------------------------------------------------------------


def test_constraint_sizes_and_the_calculated_size() -> None:
    cfg = config(max_risk_amount=150, max_position_size="0.5")
    order = order_of(trade())
    sizes = constraint_sizes(cfg, account(), BTC, order, D(5))
    assert sizes == {
        "account_risk_percent": D("0.2"),
        "max_risk_amount": D("0.15"),
        "max_position_size": D("0.5"),
        "margin_capacity": D(1),
    }
    size = size_position(cfg, trade(), account(), BTC, order, D(5))
    assert (size.quantity, size.binding, size.check.message) == (
        D("0.15"),
        "max_risk_amount",
        "sized at 0.15 (limited by max_risk_amount)",
    )
    sizing = sizing_of(order, size)
    assert sizing is not None
    assert (sizing.risk_amount, sizing.stop_distance_percent) == (D(150), D(2))


def test_on_a_tie_the_first_constraint_limits() -> None:
    tie = {"margin_capacity": D(1), "max_position_size": D(1), "account_risk_percent": D(2)}
    assert smallest(tie) == (D(1), "max_position_size")


def test_a_requested_quantity_is_judged_against_every_constraint() -> None:
    request = trade(quantity="0.3005")
    size = size_position(config(), request, account(), BTC, order_of(request), D(5))
    assert size.quantity == D("0.3") and size.binding == "account_risk_percent"
    assert outcome(size.check) == (False, "0.2", "0.3")
    assert [w.code for w in size.warnings] == ["quantity_rounded", "size_above_calculated"]
    fits = trade(quantity="0.1")
    size = size_position(config(), fits, account(), BTC, order_of(fits), D(5))
    assert size.check.passed and size.binding == "requested_quantity" and size.warnings == ()


def test_sizing_refuses_or_skips_without_what_it_needs() -> None:
    def message(request: TradeRequest) -> str:
        return size_position(
            config(), request, account(), BTC, order_of(request), D(1)
        ).check.message

    assert message(trade(stop=None)) == (
        "cannot size the trade without a stop: give a stop loss or a quantity"
    )
    assert message(trade(entry=-1)) == "skipped: the entry price or side is invalid"
    assert message(trade(stop=51_000)) == "skipped: the stop is invalid"
    assert message(trade(quantity=-1)) == "skipped: the quantity is invalid"
    broke = size_position(config(), trade(), account(available=0), BTC, order_of(trade()), D(1))
    assert not broke.check.passed and broke.quantity == 0 and broke.binding == "margin_capacity"


def test_effective_leverage_is_capped_and_at_least_one() -> None:
    assert effective_leverage(config(max_leverage=5), trade(leverage=20), BTC) == 5
    assert effective_leverage(config(), trade(leverage="0.5"), BTC) == 1
    assert effective_leverage(config(), trade(leverage=3), BTC) == 3


# --- check 3: targets ------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    st.integers(1, 5000).map(lambda n: D(n) * D("0.001")),
    st.integers(1, 4),
    st.sampled_from([D("0.001"), D("0.01"), D("0.1")]),
)
def test_share_out_fills_the_position_on_the_lot_grid(
    remainder: Decimal, slots: int, lot: Decimal
) -> None:
    remainder = floor_to_step(remainder, lot)
    quantities = [D(0)] * slots
    share_out(quantities, list(range(slots)), remainder, lot)
    assert sum(quantities) == remainder
    assert all(q % lot == 0 for q in quantities)
    assert max(quantities) - min(quantities) <= lot
    assert quantities == sorted(quantities, reverse=True)  # spare lots go to the first


def test_place_targets() -> None:
    request = trade(targets=(51_000, "52000.05", 53_000), target_quantities=("0.05", None, None))
    placed = place_targets(request, BTC, order_of(request), D("0.2"))
    assert placed.ok and placed.check.passed
    assert placed.prices == (D(51_000), D("52000.0"), D(53_000))
    assert placed.quantities == (D("0.05"), D("0.075"), D("0.075"))
    assert placed.rounded == ("target 52000.05 → 52000",)
    assert placed.check.message == "3 target(s) above the entry, 0.2 of 0.2 covered"
    wrong = trade("sell", stop=51_000, targets=(52_000,))
    refused = place_targets(wrong, BTC, order_of(wrong), D("0.1"))
    assert not refused.ok
    assert refused.check.message == "target 1 (52000) must be below the entry 50000"
    over = trade(targets=(52_000,), target_quantities=("0.3",))
    assert (
        "more than the position 0.2"
        in place_targets(over, BTC, order_of(over), D("0.2")).check.message
    )
    none = trade(targets=())
    assert place_targets(none, BTC, order_of(none), None).check.message == (
        "not applicable: no take-profit targets"
    )


# --- warnings ------------------------------------------------------------------------------


def test_prices_rounded() -> None:
    assert advisories.prices_rounded((), TICK) is None
    warning = advisories.prices_rounded(("entry 1.05 → 1",), TICK)
    assert (
        warning is not None
        and warning.message == "prices moved to the tick size 0.1: entry 1.05 → 1"
    )


@given(st.decimals(D(0), D(200), places=1))
def test_approaching_drawdown(loss: Decimal) -> None:
    state = account(equity=1000, daily_pnl=-loss, day_start_equity=1000)
    warning = advisories.approaching_drawdown(config(daily_max_drawdown_percent=10), state)
    assert (warning is not None) == (80 <= loss < 100)


def test_stop_width() -> None:
    def codes(stop: object) -> str | None:
        request = trade(stop=stop)
        order = order_of(request)
        size = size_position(config(), request, account(), BTC, order, D(1))
        warning = advisories.stop_width(sizing_of(order, size), order.entry)
        return None if warning is None else warning.code

    assert codes(49_800) == "tight_stop"  # 0.4 %
    assert codes(49_750) is None  # 0.5 %
    assert codes(47_500) is None  # 5 %
    assert codes(47_000) == "wide_stop"  # 6 %
    assert advisories.stop_width(None, D(1)) is None


@given(st.decimals(D("0.001"), D(1), places=3))
@example(D("0.5"))  # exactly 50 %: no warning
@example(D("0.501"))
def test_large_position(quantity: Decimal) -> None:
    warning = advisories.large_position(account(equity=10_000), quantity, D(10_000))
    assert (warning is not None) == (quantity * 10_000 > 5_000)
    assert advisories.large_position(account(equity=0), quantity, D(10_000)) is None


@given(st.decimals(D(1), D(1000), places=2), st.decimals(D(0), D(600), places=2))
@example(D(400), D(100))  # the loss would land exactly on the limit: no warning
@example(D("400.01"), D(100))
def test_drawdown_headroom(risk: Decimal, loss: Decimal) -> None:
    state = account(equity=10_000, daily_pnl=-loss, day_start_equity=10_000)
    warning = advisories.drawdown_headroom(config(daily_max_drawdown_percent=5), state, risk)
    headroom = D(500) - loss
    assert (warning is not None) == (headroom > 0 and risk > headroom)
