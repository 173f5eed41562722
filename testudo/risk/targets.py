"""Take-profit targets: on the grid, beyond the entry, their quantities split on the lot grid.

Target prices round towards the entry (never a larger reward than asked) and must lie beyond
it (above for a long, below for a short). Targets without a quantity share what the explicit
ones leave of the position, equally, on the lot grid; leftover lots go one each to the first of
them, so the quantities add up to the position. The ``targets`` check needs the final quantity,
so it runs after sizing.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sides import beyond, target_where

from .figures import DOWN, ZERO, text
from .model import CheckResult, Market, TradeRequest, failed, passed, skipped
from .order import Order
from .rounding import floor_to_step, round_target

CODE = "targets"


@attrs.define
class SplitTargets:
    """Target prices on the grid, their quantities, and everything wrong with them."""

    prices: list[Decimal]
    quantities: list[Decimal]
    errors: list[str]


@attrs.frozen
class TargetsOutcome:
    """The ``targets`` check and the targets as they would be placed."""

    check: CheckResult
    prices: tuple[Decimal, ...]
    quantities: tuple[Decimal, ...]
    ok: bool = False  # the targets were split and are sound
    rounded: tuple[str, ...] = ()  # "target 52000.05 → 52000" notes for ``prices_rounded``


def side_errors(
    request: TradeRequest, side: str, entry: Decimal, prices: list[Decimal]
) -> list[str]:
    """A message for each target (on the grid) not beyond the entry."""
    errors: list[str] = []
    for number, (target, price) in enumerate(zip(request.targets, prices, strict=True), 1):
        if not beyond(side, price, entry):
            shown = text(price) if price == target.price else f"{text(price)} after rounding"
            where = target_where(side)
            errors.append(f"target {number} ({shown}) must be {where} the entry {text(entry)}")
    return errors


def share_out(
    quantities: list[Decimal], open_slots: list[int], remainder: Decimal, lot: Decimal
) -> None:
    """Give the targets without a quantity equal lots of ``remainder``; leftover lots go one
    each to the first of them (in place)."""
    share = floor_to_step(DOWN.divide(remainder, Decimal(len(open_slots))), lot)
    spare_lots = int(DOWN.divide(remainder - share * len(open_slots), lot))
    for n, index in enumerate(open_slots):
        quantities[index] = share + (lot if n < spare_lots else ZERO)


def split_targets(
    request: TradeRequest,
    side: str,
    entry: Decimal,
    quantity: Decimal | None,
    market: Market,
) -> SplitTargets:
    """Target prices on the grid, their quantities, and everything wrong with them."""
    lot = market.lot_size
    prices = [round_target(side, t.price, market.tick_size) for t in request.targets]
    errors = side_errors(request, side, entry, prices)
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
        return SplitTargets(prices, quantities, errors)
    if fixed > quantity:
        errors.append(
            f"target quantities add up to {text(fixed)}, more than the position {text(quantity)}"
        )
    elif open_slots:
        remainder = quantity - fixed
        share_out(quantities, open_slots, remainder, lot)
        if any(quantities[i] <= 0 for i in open_slots):
            errors.append(
                f"{text(remainder)} left for {len(open_slots)} target(s) without a quantity "
                f"cannot be split in lots of {text(lot)}"
            )
    return SplitTargets(prices, quantities, errors)


def place_targets(
    request: TradeRequest, market: Market, order: Order, final: Decimal | None
) -> TargetsOutcome:
    """The ``targets`` check over the final quantity (None: no quantity was settled)."""
    asked_prices = tuple(t.price for t in request.targets)
    asked_quantities = tuple(t.quantity or ZERO for t in request.targets)
    if not request.targets:
        return TargetsOutcome(passed(CODE, "not applicable: no take-profit targets"), (), ())
    if not (order.entry_ok and order.targets_valid) or order.side is None:
        check = skipped(CODE, "the entry or a target is invalid")
        return TargetsOutcome(check, asked_prices, asked_quantities)
    sized = final if final is not None and final > 0 else None
    split = split_targets(request, order.side, order.entry, sized, market)
    rounded = tuple(
        f"target {text(asked)} → {text(price)}"
        for asked, price in zip(asked_prices, split.prices, strict=True)
        if price != asked
    )
    total = text(sum(split.quantities, ZERO))
    position = None if final is None else text(final)
    if split.errors:
        check = failed(CODE, "; ".join(split.errors), position, total)
    else:
        covered = "" if final is None else f", {total} of {text(final)} covered"
        message = f"{len(split.prices)} target(s) {target_where(order.side)} the entry{covered}"
        check = passed(CODE, message, position, total)
    prices, quantities = tuple(split.prices), tuple(split.quantities)
    return TargetsOutcome(check, prices, quantities, not split.errors, rounded)
