"""Properties of the Decision Loop, checked exactly (with Fractions) on generated inputs.

* a sized quantity never violates any of the four constraints, and one more lot would;
* rounding never increases risk: the order's real risk (rounded quantity times the rounded
  stop distance) stays within the budget, prices never move against the trader, the stop never
  tightens, quantities never grow;
* a requested quantity passes the size checks exactly when it satisfies every constraint;
* a short is the mirror image of a long;
* every check is always reported, in order, and approval means no failure.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from testudo.risk.config import RiskConfig
from testudo.risk.decision import (
    CHECK_ORDER,
    AccountState,
    Decision,
    Market,
    TargetRequest,
    TradeRequest,
    evaluate,
)

D = Decimal
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decimals(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(D(low), D(high), places=places, allow_nan=False, allow_infinity=False)


markets = st.builds(
    Market,
    symbol=st.just("X/USDT"),
    tick_size=st.sampled_from([D("0.01"), D("0.1"), D("0.5"), D(1), D("0.0001")]),
    lot_size=st.sampled_from([D("0.001"), D("0.0001"), D("0.01"), D(1), D("0.00001")]),
    min_qty=st.just(D(0)),
    min_notional=st.just(D(0)),
    max_leverage=st.one_of(st.none(), st.sampled_from([D(2), D(20), D(125)])),
)

configs = st.builds(
    RiskConfig,
    account_risk_percent=decimals("0.01", "100", 2),
    max_risk_amount=st.one_of(st.none(), decimals("0.01", "100000", 2)),
    max_position_size=st.one_of(st.none(), decimals("0.0001", "1000", 4)),
    max_leverage=st.sampled_from([D(1), D(3), D(5), D("12.5"), D(125)]),
    daily_max_drawdown_percent=decimals("0.1", "100", 1),
    max_open_positions=st.integers(1, 10),
    require_stop_loss=st.booleans(),
    min_risk_reward_ratio=decimals("0", "3", 2),
)

accounts = st.builds(
    AccountState,
    equity=decimals("0", "1000000", 2),
    available=decimals("0", "1000000", 2),
    open_positions=st.integers(0, 12),
    daily_pnl=decimals("-5000", "5000", 2),
    day_start_equity=decimals("0", "1000000", 2),
)


@st.composite
def long_requests(draw: st.DrawFn, quantity: bool = False) -> TradeRequest:
    entry = draw(decimals("0.5", "100000", 4))
    stop = entry * draw(decimals("0.5", "0.9999", 4))
    targets = tuple(
        TargetRequest(entry * draw(decimals("1.0001", "2", 4)))
        for _ in range(draw(st.integers(0, 3)))
    )
    return TradeRequest(
        side="buy",
        entry_price=entry,
        stop_price=stop,
        targets=targets,
        quantity=draw(decimals("0.0001", "100", 4)) if quantity else None,
        leverage=draw(st.sampled_from([D(1), D(2), D(5), D(10), D(50)])),
    )


def F(value: Decimal) -> Fraction:
    return Fraction(value)


def allowed_leverage(config: RiskConfig, request: TradeRequest, market: Market) -> Fraction:
    caps = [F(request.leverage), F(config.max_leverage)]
    if market.max_leverage is not None:
        caps.append(F(market.max_leverage))
    return max(Fraction(1), min(caps))


def limits(
    config: RiskConfig,
    request: TradeRequest,
    account: AccountState,
    market: Market,
    decision: Decision,
    quantity: Fraction,
) -> dict[str, bool]:
    """Which of the four constraints ``quantity`` satisfies, exactly, on the rounded order."""
    assert decision.stop_price is not None
    distance = abs(F(decision.entry_price) - F(decision.stop_price))
    out = {
        "account_risk_percent": quantity * distance
        <= max(F(account.equity), Fraction(0)) * F(config.account_risk_percent) / 100,
        "margin_capacity": quantity
        * F(decision.entry_price)
        / allowed_leverage(config, request, market)
        <= max(F(account.available), Fraction(0)),
    }
    if config.max_risk_amount is not None:
        out["max_risk_amount"] = quantity * distance <= F(config.max_risk_amount)
    if config.max_position_size is not None:
        out["max_position_size"] = quantity <= F(config.max_position_size)
    return out


@PROPERTY
@given(configs, long_requests(), accounts, markets)
def test_a_sized_quantity_never_breaks_a_constraint_and_is_the_largest(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market
) -> None:
    decision = evaluate(config, request, account, market)
    assume(decision.check("stop_side").passed and decision.sizing is not None)
    assert decision.sizing is not None
    quantity = decision.sizing.quantity
    assert quantity >= 0
    assert F(quantity) % F(market.lot_size) == 0
    assert all(limits(config, request, account, market, decision, F(quantity)).values())
    one_more = F(quantity) + F(market.lot_size)
    assert not all(limits(config, request, account, market, decision, one_more).values())
    # The reported limiting constraint is one that the next lot would break.
    broken = limits(config, request, account, market, decision, one_more)
    assert broken[decision.sizing.limiting_constraint] is False
    # And the risk reported is the real risk of the rounded order, within the budget.
    assert decision.stop_price is not None
    real_risk = F(quantity) * abs(F(decision.entry_price) - F(decision.stop_price))
    assert F(decision.sizing.risk_amount) == real_risk
    budget = max(F(account.equity), Fraction(0)) * F(config.account_risk_percent) / 100
    if config.max_risk_amount is not None:
        budget = min(budget, F(config.max_risk_amount))
    assert real_risk <= budget


@PROPERTY
@given(configs, long_requests(quantity=True), accounts, markets, st.sampled_from(["buy", "sell"]))
def test_rounding_never_moves_against_the_trader_or_grows_a_quantity(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market, side: str
) -> None:
    if side == "sell":
        request = mirror(request)
    decision = evaluate(config, request, account, market)
    tick = F(market.tick_size)
    assert F(decision.entry_price) % tick == 0
    assert abs(F(decision.entry_price) - F(request.entry_price)) < tick
    assert request.stop_price is not None
    if decision.check("order_values").passed and decision.check("stop_side").passed:
        assert decision.stop_price is not None and F(decision.stop_price) % tick == 0
        # The stop is never closer to the entry than asked.
        if side == "buy":
            assert decision.entry_price <= request.entry_price
            assert decision.stop_price <= request.stop_price
        else:
            assert decision.entry_price >= request.entry_price
            assert decision.stop_price >= request.stop_price
    for (price, _), target in zip(decision.targets, request.targets, strict=True):
        assert price <= target.price if side == "buy" else price >= target.price
    if decision.sizing is not None:
        assert request.quantity is not None
        assert decision.sizing.quantity <= request.quantity
        assert request.quantity - decision.sizing.quantity < market.lot_size
        total = sum((q for _, q in decision.targets), D(0))
        assert total <= decision.sizing.quantity or not decision.check("targets").passed


@PROPERTY
@given(configs, long_requests(quantity=True), accounts, markets)
def test_a_requested_quantity_passes_position_size_exactly_when_it_fits_all_four(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market
) -> None:
    decision = evaluate(config, request, account, market)
    assume(decision.check("stop_side").passed and decision.sizing is not None)
    assert decision.sizing is not None
    quantity = F(decision.sizing.quantity)
    fits = limits(config, request, account, market, decision, quantity)
    assert decision.check("position_size").passed == all(fits.values())
    assert decision.check("margin").passed == fits["margin_capacity"]
    if config.max_position_size is not None:
        assert decision.check("max_position_size").passed == fits["max_position_size"]
    if config.max_risk_amount is not None:
        assert decision.check("max_risk_amount").passed == fits["max_risk_amount"]
    if decision.approved:
        assert decision.sizing.limiting_constraint == "requested_quantity"


def mirror(request: TradeRequest) -> TradeRequest:
    """The same trade as a short: every price reflected through the entry."""
    entry = request.entry_price
    return TradeRequest(
        side="sell",
        entry_price=entry,
        stop_price=None if request.stop_price is None else 2 * entry - request.stop_price,
        targets=tuple(
            TargetRequest(2 * entry - t.price, t.quantity, t.order_type) for t in request.targets
        ),
        quantity=request.quantity,
        leverage=request.leverage,
        entry_type=request.entry_type,
    )


@PROPERTY
@given(configs, long_requests(), st.booleans(), accounts, markets)
def test_a_short_is_the_mirror_image_of_a_long(
    config: RiskConfig, request: TradeRequest, sized: bool, account: AccountState, market: Market
) -> None:
    # Put the entry on the grid: then reflecting through it maps the grid onto itself.
    on_grid = (request.entry_price // market.tick_size) * market.tick_size
    assume(on_grid > 0)
    long = TradeRequest(
        "buy",
        on_grid,
        request.stop_price,
        request.targets,
        None if sized else D("0.5"),
        request.leverage,
    )
    assert long.stop_price is not None
    # Prices are bounded below by 0, not above: a long stop that rounds down to 0 has no mirror.
    assume((long.stop_price // market.tick_size) * market.tick_size > 0)
    assume(all(2 * on_grid - t.price > 0 for t in long.targets))
    short = mirror(long)
    a, b = evaluate(config, long, account, market), evaluate(config, short, account, market)
    assert a.approved == b.approved
    assert [(c.code, c.passed) for c in a.checks] == [(c.code, c.passed) for c in b.checks]
    prices = ("stop_side", "stop_loss_required")  # these report the (mirrored) stop price
    assert [(c.limit, c.actual) for c in a.checks if c.code not in prices] == [
        (c.limit, c.actual) for c in b.checks if c.code not in prices
    ]
    assert a.sizing == b.sizing
    assert [w.code for w in a.warnings] == [w.code for w in b.warnings]
    assert a.stop_price is not None and b.stop_price is not None
    assert a.entry_price - a.stop_price == b.stop_price - b.entry_price
    assert [(a.entry_price - p, q) for p, q in a.targets] == [
        (p - b.entry_price, q) for p, q in b.targets
    ]


@PROPERTY
@given(configs, long_requests(quantity=True), accounts, markets, st.booleans())
def test_every_check_is_reported_in_order_and_approval_means_no_failure(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market, drop: bool
) -> None:
    if drop:
        request = TradeRequest("buy", request.entry_price, None, (), request.quantity)
    decision = evaluate(config, request, account, market)
    assert tuple(c.code for c in decision.checks) == CHECK_ORDER
    assert decision.failed == tuple(c for c in decision.checks if not c.passed)
    assert decision.approved == (not decision.failed)
    assert all(c.message for c in decision.checks)
