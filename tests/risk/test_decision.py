"""The Decision Loop: worked sizing examples, every rejection, order, warnings, rounding."""

from __future__ import annotations

import pytest

from testudo.risk.decision import (
    CHECK_ORDER,
    AccountState,
    Decision,
    Market,
    evaluate,
    failed_codes,
    stop_change_allowed,
)

from .support import BTC, D, account, config, trade

REFERENCE_ORDER = [
    "stop_loss_required",
    "leverage",
    "max_open_positions",
    "daily_drawdown",
    "risk_reward",
    "position_size",
    "max_position_size",
    "max_risk_amount",
    "margin",
]


def approved(decision: Decision) -> Decision:
    assert decision.approved, [c.message for c in decision.failed]
    assert decision.failed == ()
    return decision


def warning_codes(decision: Decision) -> list[str]:
    return [w.code for w in decision.warnings]


# --- worked sizing examples ------------------------------------------------------------------


def test_worked_example_two_percent_of_ten_thousand() -> None:
    decision = approved(evaluate(config(), trade(), account(), BTC))
    sizing = decision.sizing
    assert sizing is not None
    assert sizing.quantity == D("0.2")
    assert sizing.risk_amount == D(200)
    assert sizing.limiting_constraint == "account_risk_percent"
    assert sizing.candidates == {"account_risk_percent": "0.2", "margin_capacity": "1"}
    assert sizing.stop_distance == D(1000)
    assert sizing.stop_distance_percent == D(2)
    assert decision.quantity == D("0.2")
    assert decision.targets == ((D(52000), D("0.2")),)


def test_worked_example_max_risk_amount_150() -> None:
    decision = approved(evaluate(config(max_risk_amount=150), trade(), account(), BTC))
    assert decision.sizing is not None
    assert decision.sizing.quantity == D("0.15")
    assert decision.sizing.risk_amount == D(150)
    assert decision.sizing.limiting_constraint == "max_risk_amount"
    assert decision.sizing.candidates["max_risk_amount"] == "0.15"
    assert decision.sizing.candidates["account_risk_percent"] == "0.2"


def test_worked_example_max_position_size_01() -> None:
    decision = approved(
        evaluate(config(max_risk_amount=150, max_position_size="0.1"), trade(), account(), BTC)
    )
    assert decision.sizing is not None
    assert decision.sizing.quantity == D("0.1")
    assert decision.sizing.risk_amount == D(100)
    assert decision.sizing.limiting_constraint == "max_position_size"
    assert decision.sizing.candidates == {
        "account_risk_percent": "0.2",
        "max_risk_amount": "0.15",
        "max_position_size": "0.1",
        "margin_capacity": "1",
    }


def test_margin_capacity_shrinks_the_size() -> None:
    # 5 000 free at 1x buys 0.1 BTC at 50 000, less than the 0.2 the risk budget allows.
    decision = approved(evaluate(config(), trade(leverage=1), account(available=5000), BTC))
    assert decision.sizing is not None
    assert decision.sizing.quantity == D("0.1")
    assert decision.sizing.limiting_constraint == "margin_capacity"
    assert decision.sizing.risk_amount == D(100)
    assert decision.check("margin").actual == "5000"
    # More leverage, more capacity: at 2x the risk budget binds again.
    wider = approved(evaluate(config(), trade(leverage=2), account(available=5000), BTC))
    assert wider.sizing is not None and wider.sizing.quantity == D("0.2")
    assert wider.sizing.candidates["margin_capacity"] == "0.2"


def test_margin_capacity_uses_the_allowed_leverage_only() -> None:
    # Asking for 50x with a 5x cap: the leverage check fails, and sizing uses 5x, not 50x.
    decision = evaluate(config(), trade(leverage=50), account(available=1000), BTC)
    assert failed_codes(decision.checks) == ["leverage"]
    assert decision.sizing is not None
    assert decision.sizing.candidates["margin_capacity"] == "0.1"
    assert decision.sizing.quantity == D("0.1")
    # The market's own maximum caps it too.
    tight = Market("ALT/USDT", D("0.1"), D("0.001"), max_leverage=D(2))
    capped = evaluate(config(max_leverage=10), trade(leverage=2), account(available=1000), tight)
    assert capped.sizing is not None and capped.sizing.candidates["margin_capacity"] == "0.04"


