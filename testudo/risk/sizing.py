"""Sizing: four constraints, the smallest wins.

```
distance             = |entry - stop|                  (rounded prices)
account_risk_percent = equity x account_risk_percent / 100 / distance
max_risk_amount      = max_risk_amount / distance                    (when set)
max_position_size    = max_position_size                             (when set)
margin_capacity      = free margin x leverage / entry
leverage             = min(requested, config max_leverage, market max) — at least 1
quantity             = min(the above), rounded down to the lot size
risk_amount          = quantity x distance
```

Each constraint's size is rounded down to the lot too, so a rounded quantity satisfies all
four exactly. Without a stop the risk constraints do not apply. A requested quantity is
rounded down to the lot and must fit every constraint; the ``position_size`` check says which
ones it exceeds.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sides import is_long

from .config import RiskConfig
from .figures import DOWN, HUNDRED, ONE, UP, ZERO, ratio, text
from .model import (
    CONSTRAINTS,
    AccountState,
    CheckResult,
    Market,
    RiskWarning,
    Sizing,
    TradeRequest,
    failed,
    passed,
    skipped,
)
from .order import Order
from .rounding import floor_to_step

CODE = "position_size"


def drawdown_percent(account: AccountState) -> Decimal:
    """Today's loss as a percentage of the day's starting equity (0 without a loss)."""
    if account.daily_pnl >= 0 or account.day_start_equity <= 0:
        return ZERO
    return UP.divide(UP.multiply(-account.daily_pnl, HUNDRED), account.day_start_equity)


def risk_of_stop(
    side: str, entry_price: Decimal, stop_price: Decimal, quantity: Decimal
) -> Decimal:
    """What is lost if the stop fills: the adverse distance times quantity (0 past break-even)."""
    adverse = entry_price - stop_price if is_long(side) else stop_price - entry_price
    return UP.multiply(max(adverse, ZERO), max(quantity, ZERO))


def percent_budget(config: RiskConfig, account: AccountState) -> Decimal:
    """``account_risk_percent`` of the equity (0 when the equity is not positive)."""
    return max(
        DOWN.divide(DOWN.multiply(account.equity, config.account_risk_percent), HUNDRED), ZERO
    )


def risk_budget(config: RiskConfig, account: AccountState) -> Decimal:
    """The most one trade may risk: account_risk_percent of equity, capped by max_risk_amount."""
    budget = percent_budget(config, account)
    if config.max_risk_amount is not None:
        budget = min(budget, config.max_risk_amount)
    return budget


def leverage_limit(config: RiskConfig, market: Market) -> tuple[Decimal, str]:
    """The smaller of the configuration's and the market's maximum leverage, and its source."""
    if market.max_leverage is not None and market.max_leverage < config.max_leverage:
        return market.max_leverage, f"market {market.symbol}"
    return config.max_leverage, "the risk config"


def effective_leverage(config: RiskConfig, request: TradeRequest, market: Market) -> Decimal:
    """The leverage sizing and margin use: the request's, capped by the limit, at least 1."""
    requested = request.leverage if request.leverage.is_finite() and request.leverage >= 1 else ONE
    return max(ONE, min(requested, leverage_limit(config, market)[0]))


def constraint_sizes(
    config: RiskConfig,
    account: AccountState,
    market: Market,
    order: Order,
    leverage: Decimal,
) -> dict[str, Decimal]:
    """Each applicable constraint's largest quantity, on the lot grid (empty without a valid
    entry; the risk constraints need a usable stop)."""
    if not order.entry_ok:
        return {}
    lot, distance = market.lot_size, order.distance
    sizes: dict[str, Decimal] = {}
    if distance is not None:
        budget = percent_budget(config, account)
        sizes["account_risk_percent"] = floor_to_step(DOWN.divide(budget, distance), lot)
        if config.max_risk_amount is not None:
            cap = DOWN.divide(config.max_risk_amount, distance)
            sizes["max_risk_amount"] = floor_to_step(cap, lot)
    if config.max_position_size is not None:
        sizes["max_position_size"] = floor_to_step(config.max_position_size, lot)
    capacity = DOWN.divide(DOWN.multiply(max(account.available, ZERO), leverage), order.entry)
    sizes["margin_capacity"] = floor_to_step(capacity, lot)
    return sizes


@attrs.frozen
class SizeOutcome:
    """The ``position_size`` check, the quantity it settles on and the warnings it raises."""

    check: CheckResult
    quantity: Decimal | None = None  # None: no quantity (the check failed or was skipped)
    binding: str | None = None  # the limiting constraint, or "requested_quantity"
    candidates: dict[str, Decimal] = attrs.field(factory=dict)
    warnings: tuple[RiskWarning, ...] = ()


