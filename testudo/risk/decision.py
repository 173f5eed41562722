"""The Decision Loop: one pure pipeline over the checks, the sizing and the rounding.

``evaluate(config, request, account, market)`` runs every check (it never stops at the first
failure), sizes the trade with four constraints (the smallest wins), rounds prices and
quantities to the market's grid and returns a :class:`Decision`. No I/O, Decimal only.

Checks, always all of them, always in this order (``docs/risk.md``):

1. ``order_values``        the request's numbers and words make sense (positive prices and
                           quantities, leverage >= 1, side buy/sell, entry type limit/market)
2. ``stop_side``           long: stop < entry, short: stop > entry (after rounding)
3. ``targets``             long: every target > entry, short: < entry; target quantities on the
                           lot grid, positive, summing to at most the position
4. ``stop_loss_required``  a stop is given when the configuration requires one
5. ``leverage``            within the configuration's and the market's maximum
6. ``max_open_positions``  fewer positions open than the maximum
7. ``daily_drawdown``      today's drawdown below the daily limit
8. ``risk_reward``         reward:risk (quantity-weighted average target) at least the minimum
9. ``position_size``       the four constraints, smallest wins (:mod:`.sizing`)
10. ``max_position_size``  the quantity within the position cap
11. ``max_risk_amount``    quantity x stop distance within the risk cap
12. ``margin``             quantity x entry / leverage within the free margin
13. ``min_quantity``       the market's minimum order quantity (entry and every target)
14. ``min_notional``       the market's minimum order value

A check that does not apply (no stop allowed, no targets, cap not set) passes with a message
saying so; a check whose inputs are invalid because another check failed passes with a message
starting ``skipped:`` (the root cause is already a failed check, so the decision is rejected
anyway and the list of failures stays free of echoes).

Where things live: the values in :mod:`.model`, the request made consistent in :mod:`.order`,
grid rounding in :mod:`.rounding`, sizing and the ``position_size`` check in :mod:`.sizing`,
the targets and their check in :mod:`.targets`, the other checks in :mod:`.checks`, the
warnings in :mod:`.advisories`, stop moves in :mod:`.stop_change`. This module keeps the
pipeline and re-exports the public names callers use.
"""

from __future__ import annotations

from collections.abc import Iterable

from testudo.sides import BUY, SELL, normalise_side

from . import advisories, checks
from .advisories import (
    APPROACHING_DRAWDOWN,
    LARGE_POSITION_PERCENT,
    TIGHT_STOP_PERCENT,
    WIDE_STOP_PERCENT,
)
from .config import RiskConfig
from .figures import text
from .model import (
    CHECK_ORDER,
    CONSTRAINTS,
    ENTRY_TYPES,
    TARGET_ORDER_TYPES,
    AccountState,
    CheckResult,
    Decision,
    Market,
    RiskWarning,
    Sizing,
    TargetRequest,
    TradeRequest,
    decision_inputs,
)
from .order import prepare_order
from .rounding import ceil_to_step, floor_to_step, round_entry, round_stop, round_target
from .sizing import (
    drawdown_percent,
    effective_leverage,
    risk_budget,
    risk_of_stop,
    size_position,
    sizing_of,
)
from .stop_change import stop_change_allowed
from .targets import place_targets

__all__ = [
    "APPROACHING_DRAWDOWN",
    "BUY",
    "CHECK_ORDER",
    "CONSTRAINTS",
    "ENTRY_TYPES",
    "LARGE_POSITION_PERCENT",
    "SELL",
    "TARGET_ORDER_TYPES",
    "TIGHT_STOP_PERCENT",
    "WIDE_STOP_PERCENT",
    "AccountState",
    "CheckResult",
    "Decision",
    "Market",
    "RiskWarning",
    "Sizing",
    "TargetRequest",
    "TradeRequest",
    "ceil_to_step",
    "decision_inputs",
    "drawdown_percent",
    "evaluate",
    "failed_codes",
    "floor_to_step",
    "normalise_side",
    "risk_budget",
    "risk_of_stop",
    "round_entry",
    "round_stop",
    "round_target",
    "stop_change_allowed",
    "text",
]


def evaluate(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market
) -> Decision:
    """Run the Decision Loop: every check, the size, the rounded order. Pure."""
    order = prepare_order(request, market.tick_size)
    leverage = effective_leverage(config, request, market)
    size = size_position(config, request, account, market, order, leverage)
    sizing = sizing_of(order, size)
    quantity = size.quantity
    risk = None if sizing is None else sizing.risk_amount
    targets = place_targets(request, market, order, quantity)
    results = {
        "order_values": checks.check_order_values(order),
        "stop_side": checks.check_stop_side(request, market, order),
        "targets": targets.check,
        "stop_loss_required": checks.check_stop_required(config, request),
        "leverage": checks.check_leverage(config, request, market),
        "max_open_positions": checks.check_open_positions(config, account),
        "daily_drawdown": checks.check_daily_drawdown(config, account),
        "risk_reward": checks.check_risk_reward(config, request, order, targets),
        "position_size": size.check,
        "max_position_size": checks.check_max_position_size(config, quantity),
        "max_risk_amount": checks.check_max_risk_amount(config, order, quantity, risk),
        "margin": checks.check_margin(account, order, quantity, leverage),
        "min_quantity": checks.check_min_quantity(request, market, quantity, targets),
        "min_notional": checks.check_min_notional(request, market, order, quantity),
    }
    warnings = (
        advisories.prices_rounded(order.rounded + targets.rounded, market.tick_size),
        advisories.approaching_drawdown(config, account),
        *size.warnings,
        advisories.stop_width(sizing, order.entry),
        advisories.large_position(account, quantity, order.entry),
        advisories.drawdown_headroom(config, account, risk),
    )
    ordered = tuple(results[code] for code in CHECK_ORDER)
    failed = tuple(c for c in ordered if not c.passed)
    return Decision(
        approved=not failed,
        checks=ordered,
        failed=failed,
        warnings=tuple(w for w in warnings if w is not None),
        sizing=sizing,
        entry_price=order.entry,
        stop_price=order.stop if order.stop_given else None,
        targets=tuple(zip(targets.prices, targets.quantities, strict=True)),
    )


def failed_codes(checks: Iterable[CheckResult]) -> list[str]:
    """The codes of the failed checks, in order."""
    return [c.code for c in checks if not c.passed]
