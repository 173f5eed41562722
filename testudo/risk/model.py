"""The Decision Loop's values: its inputs, the result of each check, warnings, the sizing
and the decision (attrs, Decimal only), and the fixed order of the checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from .config import RiskConfig
from .figures import ZERO, opt, raw, text

ENTRY_TYPES = ("limit", "market")
TARGET_ORDER_TYPES = ("limit", "market")

#: Every check, always all of them, in this order.
CHECK_ORDER = (
    "order_values",
    "stop_side",
    "targets",
    "stop_loss_required",
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
)
#: The sizing constraints; on a tie the first in this order is the limiting one.
CONSTRAINTS = ("account_risk_percent", "max_risk_amount", "max_position_size", "margin_capacity")


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number, not {value}")


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if not value.is_finite() or value < 0:
        raise ValueError(f"{attribute.name} must be a non-negative number, not {value}")


def _finite(_: Any, attribute: attrs.Attribute[Any], value: Decimal) -> None:
    if not value.is_finite():
        raise ValueError(f"{attribute.name} must be a finite number, not {value}")


def _leverage_cap(_: Any, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is not None and (not value.is_finite() or value < 1):
        raise ValueError(f"{attribute.name} must be at least 1, not {value}")


@attrs.frozen
class Market:
    """The traded market's grid and limits (from the exchange's market metadata)."""

    symbol: str
    tick_size: Decimal = attrs.field(validator=_positive)
    lot_size: Decimal = attrs.field(validator=_positive)  # quantity step
    min_qty: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    min_notional: Decimal = attrs.field(default=ZERO, validator=_non_negative)
    max_leverage: Decimal | None = attrs.field(default=None, validator=_leverage_cap)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "tick_size": text(self.tick_size),
            "lot_size": text(self.lot_size),
            "min_qty": text(self.min_qty),
            "min_notional": text(self.min_notional),
            "max_leverage": opt(self.max_leverage),
        }


@attrs.frozen
class TargetRequest:
    """One take-profit: a price and a quantity (None: an equal share of what is left)."""

    price: Decimal
    quantity: Decimal | None = None
    order_type: str = "limit"

    def to_json(self) -> dict[str, Any]:
        return {
            "price": raw(self.price),
            "quantity": None if self.quantity is None else raw(self.quantity),
            "order_type": self.order_type,
        }


@attrs.frozen
class TradeRequest:
    """What the trader asks for. For a market entry ``entry_price`` is the reference price."""

    side: str  # "buy" | "sell"
    entry_price: Decimal
    stop_price: Decimal | None = None
    targets: tuple[TargetRequest, ...] = ()
    quantity: Decimal | None = None  # None: Testudo sizes the trade
    leverage: Decimal = Decimal(1)
    entry_type: str = "limit"  # "limit" | "market"

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "entry_price": raw(self.entry_price),
            "stop_price": None if self.stop_price is None else raw(self.stop_price),
            "targets": [t.to_json() for t in self.targets],
            "quantity": None if self.quantity is None else raw(self.quantity),
            "leverage": raw(self.leverage),
            "entry_type": self.entry_type,
        }


@attrs.frozen
class AccountState:
    """The account as the Decision Loop sees it (settlement asset, e.g. USDT)."""

    equity: Decimal = attrs.field(validator=_finite)
    available: Decimal = attrs.field(validator=_finite)  # free margin
    open_positions: int = 0
    daily_pnl: Decimal = attrs.field(default=ZERO, validator=_finite)  # negative = loss
    day_start_equity: Decimal = attrs.field(default=ZERO, validator=_finite)

    def __attrs_post_init__(self) -> None:
        if self.open_positions < 0:
            raise ValueError(f"open_positions must be >= 0, not {self.open_positions}")

    def to_json(self) -> dict[str, Any]:
        return {
            "equity": text(self.equity),
            "available": text(self.available),
            "open_positions": self.open_positions,
            "daily_pnl": text(self.daily_pnl),
            "day_start_equity": text(self.day_start_equity),
        }


@attrs.frozen
class CheckResult:
    code: str
    passed: bool
    limit: str | None
    actual: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "passed": self.passed,
            "limit": self.limit,
            "actual": self.actual,
            "message": self.message,
        }


@attrs.frozen
class RiskWarning:
    code: str
    message: str
    details: dict[str, str] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


@attrs.frozen
class Sizing:
    """The size of the trade and how it was reached."""

    quantity: Decimal  # on the lot grid
    risk_amount: Decimal  # quantity x stop distance; 0 without a stop (unbounded, no R)
    limiting_constraint: str  # one of CONSTRAINTS or "requested_quantity"
    candidates: dict[str, str]  # each applicable constraint's largest quantity (lot grid)
    stop_distance: Decimal | None
    stop_distance_percent: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": text(self.quantity),
            "risk_amount": text(self.risk_amount),
            "limiting_constraint": self.limiting_constraint,
            "candidates": dict(self.candidates),
            "stop_distance": opt(self.stop_distance),
            "stop_distance_percent": opt(self.stop_distance_percent),
        }


@attrs.frozen
class Decision:
    approved: bool
    checks: tuple[CheckResult, ...]
    failed: tuple[CheckResult, ...]
    warnings: tuple[RiskWarning, ...]
    sizing: Sizing | None
    entry_price: Decimal
    stop_price: Decimal | None
    targets: tuple[tuple[Decimal, Decimal], ...]  # (price, quantity), on the grid

    @property
    def quantity(self) -> Decimal | None:
        return None if self.sizing is None else self.sizing.quantity

    def check(self, code: str) -> CheckResult:
        """The result of the check named ``code``."""
        for result in self.checks:
            if result.code == code:
                return result
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "quantity": opt(self.quantity),
            "entry_price": text(self.entry_price),
            "stop_price": opt(self.stop_price),
            "targets": [{"price": text(p), "quantity": text(q)} for p, q in self.targets],
            "sizing": None if self.sizing is None else self.sizing.to_json(),
            "checks": [c.to_json() for c in self.checks],
            "failed": [c.to_json() for c in self.failed],
            "warnings": [w.to_json() for w in self.warnings],
        }


def decision_inputs(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market
) -> dict[str, Any]:
    """Everything ``evaluate`` saw, as JSON (for the decision record)."""
    return {
        "config": config.to_json(),
        "request": request.to_json(),
        "account": account.to_json(),
        "market": market.to_json(),
    }


def passed(
    code: str, message: str, limit: str | None = None, actual: str | None = None
) -> CheckResult:
    """A check that passed."""
    return CheckResult(code, True, limit, actual, message)


def failed(
    code: str, message: str, limit: str | None = None, actual: str | None = None
) -> CheckResult:
    """A check that failed."""
    return CheckResult(code, False, limit, actual, message)


def skipped(code: str, reason: str) -> CheckResult:
    """A check that cannot be computed because another one failed (it passes, saying why)."""
    return CheckResult(code, True, None, None, f"skipped: {reason}")
