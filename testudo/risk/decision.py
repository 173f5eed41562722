"""The Decision Loop (reference sections 4.4 and 4.5): pure functions over attrs values.

``evaluate(config, request, account, market)`` runs every check (it never stops at the first
failure), sizes the trade with the four constraints of section 4.5a, rounds prices and
quantities to the market's grid and returns a :class:`Decision`. No I/O, Decimal only.

Checks, always all of them, always in this order (``docs/risk.md``):

1. ``order_values``        the request's numbers and words make sense (positive prices and
                           quantities, leverage >= 1, side buy/sell, entry type limit/market)
2. ``stop_side``           long: stop < entry, short: stop > entry (after rounding)
3. ``targets``             long: every target > entry, short: < entry; target quantities on the
                           lot grid, positive, summing to at most the position
4. ``stop_loss_required``  reference 4.4 step 1
5. ``leverage``            step 2 (the risk config's maximum, and the market's)
6. ``max_open_positions``  step 3
7. ``daily_drawdown``      step 4
8. ``risk_reward``         step 5 (quantity-weighted average target)
9. ``position_size``       step 6: the four constraints, smallest wins
10. ``max_position_size``  step 7
11. ``max_risk_amount``    step 8
12. ``margin``             step 9
13. ``min_quantity``       the market's minimum order quantity (entry and every target)
14. ``min_notional``       the market's minimum order value

Checks 1-3 are Testudo's additions (the original raised or silently accepted such requests);
4-12 are the reference's steps in the reference's order. A check that does not apply (no stop
allowed, no targets, cap not set) passes with a message saying so; a check whose inputs are
invalid because another check failed passes with a message starting ``skipped:`` (the root
cause is already a failed check, so the decision is rejected anyway and the list of failures
stays free of echoes).

Rounding (never past a limit):

* entry price: long down, short up (never a worse price than asked);
* stop price: away from the entry (long down, short up), so the stop is never tighter than
  asked; the size is computed from the rounded, wider distance, so the risk stays in budget;
* target prices: towards the entry (long down, short up), so the reward used for R:R is never
  overstated and a target is never further than asked;
* quantities: down to the lot size, always, and every constraint's size is rounded down too;
* divisions for sizes round down, products and divisions for requirements (risk, margin) round
  up, at 60 significant digits, so a computed size never exceeds its true limit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from typing import Any

import attrs

from testudo.money import text as _canonical

from .config import RiskConfig

BUY, SELL = "buy", "sell"
ENTRY_TYPES = ("limit", "market")
TARGET_ORDER_TYPES = ("limit", "market")

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
CONSTRAINTS = ("account_risk_percent", "max_risk_amount", "max_position_size", "margin_capacity")

TIGHT_STOP_PERCENT = Decimal("0.5")
WIDE_STOP_PERCENT = Decimal(5)
APPROACHING_DRAWDOWN = Decimal("0.8")
LARGE_POSITION_PERCENT = Decimal(50)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# Equal decimals have one canonical text, so the wire form can be memoised by value; the loop
# renders ~50 figures per evaluation, most of them the same few prices and limits.
text = functools.lru_cache(maxsize=4096)(_canonical)

_DOWN = Context(prec=60, rounding=ROUND_FLOOR)
_UP = Context(prec=60, rounding=ROUND_CEILING)
_SHOW_PLACES = Decimal("1e-8")
_RATIO_PLACES = Decimal("1e-4")


# --- values --------------------------------------------------------------------------------


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
            "max_leverage": _opt(self.max_leverage),
        }


@attrs.frozen
class TargetRequest:
    """One take-profit: a price and a quantity (None: an equal share of what is left)."""

    price: Decimal
    quantity: Decimal | None = None
    order_type: str = "limit"

    def to_json(self) -> dict[str, Any]:
        return {
            "price": _raw(self.price),
            "quantity": None if self.quantity is None else _raw(self.quantity),
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
            "entry_price": _raw(self.entry_price),
            "stop_price": None if self.stop_price is None else _raw(self.stop_price),
            "targets": [t.to_json() for t in self.targets],
            "quantity": None if self.quantity is None else _raw(self.quantity),
            "leverage": _raw(self.leverage),
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
            "stop_distance": _opt(self.stop_distance),
            "stop_distance_percent": _opt(self.stop_distance_percent),
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
            "quantity": _opt(self.quantity),
            "entry_price": text(self.entry_price),
            "stop_price": _opt(self.stop_price),
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


# --- number helpers ------------------------------------------------------------------------


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else text(value)


def _raw(value: Decimal) -> str:
    return text(value) if value.is_finite() else str(value)


def _show(value: Decimal, *, up: bool = False) -> str:
    """A figure for messages: exact when short, else 8 places (rounded against the trader)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -8:
        return text(value)
    return text(value.quantize(_SHOW_PLACES, context=_UP if up else _DOWN))