def test_margin_capacity_can_leave_nothing() -> None:
    decision = evaluate(config(), trade(leverage=1), account(available=0), BTC)
    assert failed_codes(decision.checks) == ["position_size"]
    check = decision.check("position_size")
    assert check.limit == "0" and "margin_capacity" in check.message
    assert decision.check("min_quantity").message.startswith("skipped:")
    # A requested quantity with no free margin fails on margin, with the numbers.
    given = evaluate(config(), trade(leverage=1, quantity="0.05"), account(available=1000), BTC)
    assert failed_codes(given.checks) == ["position_size", "margin"]
    margin = given.check("margin")
    assert (margin.limit, margin.actual) == ("1000", "2500")


def test_a_tie_is_reported_as_the_first_constraint_in_order() -> None:
    decision = approved(evaluate(config(), trade(leverage=1), account(), BTC))
    assert decision.sizing is not None
    assert decision.sizing.candidates["margin_capacity"] == "0.2"
    assert decision.sizing.limiting_constraint == "account_risk_percent"


# --- every check, in order -------------------------------------------------------------------


def test_every_check_is_listed_in_order_even_when_all_pass() -> None:
    decision = approved(evaluate(config(), trade(), account(), BTC))
    codes = [c.code for c in decision.checks]
    assert codes == list(CHECK_ORDER)
    assert [c for c in codes if c in REFERENCE_ORDER] == REFERENCE_ORDER
    assert codes[-2:] == ["min_quantity", "min_notional"]


def test_every_failed_check_is_listed_with_its_numbers_in_reference_order() -> None:
    market = Market("BTC/USDT", D("0.1"), D("0.001"), min_qty=D(2), min_notional=D(100_000))
    decision = evaluate(
        config(max_position_size="0.5", max_risk_amount=100),
        trade(targets=(50_500,), quantity=1, leverage=10),
        account(available=1000, open_positions=5, daily_pnl=-600),
        market,
    )
    assert not decision.approved
    assert [c.code for c in decision.failed] == [
        "leverage",
        "max_open_positions",
        "daily_drawdown",
        "risk_reward",
        "position_size",
        "max_position_size",
        "max_risk_amount",
        "margin",
        "min_quantity",
        "min_notional",
    ]
    numbers = {c.code: (c.limit, c.actual) for c in decision.failed}
    assert numbers == {
        "leverage": ("5", "10"),
        "max_open_positions": ("5", "5"),
        "daily_drawdown": ("5", "6"),
        "risk_reward": ("1.5", "0.5"),
        "position_size": ("0.1", "1"),
        "max_position_size": ("0.5", "1"),
        "max_risk_amount": ("100", "1000"),
        "margin": ("1000", "10000"),
        "min_quantity": ("2", "1"),
        "min_notional": ("100000", "50000"),
    }
    for check in decision.failed:
        assert check.message and not check.passed
    assert decision.to_json()["failed"][0] == {
        "code": "leverage",
        "passed": False,
        "limit": "5",
        "actual": "10",
        "message": "leverage 10x exceeds the maximum 5x (the risk config)",
    }


def test_stop_loss_required() -> None:
    decision = evaluate(config(), trade(stop=None), account(), BTC)
    assert failed_codes(decision.checks) == ["stop_loss_required", "position_size"]
    check = decision.check("stop_loss_required")
    assert (check.limit, check.actual) == ("true", None)
    assert "required" in check.message
    assert "cannot size" in decision.check("position_size").message
    assert decision.check("risk_reward").message == "not applicable: no stop"


def test_without_a_required_stop_a_quantity_is_needed_and_risk_is_zero() -> None:
    relaxed = config(require_stop_loss=False)
    decision = approved(evaluate(relaxed, trade(stop=None, quantity="0.1"), account(), BTC))
    assert decision.sizing is not None
    assert decision.sizing.risk_amount == 0
    assert decision.sizing.stop_distance is None
    assert decision.sizing.limiting_constraint == "requested_quantity"
    assert "no stop" in decision.check("position_size").message
    unsized = evaluate(relaxed, trade(stop=None), account(), BTC)
    assert failed_codes(unsized.checks) == ["position_size"]
    capped = evaluate(
        config(require_stop_loss=False, max_risk_amount=100),
        trade(stop=None, quantity="0.1"),
        account(),
        BTC,
    )
    assert failed_codes(capped.checks) == ["max_risk_amount"]
    assert "unbounded" in capped.check("max_risk_amount").message


