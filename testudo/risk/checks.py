"""The Decision Loop's checks, one function each (``docs/risk.md``, "Checks, in order").

Each returns the :class:`CheckResult` of its code. A check that does not apply passes with a
message saying so; a check that cannot be computed because another one failed passes with a
message starting ``skipped:``. The ``position_size`` check lives with the sizing
(:mod:`testudo.risk.sizing`) and the ``targets`` check with the targets
(:mod:`testudo.risk.targets`), because each settles what later checks read.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sides import position_word, stop_where

from .config import RiskConfig
from .figures import DOWN, ONE, UP, ZERO, ratio, raw, show, text
from .model import (
    AccountState,
    CheckResult,
    Market,
    TradeRequest,
    failed,
    passed,
    skipped,
)
from .order import Order
from .sizing import drawdown_percent, leverage_limit
from .targets import TargetsOutcome


def check_order_values(order: Order) -> CheckResult:
    """1. The request's numbers and words make sense (see :func:`order.order_problems`)."""
    code = "order_values"
    if order.problems:
        return failed(code, "; ".join(order.problems))
    return passed(code, "prices, quantities, leverage, side and entry type are valid")


def check_stop_side(request: TradeRequest, market: Market, order: Order) -> CheckResult:
    """2. A long's stop below the entry, a short's above it (after rounding)."""
    code = "stop_side"
    stop = order.stop
    if not order.stop_given:
        return passed(code, "not applicable: no stop")
    if not (order.entry_ok and order.stop_valid) or stop is None or order.side is None:
        return skipped(code, "the entry or stop price is invalid")
    entry, shown_stop = text(order.entry), text(stop)
    if stop <= 0:
        message = (
            f"the stop {raw(request.stop_price or ZERO)} rounds down to 0 at the tick size "
            f"{text(market.tick_size)}"
        )
        return failed(code, message, entry, shown_stop)
    if stop == order.entry:
        return failed(
            code, f"the stop {shown_stop} equals the entry: zero stop distance", entry, shown_stop
        )
    where = stop_where(order.side)
    if not order.stop_ok:
        message = (
            f"a {position_word(order.side)} stop must be {where} the entry {entry}, "
            f"not {shown_stop}"
        )
        return failed(code, message, entry, shown_stop)
    return passed(code, f"stop {shown_stop} is {where} the entry", entry, shown_stop)


def check_stop_required(config: RiskConfig, request: TradeRequest) -> CheckResult:
    """4. A stop is given when the configuration requires one."""
    code = "stop_loss_required"
    if request.stop_price is None:
        if config.require_stop_loss:
            return failed(code, "a stop loss is required by the risk config", "true", None)
        return passed(code, "no stop loss (allowed by the risk config)", "false", None)
    required = "true" if config.require_stop_loss else "false"
    return passed(code, "stop loss given", required, raw(request.stop_price))


def check_leverage(config: RiskConfig, request: TradeRequest, market: Market) -> CheckResult:
    """5. The requested leverage is within the configuration's and the market's maximum."""
    code = "leverage"
    if not request.leverage.is_finite() or request.leverage < 1:
        return skipped(code, "the leverage is invalid")
    limit, source = leverage_limit(config, market)
    asked, shown_limit = text(request.leverage), text(limit)
    if request.leverage > limit:
        message = f"leverage {asked}x exceeds the maximum {shown_limit}x ({source})"
        return failed(code, message, shown_limit, asked)
    return passed(code, f"leverage {asked}x within the maximum {shown_limit}x", shown_limit, asked)


def check_open_positions(config: RiskConfig, account: AccountState) -> CheckResult:
    """6. Fewer positions open than the configuration's maximum."""
    code = "max_open_positions"
    maximum, count = config.max_open_positions, account.open_positions
    if count >= maximum:
        message = f"{count} positions open, the maximum is {maximum}"
        return failed(code, message, str(maximum), str(count))
    return passed(code, f"{count} of {maximum} positions open", str(maximum), str(count))


def check_daily_drawdown(config: RiskConfig, account: AccountState) -> CheckResult:
    """7. Today's drawdown below ``daily_max_drawdown_percent``."""
    code = "daily_drawdown"
    limit = text(config.daily_max_drawdown_percent)
    drawdown = drawdown_percent(account)
    shown = text(ratio(drawdown))
    if drawdown >= config.daily_max_drawdown_percent:
        return failed(code, f"today's drawdown {shown}% reached the limit {limit}%", limit, shown)
    return passed(code, f"today's drawdown {shown}% is below the limit {limit}%", limit, shown)


def average_target(
    prices: tuple[Decimal, ...], quantities: tuple[Decimal, ...], *, long: bool
) -> Decimal:
    """The targets' average price weighted by quantity (equal weights unless every target has
    a quantity), rounded towards the entry."""
    weights = quantities if all(q > 0 for q in quantities) else (ONE,) * len(prices)
    context = DOWN if long else UP
    weighted = sum((context.multiply(p, w) for p, w in zip(prices, weights, strict=True)), ZERO)
    return context.divide(weighted, sum(weights, ZERO))