def _ratio(value: Decimal) -> Decimal:
    """Percentages and ratios for reports: 4 places, rounded down."""
    return value.quantize(_RATIO_PLACES, context=_DOWN)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value``."""
    units = _DOWN.divide(value, step).to_integral_value(rounding=ROUND_FLOOR)
    return _DOWN.multiply(units, step)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of ``step`` not below ``value``."""
    units = _UP.divide(value, step).to_integral_value(rounding=ROUND_CEILING)
    return _UP.multiply(units, step)


def normalise_side(side: str) -> str | None:
    """``buy``/``long`` → ``buy``, ``sell``/``short`` → ``sell``, anything else → None."""
    value = side.strip().lower()
    if value in (BUY, "long"):
        return BUY
    if value in (SELL, "short"):
        return SELL
    return None


def round_entry(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Long: down, short: up — never a worse entry than asked."""
    return floor_to_step(price, tick) if side == BUY else ceil_to_step(price, tick)


def round_stop(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Away from the entry (long: down, short: up) — never a tighter stop than asked."""
    return floor_to_step(price, tick) if side == BUY else ceil_to_step(price, tick)


def round_target(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Towards the entry (long: down, short: up) — never a larger reward than asked."""
    return floor_to_step(price, tick) if side == BUY else ceil_to_step(price, tick)


def _valid_positive(value: Decimal | None) -> bool:
    return value is not None and value.is_finite() and value > 0


def drawdown_percent(account: AccountState) -> Decimal:
    """Today's loss as a percentage of the day's starting equity (0 without a loss)."""
    if account.daily_pnl >= 0 or account.day_start_equity <= 0:
        return ZERO
    return _UP.divide(_UP.multiply(-account.daily_pnl, HUNDRED), account.day_start_equity)


def risk_of_stop(
    side: str, entry_price: Decimal, stop_price: Decimal, quantity: Decimal
) -> Decimal:
    """What is lost if the stop fills: the adverse distance times quantity (0 past break-even)."""
    adverse = entry_price - stop_price if side == BUY else stop_price - entry_price
    return _UP.multiply(max(adverse, ZERO), max(quantity, ZERO))


def risk_budget(config: RiskConfig, account: AccountState) -> Decimal:
    """The most one trade may risk: account_risk_percent of equity, capped by max_risk_amount."""
    budget = max(
        _DOWN.divide(_DOWN.multiply(account.equity, config.account_risk_percent), HUNDRED), ZERO
    )
    if config.max_risk_amount is not None:
        budget = min(budget, config.max_risk_amount)
    return budget


# --- the loop ------------------------------------------------------------------------------


def _passed(
    code: str, message: str, limit: str | None = None, actual: str | None = None
) -> CheckResult:
    return CheckResult(code, True, limit, actual, message)


def _failed(
    code: str, message: str, limit: str | None = None, actual: str | None = None
) -> CheckResult:
    return CheckResult(code, False, limit, actual, message)


def _skipped(code: str, reason: str) -> CheckResult:
    return CheckResult(code, True, None, None, f"skipped: {reason}")


@attrs.define
class _Targets:
    prices: list[Decimal]
    quantities: list[Decimal]
    errors: list[str]


def _order_problems(request: TradeRequest, side: str | None) -> list[str]:
    problems: list[str] = []
    if side is None:
        problems.append(f"side must be buy or sell, not {request.side!r}")
    if request.entry_type not in ENTRY_TYPES:
        problems.append(f"entry type must be limit or market, not {request.entry_type!r}")
    if not _valid_positive(request.entry_price):
        problems.append(f"entry price must be a positive number, not {_raw(request.entry_price)}")
    if request.stop_price is not None and not _valid_positive(request.stop_price):
        problems.append(f"stop price must be a positive number, not {_raw(request.stop_price)}")
    if request.quantity is not None and not _valid_positive(request.quantity):
        problems.append(f"quantity must be a positive number, not {_raw(request.quantity)}")
    if not request.leverage.is_finite() or request.leverage < 1:
        problems.append(f"leverage must be at least 1, not {_raw(request.leverage)}")
    for number, target in enumerate(request.targets, 1):
        if not _valid_positive(target.price):
            problems.append(
                f"target {number} price must be a positive number, not {_raw(target.price)}"
            )
        if target.quantity is not None and not _valid_positive(target.quantity):
            problems.append(
                f"target {number} quantity must be a positive number, not {_raw(target.quantity)}"
            )
        if target.order_type not in TARGET_ORDER_TYPES:
            problems.append(
                f"target {number} order type must be limit or market, not {target.order_type!r}"
            )
    return problems


def _split_targets(
    request: TradeRequest,
    side: str,
    entry: Decimal,
    quantity: Decimal | None,
    market: Market,
) -> _Targets:
    """Target prices on the grid, their quantities, and everything wrong with them."""
    lot = market.lot_size
    long = side == BUY
    prices = [round_target(side, t.price, market.tick_size) for t in request.targets]
    errors: list[str] = []
    for number, (target, price) in enumerate(zip(request.targets, prices, strict=True), 1):
        beyond = price > entry if long else price < entry
        if not beyond:
            where = "above" if long else "below"
            shown = text(price) if price == target.price else f"{text(price)} after rounding"
            errors.append(f"target {number} ({shown}) must be {where} the entry {text(entry)}")
    given = [
        None if t.quantity is None else floor_to_step(t.quantity, lot) for t in request.targets
    ]
    for number, (target, amount) in enumerate(zip(request.targets, given, strict=True), 1):
        if amount is not None and amount <= 0 and target.quantity is not None:
            errors.append(
                f"target {number} quantity {text(target.quantity)} rounds down to 0 "
                f"at the lot size {text(lot)}"
            )
    fixed = sum((g for g in given if g is not None), ZERO)
    open_slots = [i for i, g in enumerate(given) if g is None]
    quantities = [ZERO if g is None else g for g in given]
    if quantity is None:
        return _Targets(prices, quantities, errors)
    if fixed > quantity:
        errors.append(
            f"target quantities add up to {text(fixed)}, more than the position {text(quantity)}"
        )
    elif open_slots:
        remainder = quantity - fixed
        share = floor_to_step(_DOWN.divide(remainder, Decimal(len(open_slots))), lot)
        spare_lots = int(_DOWN.divide(remainder - share * len(open_slots), lot))
        for n, index in enumerate(open_slots):
            quantities[index] = share + (lot if n < spare_lots else ZERO)
        if any(quantities[i] <= 0 for i in open_slots):
            errors.append(
                f"{text(remainder)} left for {len(open_slots)} target(s) without a quantity "
                f"cannot be split in lots of {text(lot)}"
            )
    return _Targets(prices, quantities, errors)


def evaluate(
    config: RiskConfig, request: TradeRequest, account: AccountState, market: Market
) -> Decision:
    """Run the Decision Loop: every check, the size, the rounded order. Pure."""
    results: dict[str, CheckResult] = {}
    warnings: list[RiskWarning] = []
    side = normalise_side(request.side)
    long = side == BUY
    tick, lot = market.tick_size, market.lot_size

    # 1. order values -----------------------------------------------------------------------
    problems = _order_problems(request, side)
    entry_ok = side is not None and _valid_positive(request.entry_price)
    stop_given = request.stop_price is not None
    stop_valid = stop_given and _valid_positive(request.stop_price)
    targets_valid = all(
        _valid_positive(t.price) and (t.quantity is None or _valid_positive(t.quantity))
        for t in request.targets
    )
    quantity_valid = request.quantity is None or _valid_positive(request.quantity)
    leverage_valid = request.leverage.is_finite() and request.leverage >= 1

    # Prices on the tick grid.
    entry = request.entry_price
    stop: Decimal | None = request.stop_price
    rounded: list[str] = []
    if entry_ok:
        assert side is not None
        entry = round_entry(side, request.entry_price, tick)
        if entry <= 0:
            entry_ok = False
            problems.append(
                f"entry price {text(request.entry_price)} rounds down to 0 at the tick size "
                f"{text(tick)}"
            )
        elif entry != request.entry_price:
            rounded.append(f"entry {text(request.entry_price)} → {text(entry)}")
    if entry_ok and stop_valid and request.stop_price is not None:
        assert side is not None
        stop = round_stop(side, request.stop_price, tick)
        if stop != request.stop_price:
            rounded.append(f"stop {text(request.stop_price)} → {text(stop)}")
    results["order_values"] = (
        _failed("order_values", "; ".join(problems))
        if problems
        else _passed("order_values", "prices, quantities, leverage, side and entry type are valid")
    )

    # 2. stop side ---------------------------------------------------------------------------
    stop_ok = False
    distance: Decimal | None = None
    if not stop_given:
        results["stop_side"] = _passed("stop_side", "not applicable: no stop")
    elif not (entry_ok and stop_valid) or stop is None:
        results["stop_side"] = _skipped("stop_side", "the entry or stop price is invalid")
    elif stop <= 0:
        results["stop_side"] = _failed(
            "stop_side",
            f"the stop {_raw(request.stop_price or ZERO)} rounds down to 0 at the tick size "
            f"{text(tick)}",
            text(entry),
            text(stop),
        )
    else:
        wrong = stop >= entry if long else stop <= entry
        if stop == entry:
            results["stop_side"] = _failed(
                "stop_side",
                f"the stop {text(stop)} equals the entry: zero stop distance",
                text(entry),
                text(stop),
            )
        elif wrong:
            where = "below" if long else "above"
            results["stop_side"] = _failed(
                "stop_side",
                f"a {'long' if long else 'short'} stop must be {where} the entry {text(entry)}, "
                f"not {text(stop)}",
                text(entry),
                text(stop),
            )
        else:
            stop_ok = True
            distance = abs(entry - stop)
            results["stop_side"] = _passed(
                "stop_side",
                f"stop {text(stop)} is {'below' if long else 'above'} the entry",
                text(entry),
                text(stop),
            )

    # 5. leverage ------------------------------------------------------------------------------
    leverage_limit = config.max_leverage
    limit_source = "the risk config"
    if market.max_leverage is not None and market.max_leverage < leverage_limit:
        leverage_limit = market.max_leverage
        limit_source = f"market {market.symbol}"
    if not leverage_valid:
        results["leverage"] = _skipped("leverage", "the leverage is invalid")
    elif request.leverage > leverage_limit:
        results["leverage"] = _failed(
            "leverage",
            f"leverage {text(request.leverage)}x exceeds the maximum {text(leverage_limit)}x "
            f"({limit_source})",
            text(leverage_limit),
            text(request.leverage),
        )
    else:
        results["leverage"] = _passed(
            "leverage",
            f"leverage {text(request.leverage)}x within the maximum {text(leverage_limit)}x",
            text(leverage_limit),
            text(request.leverage),
        )
    leverage = max(ONE, min(request.leverage if leverage_valid else ONE, leverage_limit))

    # 4. stop required -----------------------------------------------------------------------
    if config.require_stop_loss and not stop_given:
        results["stop_loss_required"] = _failed(
            "stop_loss_required", "a stop loss is required by the risk config", "true", None
        )
    else:
        results["stop_loss_required"] = _passed(
            "stop_loss_required",
            "stop loss given" if stop_given else "no stop loss (allowed by the risk config)",
            "true" if config.require_stop_loss else "false",
            None if request.stop_price is None else _raw(request.stop_price),
        )

    # 6. open positions ----------------------------------------------------------------------
    maximum = config.max_open_positions
    if account.open_positions >= maximum:
        results["max_open_positions"] = _failed(
            "max_open_positions",
            f"{account.open_positions} positions open, the maximum is {maximum}",
            str(maximum),
            str(account.open_positions),
        )
    else:
        results["max_open_positions"] = _passed(
            "max_open_positions",
            f"{account.open_positions} of {maximum} positions open",
            str(maximum),
            str(account.open_positions),
        )

    # 7. daily drawdown ----------------------------------------------------------------------
    dd_limit = config.daily_max_drawdown_percent
    dd = drawdown_percent(account)
    shown_dd = text(_ratio(dd))
    if dd >= dd_limit:
        results["daily_drawdown"] = _failed(
            "daily_drawdown",
            f"today's drawdown {shown_dd}% reached the limit {text(dd_limit)}%",
            text(dd_limit),
            shown_dd,
        )
    else:
        results["daily_drawdown"] = _passed(
            "daily_drawdown",
            f"today's drawdown {shown_dd}% is below the limit {text(dd_limit)}%",
            text(dd_limit),
            shown_dd,
        )
        if dd >= APPROACHING_DRAWDOWN * dd_limit:
            warnings.append(
                RiskWarning(
                    "approaching_drawdown_limit",
                    f"today's drawdown {shown_dd}% is at least 80% of the limit {text(dd_limit)}%",
                    {"drawdown_percent": shown_dd, "limit_percent": text(dd_limit)},
                )
            )

    # 9. sizing ------------------------------------------------------------------------------
    sizing: Sizing | None = None
    requested: Decimal | None = None
    calculated: Decimal | None = None
    binding: str | None = None
    candidates: dict[str, Decimal] = {}
    if entry_ok:
        if stop_ok and distance is not None:
            budget = max(
                _DOWN.divide(_DOWN.multiply(account.equity, config.account_risk_percent), HUNDRED),
                ZERO,
            )
            candidates["account_risk_percent"] = floor_to_step(_DOWN.divide(budget, distance), lot)
            if config.max_risk_amount is not None:
                candidates["max_risk_amount"] = floor_to_step(
                    _DOWN.divide(config.max_risk_amount, distance), lot
                )
        if config.max_position_size is not None:
            candidates["max_position_size"] = floor_to_step(config.max_position_size, lot)
        capacity = _DOWN.divide(_DOWN.multiply(max(account.available, ZERO), leverage), entry)
        candidates["margin_capacity"] = floor_to_step(capacity, lot)
        calculated = min(candidates.values())
        binding = next(c for c in CONSTRAINTS if candidates.get(c) == calculated)
    shown_candidates = {name: text(value) for name, value in candidates.items()}

    final: Decimal | None = None
    if not entry_ok:
        results["position_size"] = _skipped("position_size", "the entry price or side is invalid")
    elif request.quantity is not None:
        if not quantity_valid:
            results["position_size"] = _skipped("position_size", "the quantity is invalid")
        elif stop_given and not stop_ok:
            results["position_size"] = _skipped("position_size", "the stop is invalid")
        else:
            assert calculated is not None and binding is not None
            requested = floor_to_step(request.quantity, lot)
            final = requested
            if requested != request.quantity:
                warnings.append(
                    RiskWarning(
                        "quantity_rounded",
                        f"quantity {text(request.quantity)} rounded down to {text(requested)} "
                        f"(lot size {text(lot)})",
                        {
                            "requested": text(request.quantity),
                            "quantity": text(requested),
                            "lot_size": text(lot),
                        },
                    )
                )
            exceeded = [c for c in CONSTRAINTS if c in candidates and requested > candidates[c]]
            if exceeded:
                listed = ", ".join(f"{c} allows {text(candidates[c])}" for c in exceeded)
                results["position_size"] = _failed(
                    "position_size",
                    f"quantity {text(requested)} exceeds the largest size allowed, "
                    f"{text(calculated)} ({listed})",
                    text(calculated),
                    text(requested),
                )
                if calculated > 0:
                    warnings.append(
                        RiskWarning(
                            "size_above_calculated",
                            f"requested quantity {text(requested)} is above the calculated size "
                            f"{text(calculated)} (limited by {binding})",
                            {
                                "requested": text(requested),
                                "calculated": text(calculated),
                                "limiting_constraint": binding,
                            },
                        )
                    )
            else:
                note = "" if stop_ok else " (no stop: the risk constraints do not apply)"
                results["position_size"] = _passed(
                    "position_size",
                    f"quantity {text(requested)} within the largest size allowed, "
                    f"{text(calculated)}{note}",
                    text(calculated),
                    text(requested),
                )
                binding = "requested_quantity"
    elif not stop_given:
        results["position_size"] = _failed(
            "position_size",
            "cannot size the trade without a stop: give a stop loss or a quantity",
        )
    elif not stop_ok:
        results["position_size"] = _skipped("position_size", "the stop is invalid")
    else:
        assert calculated is not None and binding is not None
        final = calculated
        if calculated <= 0:
            results["position_size"] = _failed(
                "position_size",
                f"no quantity fits: the largest size allowed is 0 (limited by {binding}, "
                f"lot size {text(lot)})",
                text(calculated),
                text(calculated),
            )
        else:
            results["position_size"] = _passed(
                "position_size",
                f"sized at {text(calculated)} (limited by {binding})",
                text(calculated),
                text(calculated),
            )

    risk_amount: Decimal | None = None
    if final is not None:
        assert binding is not None
        risk_amount = _UP.multiply(final, distance) if distance is not None else ZERO
        percent = (
            _ratio(_DOWN.multiply(_DOWN.divide(distance, entry), HUNDRED))
            if distance is not None
            else None
        )
        sizing = Sizing(final, risk_amount, binding, shown_candidates, distance, percent)

    # 3. targets (need the final quantity) ---------------------------------------------------
    target_prices: list[Decimal] = [t.price for t in request.targets]
    target_quantities: list[Decimal] = [t.quantity or ZERO for t in request.targets]
    targets_ok = False
    if not request.targets:
        results["targets"] = _passed("targets", "not applicable: no take-profit targets")
    elif not (entry_ok and targets_valid):
        results["targets"] = _skipped("targets", "the entry or a target is invalid")
    else:
        assert side is not None
        sized = final if final is not None and final > 0 else None
        split = _split_targets(request, side, entry, sized, market)
        target_prices, target_quantities = split.prices, split.quantities
        for original, price in zip(request.targets, target_prices, strict=True):
            if price != original.price:
                rounded.append(f"target {text(original.price)} → {text(price)}")
        total = sum(target_quantities, ZERO)
        if split.errors:
            results["targets"] = _failed(
                "targets",
                "; ".join(split.errors),
                None if final is None else text(final),
                text(total),
            )
        else:
            targets_ok = True
            results["targets"] = _passed(
                "targets",
                f"{len(target_prices)} target(s) {'above' if long else 'below'} the entry"
                + ("" if final is None else f", {text(total)} of {text(final)} covered"),
                None if final is None else text(final),
                text(total),
            )
    if rounded:
        warnings.insert(
            0,
            RiskWarning(
                "prices_rounded",
                f"prices moved to the tick size {text(tick)}: " + ", ".join(rounded),
                {"tick_size": text(tick)},
            ),
        )

    # 8. reward:risk -------------------------------------------------------------------------
    minimum = config.min_risk_reward_ratio
    if not request.targets or not stop_given:
        missing = "no take-profit target" if not request.targets else "no stop"
        results["risk_reward"] = _passed(
            "risk_reward", f"not applicable: {missing}", text(minimum), None
        )
    elif not (stop_ok and targets_ok) or distance is None:
        results["risk_reward"] = _skipped("risk_reward", "the stop or a target is invalid")
    else:
        weights = (
            target_quantities
            if all(q > 0 for q in target_quantities)
            else [ONE] * len(target_prices)
        )
        context = _DOWN if long else _UP
        weighted = sum(
            (context.multiply(p, w) for p, w in zip(target_prices, weights, strict=True)), ZERO
        )
        average = context.divide(weighted, sum(weights, ZERO))
        reward = average - entry if long else entry - average
        ratio = _DOWN.divide(reward, distance)
        shown = text(_ratio(ratio))
        if minimum > 0 and ratio < minimum:
            results["risk_reward"] = _failed(
                "risk_reward",
                f"reward:risk {shown} is below the minimum {text(minimum)} "
                f"(average target {_show(average, up=not long)}, stop distance {text(distance)})",
                text(minimum),
                shown,
            )
        else:
            results["risk_reward"] = _passed(
                "risk_reward",
                f"reward:risk {shown} (minimum {text(minimum)})"
                if minimum > 0
                else f"reward:risk {shown} (no minimum)",
                text(minimum),
                shown,
            )

    # 10. max position size -----------------------------------------------------------------
    cap = config.max_position_size
    if cap is None:
        results["max_position_size"] = _passed("max_position_size", "no cap set")
    elif final is None:
        results["max_position_size"] = _skipped("max_position_size", "no quantity")
    elif final > cap:
        results["max_position_size"] = _failed(
            "max_position_size",
            f"quantity {text(final)} exceeds the maximum position size {text(cap)}",
            text(cap),
            text(final),
        )
    else:
        results["max_position_size"] = _passed(
            "max_position_size",
            f"quantity {text(final)} within the maximum position size {text(cap)}",
            text(cap),
            text(final),
        )

    # 11. max risk amount -------------------------------------------------------------------
    risk_cap = config.max_risk_amount
    if risk_cap is None:
        results["max_risk_amount"] = _passed(
            "max_risk_amount",
            "no cap set",
            None,
            None if risk_amount is None else _show(risk_amount, up=True),
        )
    elif final is None or risk_amount is None:
        results["max_risk_amount"] = _skipped("max_risk_amount", "no quantity")
    elif not stop_given:
        results["max_risk_amount"] = _failed(
            "max_risk_amount",
            f"without a stop the risk is unbounded, above the maximum {text(risk_cap)}",
            text(risk_cap),
            None,
        )
    elif risk_amount > risk_cap:
        results["max_risk_amount"] = _failed(
            "max_risk_amount",
            f"risk {_show(risk_amount, up=True)} exceeds the maximum {text(risk_cap)}",
            text(risk_cap),
            _show(risk_amount, up=True),
        )
    else:
        results["max_risk_amount"] = _passed(
            "max_risk_amount",
            f"risk {_show(risk_amount, up=True)} within the maximum {text(risk_cap)}",
            text(risk_cap),
            _show(risk_amount, up=True),
        )

    # Stop-width warnings ride with the risk amount (reference step 8).
    if sizing is not None and sizing.stop_distance_percent is not None and distance is not None:
        exact_percent = _DOWN.multiply(_DOWN.divide(distance, entry), HUNDRED)
        shown_pct = text(sizing.stop_distance_percent)
        if exact_percent < TIGHT_STOP_PERCENT:
            warnings.append(
                RiskWarning(
                    "tight_stop",
                    f"the stop is {shown_pct}% from the entry, under {text(TIGHT_STOP_PERCENT)}%: "
                    "noise may stop the trade out",
                    {
                        "stop_distance_percent": shown_pct,
                        "threshold_percent": text(TIGHT_STOP_PERCENT),
                    },
                )
            )
        elif exact_percent > WIDE_STOP_PERCENT:
            warnings.append(
                RiskWarning(
                    "wide_stop",
                    f"the stop is {shown_pct}% from the entry, over {text(WIDE_STOP_PERCENT)}%",
                    {
                        "stop_distance_percent": shown_pct,
                        "threshold_percent": text(WIDE_STOP_PERCENT),
                    },
                )
            )

    # 12. margin ----------------------------------------------------------------------------
    if final is None:
        results["margin"] = _skipped("margin", "no quantity")
    else:
        required = _UP.divide(_UP.multiply(final, entry), leverage)
        shown_required = _show(required, up=True)
        if required > account.available:
            results["margin"] = _failed(
                "margin",
                f"margin {shown_required} at {text(leverage)}x exceeds the available "
                f"{text(account.available)}",
                text(account.available),
                shown_required,
            )
        else:
            results["margin"] = _passed(
                "margin",
                f"margin {shown_required} at {text(leverage)}x within the available "
                f"{text(account.available)}",
                text(account.available),
                shown_required,
            )

    # 13-14. market minimums ----------------------------------------------------------------
    if final is None or (final == 0 and request.quantity is None):
        reason = "no quantity" if final is None else "no quantity fits (see position_size)"
        results["min_quantity"] = _skipped("min_quantity", reason)
        results["min_notional"] = _skipped("min_notional", reason)
    else:
        small = [
            f"target {n} quantity {text(q)}"
            for n, q in enumerate(target_quantities, 1)
            if targets_ok and q < market.min_qty
        ]
        if final <= 0 or final < market.min_qty:
            small.insert(0, f"quantity {text(final)}")
        if small:
            results["min_quantity"] = _failed(
                "min_quantity",
                f"{', '.join(small)} below the market minimum {text(market.min_qty)} "
                f"(or not positive)",
                text(market.min_qty),
                text(final),
            )
        else:
            results["min_quantity"] = _passed(
                "min_quantity",
                f"quantity {text(final)} at or above the market minimum {text(market.min_qty)}",
                text(market.min_qty),
                text(final),
            )
        notional = _DOWN.multiply(final, entry)
        if final <= 0:
            results["min_notional"] = _skipped("min_notional", "the quantity is 0 (min_quantity)")
        elif notional < market.min_notional:
            results["min_notional"] = _failed(
                "min_notional",
                f"order value {text(notional)} below the market minimum "
                f"{text(market.min_notional)}",
                text(market.min_notional),
                text(notional),
            )
        else:
            results["min_notional"] = _passed(
                "min_notional",
                f"order value {text(notional)} at or above the market minimum "
                f"{text(market.min_notional)}",
                text(market.min_notional),
                text(notional),
            )

    # Non-blocking warnings (reference step 10).
    if final is not None and final > 0 and account.equity > 0:
        value = _DOWN.multiply(final, entry)
        share = _DOWN.divide(_DOWN.multiply(value, HUNDRED), account.equity)
        if share > LARGE_POSITION_PERCENT:
            warnings.append(
                RiskWarning(
                    "large_position",
                    f"the position value {text(value)} is {text(_ratio(share))}% of the equity "
                    f"{text(account.equity)} (over {text(LARGE_POSITION_PERCENT)}%)",
                    {
                        "position_value": text(value),
                        "equity": text(account.equity),
                        "percent_of_equity": text(_ratio(share)),
                    },
                )
            )
    if (
        risk_amount is not None
        and risk_amount > 0
        and account.day_start_equity > 0
        and dd < dd_limit
    ):
        allowed_loss = _DOWN.divide(_DOWN.multiply(dd_limit, account.day_start_equity), HUNDRED)
        headroom = allowed_loss - max(-account.daily_pnl, ZERO)
        if risk_amount > headroom:
            warnings.append(
                RiskWarning(
                    "risk_exceeds_drawdown_headroom",
                    f"if the stop fills, the loss {_show(risk_amount, up=True)} takes today past "
                    f"the daily drawdown limit (headroom {_show(headroom)})",
                    {"risk_amount": _show(risk_amount, up=True), "headroom": _show(headroom)},
                )
            )

    checks = tuple(results[code] for code in CHECK_ORDER)
    failed = tuple(c for c in checks if not c.passed)
    return Decision(
        approved=not failed,
        checks=checks,
        failed=failed,
        warnings=tuple(warnings),
        sizing=sizing,
        entry_price=entry,
        stop_price=stop if stop_given else None,
        targets=tuple(zip(target_prices, target_quantities, strict=True)),
    )


def stop_change_allowed(
    config: RiskConfig,
    account: AccountState,
    side: str,
    entry_price: Decimal,
    remaining_quantity: Decimal,
    new_stop: Decimal,
    *,
    current_stop: Decimal | None = None,
    mark_price: Decimal | None = None,
) -> CheckResult:
    """May the stop of an open position move to ``new_stop``? (``PUT /trades/{id}/sl``)

    Allowed when the risk at the new stop (adverse distance from the entry times the remaining
    quantity; 0 once the stop locks in profit) is within :func:`risk_budget`, or when it is no
    larger than the risk at ``current_stop`` (tightening is always allowed, even after the
    equity has fallen). With ``mark_price`` the stop must also be on the protective side of the
    current price (long: below, short: above), or it would trigger at once.
    """
    normal = normalise_side(side)
    code = "stop_change"
    if normal is None:
        return _failed(code, f"side must be buy or sell, not {side!r}")
    if not _valid_positive(new_stop):
        return _failed(code, f"the stop must be a positive number, not {_raw(new_stop)}")
    long = normal == BUY
    if mark_price is not None and _valid_positive(mark_price):
        wrong = new_stop >= mark_price if long else new_stop <= mark_price
        if wrong:
            where = "below" if long else "above"
            return _failed(
                code,
                f"a {'long' if long else 'short'} stop must be {where} the current price "
                f"{text(mark_price)}, not {text(new_stop)}",
                text(mark_price),
                text(new_stop),
            )
    risk = risk_of_stop(normal, entry_price, new_stop, remaining_quantity)
    budget = risk_budget(config, account)
    shown = _show(risk, up=True)
    if risk <= budget:
        return _passed(
            code,
            f"risk at the new stop {shown} within the limit {_show(budget)}",
            _show(budget),
            shown,
        )
    if current_stop is not None and _valid_positive(current_stop):
        before = risk_of_stop(normal, entry_price, current_stop, remaining_quantity)
        if risk <= before:
            return _passed(
                code,
                f"risk at the new stop {shown} is above the limit {_show(budget)} but not above "
                f"the current {_show(before, up=True)}",
                _show(budget),
                shown,
            )
    return _failed(
        code,
        f"risk at the new stop {shown} exceeds the limit {_show(budget)}",
        _show(budget),
        shown,
    )


def failed_codes(checks: Iterable[CheckResult]) -> list[str]:
    """The codes of the failed checks, in order."""
    return [c.code for c in checks if not c.passed]