def test_leverage_above_the_config_or_the_market_maximum() -> None:
    over = evaluate(config(), trade(leverage=6), account(), BTC)
    assert failed_codes(over.checks) == ["leverage"]
    market = Market("ALT/USDT", D("0.1"), D("0.001"), max_leverage=D(3))
    by_market = evaluate(config(), trade(leverage=4), account(), market)
    check = by_market.check("leverage")
    assert not check.passed and (check.limit, check.actual) == ("3", "4")
    assert "market ALT/USDT" in check.message
    assert approved(evaluate(config(), trade(leverage=5), account(), BTC))


def test_max_open_positions() -> None:
    assert approved(evaluate(config(), trade(), account(open_positions=4), BTC))
    decision = evaluate(config(max_open_positions=2), trade(), account(open_positions=3), BTC)
    check = decision.check("max_open_positions")
    assert not check.passed and (check.limit, check.actual) == ("2", "3")
    assert check.message == "3 positions open, the maximum is 2"


def test_daily_drawdown_uses_the_day_start_equity() -> None:
    # Equity already fell to 9 000; the loss of 450 is 4.5 % of the 10 000 the day started with.
    state = account(equity=9000, daily_pnl=-450, day_start_equity=10_000)
    decision = approved(evaluate(config(), trade(), state, BTC))
    assert decision.check("daily_drawdown").actual == "4.5"
    assert "approaching_drawdown_limit" in warning_codes(decision)
    reached = evaluate(config(), trade(), account(daily_pnl=-500), BTC)
    check = reached.check("daily_drawdown")
    assert not check.passed and (check.limit, check.actual) == ("5", "5")
    # Gains and an empty day never count as drawdown.
    assert (
        evaluate(config(), trade(), account(daily_pnl=900), BTC).check("daily_drawdown").actual
        == "0"
    )
    zero_start = account(daily_pnl=-100, day_start_equity=0)
    assert evaluate(config(), trade(), zero_start, BTC).check("daily_drawdown").passed


def test_approaching_drawdown_warning_starts_at_eighty_percent_of_the_limit() -> None:
    just_below = evaluate(config(), trade(), account(daily_pnl="-399.99"), BTC)
    assert "approaching_drawdown_limit" not in warning_codes(just_below)
    at = evaluate(config(), trade(), account(daily_pnl=-400), BTC)
    warning = next(w for w in at.warnings if w.code == "approaching_drawdown_limit")
    assert warning.details == {"drawdown_percent": "4", "limit_percent": "5"}


def test_risk_reward_uses_the_quantity_weighted_average_target() -> None:
    even = approved(evaluate(config(), trade(targets=(51_000, 54_000)), account(), BTC))
    assert even.check("risk_reward").actual == "2.5"  # average 52 500
    assert even.targets == ((D(51_000), D("0.1")), (D(54_000), D("0.1")))
    weighted = approved(
        evaluate(
            config(),
            trade(targets=(51_000, 54_000), target_quantities=("0.15", "0.05")),
            account(),
            BTC,
        )
    )
    assert weighted.check("risk_reward").actual == "1.75"  # average 51 750
    low = evaluate(
        config(),
        trade(targets=(51_000, 54_000), target_quantities=("0.19", "0.01")),
        account(),
        BTC,
    )
    check = low.check("risk_reward")
    assert not check.passed and (check.limit, check.actual) == ("1.5", "1.15")


def test_risk_reward_minimum_zero_disables_the_check() -> None:
    decision = approved(
        evaluate(config(min_risk_reward_ratio=0), trade(targets=(50_100,)), account(), BTC)
    )
    assert decision.check("risk_reward").actual == "0.1"
    no_target = approved(evaluate(config(), trade(targets=()), account(), BTC))
    assert no_target.check("risk_reward").message == "not applicable: no take-profit target"
    assert no_target.targets == ()