def check_risk_reward(
    config: RiskConfig, request: TradeRequest, order: Order, targets: TargetsOutcome
) -> CheckResult:
    """8. Reward:risk (average target against the stop distance) at least the minimum."""
    code = "risk_reward"
    minimum = text(config.min_risk_reward_ratio)
    if not request.targets or not order.stop_given:
        missing = "no take-profit target" if not request.targets else "no stop"
        return passed(code, f"not applicable: {missing}", minimum, None)
    distance = order.distance
    if not targets.ok or distance is None:
        return skipped(code, "the stop or a target is invalid")
    average = average_target(targets.prices, targets.quantities, long=order.long)
    reward = average - order.entry if order.long else order.entry - average
    value = DOWN.divide(reward, distance)
    shown = text(ratio(value))
    if config.min_risk_reward_ratio > 0 and value < config.min_risk_reward_ratio:
        message = (
            f"reward:risk {shown} is below the minimum {minimum} "
            f"(average target {show(average, up=not order.long)}, "
            f"stop distance {text(distance)})"
        )
        return failed(code, message, minimum, shown)
    if config.min_risk_reward_ratio > 0:
        return passed(code, f"reward:risk {shown} (minimum {minimum})", minimum, shown)
    return passed(code, f"reward:risk {shown} (no minimum)", minimum, shown)


def check_max_position_size(config: RiskConfig, quantity: Decimal | None) -> CheckResult:
    """10. The quantity within ``max_position_size`` (when set)."""
    code = "max_position_size"
    cap = config.max_position_size
    if cap is None:
        return passed(code, "no cap set")
    if quantity is None:
        return skipped(code, "no quantity")
    if quantity > cap:
        message = f"quantity {text(quantity)} exceeds the maximum position size {text(cap)}"
        return failed(code, message, text(cap), text(quantity))
    message = f"quantity {text(quantity)} within the maximum position size {text(cap)}"
    return passed(code, message, text(cap), text(quantity))


def check_max_risk_amount(
    config: RiskConfig, order: Order, quantity: Decimal | None, risk: Decimal | None
) -> CheckResult:
    """11. The risk (quantity x stop distance) within ``max_risk_amount`` (when set); without
    a stop the risk is unbounded, so a set cap fails."""
    code = "max_risk_amount"
    cap = config.max_risk_amount
    shown = None if risk is None else show(risk, up=True)
    if cap is None:
        return passed(code, "no cap set", None, shown)
    if quantity is None or shown is None or risk is None:
        return skipped(code, "no quantity")
    if not order.stop_given:
        message = f"without a stop the risk is unbounded, above the maximum {text(cap)}"
        return failed(code, message, text(cap), None)
    if risk > cap:
        return failed(code, f"risk {shown} exceeds the maximum {text(cap)}", text(cap), shown)
    return passed(code, f"risk {shown} within the maximum {text(cap)}", text(cap), shown)


def check_margin(
    account: AccountState, order: Order, quantity: Decimal | None, leverage: Decimal
) -> CheckResult:
    """12. The margin (quantity x entry / leverage) within the free margin."""
    code = "margin"
    if quantity is None:
        return skipped(code, "no quantity")
    need = UP.divide(UP.multiply(quantity, order.entry), leverage)
    required, free, lever = show(need, up=True), text(account.available), text(leverage)
    if need > account.available:
        message = f"margin {required} at {lever}x exceeds the available {free}"
        return failed(code, message, free, required)
    message = f"margin {required} at {lever}x within the available {free}"
    return passed(code, message, free, required)


def minimums_skipped(request: TradeRequest, quantity: Decimal | None) -> str | None:
    """Why the market-minimum checks do not apply, or None when they do."""
    if quantity is None:
        return "no quantity"
    if quantity == 0 and request.quantity is None:
        return "no quantity fits (see position_size)"
    return None


def check_min_quantity(
    request: TradeRequest, market: Market, quantity: Decimal | None, targets: TargetsOutcome
) -> CheckResult:
    """13. The quantity and every target's quantity at least the market's minimum (and > 0)."""
    code = "min_quantity"
    reason = minimums_skipped(request, quantity)
    if reason is not None or quantity is None:
        return skipped(code, reason or "no quantity")
    minimum = text(market.min_qty)
    small = [
        f"target {n} quantity {text(q)}"
        for n, q in enumerate(targets.quantities, 1)
        if targets.ok and q < market.min_qty
    ]
    if quantity <= 0 or quantity < market.min_qty:
        small.insert(0, f"quantity {text(quantity)}")
    if small:
        message = f"{', '.join(small)} below the market minimum {minimum} (or not positive)"
        return failed(code, message, minimum, text(quantity))
    message = f"quantity {text(quantity)} at or above the market minimum {minimum}"
    return passed(code, message, minimum, text(quantity))


def check_min_notional(
    request: TradeRequest, market: Market, order: Order, quantity: Decimal | None
) -> CheckResult:
    """14. The order value (quantity x entry) at least the market's minimum."""
    code = "min_notional"
    reason = minimums_skipped(request, quantity)
    if reason is not None or quantity is None:
        return skipped(code, reason or "no quantity")
    if quantity <= 0:
        return skipped(code, "the quantity is 0 (min_quantity)")
    notional = DOWN.multiply(quantity, order.entry)
    value, minimum = text(notional), text(market.min_notional)
    if notional < market.min_notional:
        message = f"order value {value} below the market minimum {minimum}"
        return failed(code, message, minimum, value)
    message = f"order value {value} at or above the market minimum {minimum}"
    return passed(code, message, minimum, value)