def size_position(
    config: RiskConfig,
    request: TradeRequest,
    account: AccountState,
    market: Market,
    order: Order,
    leverage: Decimal,
) -> SizeOutcome:
    """The ``position_size`` check: size the trade, or judge the requested quantity."""
    if not order.entry_ok:
        return SizeOutcome(skipped(CODE, "the entry price or side is invalid"))
    sizes = constraint_sizes(config, account, market, order, leverage)
    if request.quantity is not None:
        if not order.quantity_valid:
            return SizeOutcome(skipped(CODE, "the quantity is invalid"))
        if order.stop_given and not order.stop_ok:
            return SizeOutcome(skipped(CODE, "the stop is invalid"))
        return judge_requested(request.quantity, market.lot_size, sizes, stop_ok=order.stop_ok)
    if not order.stop_given:
        return SizeOutcome(
            failed(CODE, "cannot size the trade without a stop: give a stop loss or a quantity")
        )
    if not order.stop_ok:
        return SizeOutcome(skipped(CODE, "the stop is invalid"))
    return size_calculated(sizes, market.lot_size)


def smallest(sizes: dict[str, Decimal]) -> tuple[Decimal, str]:
    """The smallest size and its constraint (on a tie, the first in :data:`CONSTRAINTS`)."""
    calculated = min(sizes.values())
    return calculated, next(c for c in CONSTRAINTS if sizes.get(c) == calculated)


def size_calculated(sizes: dict[str, Decimal], lot: Decimal) -> SizeOutcome:
    """Testudo sizes the trade: the smallest constraint; it fails when that leaves 0."""
    calculated, binding = smallest(sizes)
    shown = text(calculated)
    if calculated <= 0:
        check = failed(
            CODE,
            f"no quantity fits: the largest size allowed is 0 (limited by {binding}, "
            f"lot size {text(lot)})",
            shown,
            shown,
        )
    else:
        check = passed(CODE, f"sized at {shown} (limited by {binding})", shown, shown)
    return SizeOutcome(check, calculated, binding, sizes)


def judge_requested(
    quantity: Decimal, lot: Decimal, sizes: dict[str, Decimal], *, stop_ok: bool
) -> SizeOutcome:
    """A requested quantity, rounded down to the lot, must fit every constraint."""
    calculated, binding = smallest(sizes)
    requested = floor_to_step(quantity, lot)
    warnings: list[RiskWarning] = []
    if requested != quantity:
        warnings.append(quantity_rounded(quantity, requested, lot))
    exceeded = [c for c in CONSTRAINTS if c in sizes and requested > sizes[c]]
    if not exceeded:
        note = "" if stop_ok else " (no stop: the risk constraints do not apply)"
        check = passed(
            CODE,
            f"quantity {text(requested)} within the largest size allowed, {text(calculated)}{note}",
            text(calculated),
            text(requested),
        )
        return SizeOutcome(check, requested, "requested_quantity", sizes, tuple(warnings))
    listed = ", ".join(f"{c} allows {text(sizes[c])}" for c in exceeded)
    check = failed(
        CODE,
        f"quantity {text(requested)} exceeds the largest size allowed, "
        f"{text(calculated)} ({listed})",
        text(calculated),
        text(requested),
    )
    if calculated > 0:
        warnings.append(size_above_calculated(requested, calculated, binding))
    return SizeOutcome(check, requested, binding, sizes, tuple(warnings))


def quantity_rounded(quantity: Decimal, requested: Decimal, lot: Decimal) -> RiskWarning:
    """The requested quantity was not on the lot grid and was rounded down."""
    return RiskWarning(
        "quantity_rounded",
        f"quantity {text(quantity)} rounded down to {text(requested)} (lot size {text(lot)})",
        {"requested": text(quantity), "quantity": text(requested), "lot_size": text(lot)},
    )


def size_above_calculated(requested: Decimal, calculated: Decimal, binding: str) -> RiskWarning:
    """A requested quantity above the calculated size (it accompanies the failure)."""
    return RiskWarning(
        "size_above_calculated",
        f"requested quantity {text(requested)} is above the calculated size "
        f"{text(calculated)} (limited by {binding})",
        {
            "requested": text(requested),
            "calculated": text(calculated),
            "limiting_constraint": binding,
        },
    )


def sizing_of(order: Order, size: SizeOutcome) -> Sizing | None:
    """The :class:`Sizing` of a settled quantity (None without one)."""
    if size.quantity is None or size.binding is None:
        return None
    distance = order.distance
    if distance is None:
        risk_amount, percent = ZERO, None
    else:
        risk_amount = UP.multiply(size.quantity, distance)
        percent = ratio(DOWN.multiply(DOWN.divide(distance, order.entry), HUNDRED))
    candidates = {name: text(value) for name, value in size.candidates.items()}
    return Sizing(size.quantity, risk_amount, size.binding, candidates, distance, percent)