def test_a_requested_quantity_must_satisfy_all_four_constraints() -> None:
    fits = approved(evaluate(config(), trade(quantity="0.15"), account(), BTC))
    assert fits.sizing is not None
    assert fits.sizing.quantity == D("0.15")
    assert fits.sizing.risk_amount == D(150)
    assert fits.sizing.limiting_constraint == "requested_quantity"
    too_big = evaluate(config(), trade(quantity="0.3"), account(), BTC)
    assert failed_codes(too_big.checks) == ["position_size"]
    check = too_big.check("position_size")
    assert (check.limit, check.actual) == ("0.2", "0.3")
    assert "account_risk_percent allows 0.2" in check.message
    assert (
        too_big.sizing is not None and too_big.sizing.limiting_constraint == "account_risk_percent"
    )
    assert "size_above_calculated" in warning_codes(too_big)


def test_max_position_size_and_max_risk_amount_caps_on_a_given_quantity() -> None:
    sized = evaluate(
        config(account_risk_percent=5, max_position_size="0.25"),
        trade(quantity="0.3"),
        account(),
        BTC,
    )
    assert failed_codes(sized.checks) == ["position_size", "max_position_size"]
    cap = sized.check("max_position_size")
    assert (cap.limit, cap.actual) == ("0.25", "0.3")
    risky = evaluate(
        config(account_risk_percent=5, max_risk_amount=150), trade(quantity="0.2"), account(), BTC
    )
    assert failed_codes(risky.checks) == ["position_size", "max_risk_amount"]
    risk = risky.check("max_risk_amount")
    assert (risk.limit, risk.actual) == ("150", "200")
    assert risk.message == "risk 200 exceeds the maximum 150"


def test_market_minimums() -> None:
    market = Market("BTC/USDT", D("0.1"), D("0.001"), min_qty=D("0.01"), min_notional=D(100))
    small = evaluate(config(), trade(), account(equity=100), market)
    # 2 % of 100 over a 1 000 stop is 0.002 BTC: allowed by the limits, too small to trade.
    assert failed_codes(small.checks) == ["min_quantity"]
    check = small.check("min_quantity")
    assert (check.limit, check.actual) == ("0.01", "0.002")
    tiny = evaluate(config(), trade(quantity="0.001"), account(), BTC)
    assert tiny.approved
    cheap = Market("BTC/USDT", D("0.1"), D("0.001"), min_notional=D(100))
    low_value = evaluate(config(), trade(quantity="0.001"), account(), cheap)
    notional = low_value.check("min_notional")
    assert failed_codes(low_value.checks) == ["min_notional"]
    assert (notional.limit, notional.actual) == ("100", "50")


def test_target_quantities_below_the_market_minimum() -> None:
    market = Market("BTC/USDT", D("0.1"), D("0.001"), min_qty=D("0.01"))
    decision = evaluate(
        config(),
        trade(targets=(52_000, 53_000), target_quantities=("0.195", "0.005")),
        account(),
        market,
    )
    assert failed_codes(decision.checks) == ["min_quantity"]
    assert "target 2 quantity 0.005" in decision.check("min_quantity").message


def test_a_requested_quantity_below_one_lot_fails_min_quantity() -> None:
    decision = evaluate(config(), trade(quantity="0.0004"), account(), BTC)
    assert failed_codes(decision.checks) == ["min_quantity"]
    assert decision.check("min_quantity").actual == "0"
    assert "quantity_rounded" in warning_codes(decision)


# --- the request's own consistency -------------------------------------------------------------


def test_invalid_values_are_a_failed_check_not_an_exception() -> None:
    request = trade(side="up", entry=-1, stop=0, quantity=0, leverage="0.5", entry_type="stop")
    decision = evaluate(config(), request, account(), BTC)
    assert not decision.approved
    assert decision.failed[0].code == "order_values"
    message = decision.failed[0].message
    for fragment in (
        "side must be buy or sell",
        "entry type",
        "entry price",
        "stop price",
        "quantity must be",
        "leverage must be at least 1",
    ):
        assert fragment in message
    assert [c.code for c in decision.checks] == list(CHECK_ORDER)
    assert decision.sizing is None
    skipped = [c.code for c in decision.checks if c.message.startswith("skipped:")]
    assert "position_size" in skipped and "stop_side" in skipped


def test_non_finite_and_zero_target_values_are_refused() -> None:
    request = trade(targets=(0, 52_000), target_quantities=(None, "-1"))
    decision = evaluate(config(), request, account(), BTC)
    assert failed_codes(decision.checks) == ["order_values"]
    assert "target 1 price" in decision.failed[0].message
    assert "target 2 quantity" in decision.failed[0].message
    nan = evaluate(config(), trade(entry="NaN"), account(), BTC)
    assert failed_codes(nan.checks) == ["order_values"]


@pytest.mark.parametrize(
    ("side", "stop", "fragment"),
    [
        ("buy", 51_000, "a long stop must be below the entry 50000, not 51000"),
        ("sell", 49_000, "a short stop must be above the entry 50000, not 49000"),
        ("buy", 50_000, "equals the entry: zero stop distance"),
        ("sell", 50_000, "equals the entry: zero stop distance"),
    ],
)
def test_a_stop_on_the_wrong_side_or_at_the_entry(side: str, stop: int, fragment: str) -> None:
    decision = evaluate(config(), trade(side=side, stop=stop, targets=()), account(), BTC)
    assert failed_codes(decision.checks) == ["stop_side"]
    check = decision.check("stop_side")
    assert fragment in check.message
    assert (check.limit, check.actual) == ("50000", str(stop))
    assert decision.sizing is None


def test_a_stop_that_rounds_to_the_entry_has_zero_distance() -> None:
    # Short: the stop rounds up (away) — 50 000.04 becomes 50 000.1, a valid stop.
    short = approved(
        evaluate(
            config(), trade(side="sell", entry=50_000, stop="50000.04", targets=()), account(), BTC
        )
    )
    assert short.stop_price == D("50000.1")
    # Long: a stop above the entry by less than a tick rounds down onto the entry.
    long = evaluate(config(), trade(entry=50_000, stop="50000.04", targets=()), account(), BTC)
    assert "zero stop distance" in long.check("stop_side").message


def test_targets_on_the_wrong_side_and_oversized_target_quantities() -> None:
    wrong = evaluate(config(), trade(targets=(52_000, 49_500)), account(), BTC)
    assert failed_codes(wrong.checks) == ["targets"]
    assert "target 2 (49500) must be above the entry 50000" in wrong.check("targets").message
    assert wrong.check("risk_reward").message.startswith("skipped:")
    short = evaluate(config(), trade(side="sell", stop=51_000, targets=(50_500,)), account(), BTC)
    assert "target 1 (50500) must be below the entry 50000" in short.check("targets").message
    too_much = evaluate(
        config(), trade(targets=(52_000, 53_000), target_quantities=("0.15", "0.1")), account(), BTC
    )
    check = too_much.check("targets")
    assert failed_codes(too_much.checks) == ["targets"]
    assert (check.limit, check.actual) == ("0.2", "0.25")
    assert "more than the position 0.2" in check.message


def test_a_target_rounding_onto_the_entry_is_refused() -> None:
    decision = evaluate(config(), trade(targets=("50000.05",)), account(), BTC)
    assert "target 1 (50000 after rounding) must be above" in decision.check("targets").message


# --- warnings ---------------------------------------------------------------------------------


def test_stop_width_warnings() -> None:
    tight = approved(
        evaluate(config(min_risk_reward_ratio=0), trade(stop=49_800, targets=()), account(), BTC)
    )
    warning = next(w for w in tight.warnings if w.code == "tight_stop")
    assert warning.details == {"stop_distance_percent": "0.4", "threshold_percent": "0.5"}
    at_edge = approved(evaluate(config(), trade(stop=49_750, targets=()), account(), BTC))
    assert "tight_stop" not in warning_codes(at_edge)
    wide = approved(evaluate(config(), trade(stop=47_000, targets=(60_000,)), account(), BTC))
    assert (
        next(w for w in wide.warnings if w.code == "wide_stop").details["stop_distance_percent"]
        == "6"
    )
    exactly_five = approved(evaluate(config(), trade(stop=47_500, targets=()), account(), BTC))
    assert "wide_stop" not in warning_codes(exactly_five)


def test_large_position_warning_above_half_the_equity() -> None:
    # 0.2 BTC at 50 000 is 10 000: 100 % of the equity.
    big = approved(evaluate(config(), trade(), account(), BTC))
    warning = next(w for w in big.warnings if w.code == "large_position")
    assert warning.details == {
        "position_value": "10000",
        "equity": "10000",
        "percent_of_equity": "100",
    }
    half = approved(evaluate(config(), trade(quantity="0.1"), account(), BTC))
    assert "large_position" not in warning_codes(half)


def test_risk_beyond_the_day_s_remaining_drawdown_is_a_warning() -> None:
    # 300 lost of a 500 allowance leaves 200; a 200 risk fits exactly, 200.1 would not.
    fits = approved(evaluate(config(), trade(), account(daily_pnl=-300), BTC))
    assert "risk_exceeds_drawdown_headroom" not in warning_codes(fits)
    over = approved(evaluate(config(), trade(), account(daily_pnl=-350), BTC))
    warning = next(w for w in over.warnings if w.code == "risk_exceeds_drawdown_headroom")
    assert warning.details == {"risk_amount": "200", "headroom": "150"}


def test_rounding_warnings() -> None:
    decision = approved(
        evaluate(
            config(),
            trade(entry="50000.05", stop="49000.07", targets=("52000.09",), quantity="0.1234"),
            account(),
            BTC,
        )
    )
    codes = warning_codes(decision)
    assert codes[0] == "prices_rounded" and "quantity_rounded" in codes
    prices = decision.warnings[0].message
    assert "entry 50000.05 → 50000" in prices and "stop 49000.07 → 49000" in prices
    assert "target 52000.09 → 52000" in prices
    quantity = next(w for w in decision.warnings if w.code == "quantity_rounded")
    assert quantity.details == {"requested": "0.1234", "quantity": "0.123", "lot_size": "0.001"}


# --- rounding ----------------------------------------------------------------------------------


def test_prices_round_in_the_trader_s_favour_and_stops_never_tighten() -> None:
    long = approved(
        evaluate(
            config(),
            trade(entry="50000.05", stop="49000.05", targets=("52000.05",)),
            account(),
            BTC,
        )
    )
    assert (long.entry_price, long.stop_price) == (D(50_000), D(49_000))
    assert long.targets[0][0] == D(52_000)
    short = approved(
        evaluate(
            config(),
            trade(side="sell", entry="50000.05", stop="51000.05", targets=("48000.05",)),
            account(),
            BTC,
        )
    )
    assert (short.entry_price, short.stop_price) == (D("50000.1"), D("51000.1"))
    assert short.targets[0][0] == D("48000.1")


def test_sized_quantities_round_down_and_stay_within_the_budget() -> None:
    # 200 / 999 = 0.2002...: 0.2 BTC risks 199.8, never more than 200.
    decision = approved(evaluate(config(), trade(stop=49_001), account(), BTC))
    assert decision.sizing is not None
    assert decision.sizing.quantity == D("0.2")
    assert decision.sizing.risk_amount == D("199.8")
    # 200 / 1001 = 0.1998...: rounds down to 0.199, not up to 0.2.
    below = approved(evaluate(config(), trade(stop=48_999), account(), BTC))
    assert below.sizing is not None and below.sizing.quantity == D("0.199")
    assert below.sizing.risk_amount <= 200


def test_targets_without_quantities_share_the_position_on_the_lot_grid() -> None:
    decision = approved(evaluate(config(), trade(targets=(52_000, 53_000, 54_000)), account(), BTC))
    assert [q for _, q in decision.targets] == [D("0.067"), D("0.067"), D("0.066")]
    assert sum(q for _, q in decision.targets) == D("0.2")
    mixed = approved(
        evaluate(
            config(),
            trade(targets=(52_000, 53_000, 54_000), target_quantities=("0.05", None, None)),
            account(),
            BTC,
        )
    )
    assert [q for _, q in mixed.targets] == [D("0.05"), D("0.075"), D("0.075")]
    partial = approved(
        evaluate(config(), trade(targets=(52_000,), target_quantities=("0.1",)), account(), BTC)
    )
    assert partial.targets == ((D(52_000), D("0.1")),)
    crowded = evaluate(config(), trade(targets=(52_000, 53_000), quantity="0.001"), account(), BTC)
    assert failed_codes(crowded.checks) == ["targets"]
    assert "cannot be split" in crowded.check("targets").message


# --- shorts ------------------------------------------------------------------------------------


def test_shorts_mirror_longs() -> None:
    long = approved(evaluate(config(max_risk_amount=150), trade(), account(), BTC))
    short = approved(
        evaluate(
            config(max_risk_amount=150),
            trade(side="sell", stop=51_000, targets=(48_000,)),
            account(),
            BTC,
        )
    )
    assert long.sizing is not None and short.sizing is not None
    assert short.sizing.quantity == long.sizing.quantity == D("0.15")
    assert short.sizing.risk_amount == long.sizing.risk_amount
    assert short.check("risk_reward").actual == long.check("risk_reward").actual == "2"
    aliases = evaluate(
        config(), trade(side="SHORT", stop=51_000, targets=(48_000,)), account(), BTC
    )
    assert aliases.approved


def test_market_entries_use_the_reference_price() -> None:
    decision = approved(evaluate(config(), trade(entry_type="market"), account(), BTC))
    assert decision.sizing is not None and decision.sizing.quantity == D("0.2")


def test_to_json_uses_strings_for_every_number() -> None:
    body = approved(evaluate(config(), trade(targets=(52_000, 53_000)), account(), BTC)).to_json()
    assert body["quantity"] == "0.2"
    assert body["entry_price"] == "50000" and body["stop_price"] == "49000"
    assert body["targets"] == [
        {"price": "52000", "quantity": "0.1"},
        {"price": "53000", "quantity": "0.1"},
    ]
    assert body["sizing"]["risk_amount"] == "200"
    assert body["sizing"]["stop_distance_percent"] == "2"
    assert len(body["checks"]) == len(CHECK_ORDER) and body["failed"] == []


def test_malformed_market_and_account_values_raise() -> None:
    with pytest.raises(ValueError, match="tick_size"):
        Market("X", D(0), D("0.1"))
    with pytest.raises(ValueError, match="lot_size"):
        Market("X", D("0.1"), D(-1))
    with pytest.raises(ValueError, match="max_leverage"):
        Market("X", D("0.1"), D("0.1"), max_leverage=D("0.5"))
    with pytest.raises(ValueError, match="equity"):
        AccountState(D("NaN"), D(0))
    with pytest.raises(ValueError, match="open_positions"):
        AccountState(D(1), D(1), open_positions=-1)


# --- moving a stop -----------------------------------------------------------------------------


def test_stop_changes_within_the_budget_are_allowed() -> None:
    state = account()
    same = stop_change_allowed(config(), state, "buy", D(50_000), D("0.2"), D(49_000))
    assert same.passed and (same.limit, same.actual) == ("200", "200")
    wider = stop_change_allowed(config(), state, "buy", D(50_000), D("0.2"), D(48_000))
    assert not wider.passed and (wider.limit, wider.actual) == ("200", "400")
    assert wider.code == "stop_change"
    locked = stop_change_allowed(config(), state, "buy", D(50_000), D("0.2"), D(50_500))
    assert locked.passed and locked.actual == "0"
    short = stop_change_allowed(config(), state, "sell", D(50_000), D("0.2"), D(52_000))
    assert not short.passed and short.actual == "400"
    capped = stop_change_allowed(
        config(max_risk_amount=150), state, "buy", D(50_000), D("0.2"), D(49_000)
    )
    assert not capped.passed and capped.limit == "150"


def test_tightening_a_stop_is_allowed_even_after_the_equity_fell() -> None:
    poorer = account(equity=5000)  # budget 100 now, the position risks 200
    tighter = stop_change_allowed(
        config(), poorer, "buy", D(50_000), D("0.2"), D(49_200), current_stop=D(49_000)
    )
    assert tighter.passed and tighter.actual == "160"
    looser = stop_change_allowed(
        config(), poorer, "buy", D(50_000), D("0.2"), D(48_900), current_stop=D(49_000)
    )
    assert not looser.passed and looser.actual == "220"


def test_a_stop_beyond_the_current_price_is_refused() -> None:
    result = stop_change_allowed(
        config(), account(), "buy", D(50_000), D("0.2"), D(50_300), mark_price=D(50_200)
    )
    assert not result.passed and "below the current price 50200" in result.message
    short = stop_change_allowed(
        config(), account(), "sell", D(50_000), D("0.2"), D(49_900), mark_price=D(49_950)
    )
    assert not short.passed
    assert not stop_change_allowed(config(), account(), "buy", D(50_000), D(1), D(0)).passed
    assert not stop_change_allowed(config(), account(), "flat", D(50_000), D(1), D(1)).passed
