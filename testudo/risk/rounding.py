"""Prices and quantities onto the market's grid, never past a limit.

* entry price: long down, short up (never a worse price than asked);
* stop price: away from the entry (long down, short up), so the stop is never tighter than
  asked; the size comes from the rounded, wider distance, so the risk stays in budget;
* target prices: towards the entry (long down, short up), so the reward used for the
  reward:risk ratio is never overstated and a target is never further than asked;
* quantities: down to the lot size, always.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from testudo.sides import is_long

from .figures import DOWN, UP


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value``."""
    units = DOWN.divide(value, step).to_integral_value(rounding=ROUND_FLOOR)
    return DOWN.multiply(units, step)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of ``step`` not below ``value``."""
    units = UP.divide(value, step).to_integral_value(rounding=ROUND_CEILING)
    return UP.multiply(units, step)


def round_entry(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Long: down, short: up — never a worse entry than asked."""
    return floor_to_step(price, tick) if is_long(side) else ceil_to_step(price, tick)


def round_stop(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Away from the entry (long: down, short: up) — never a tighter stop than asked."""
    return floor_to_step(price, tick) if is_long(side) else ceil_to_step(price, tick)


def round_target(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """Towards the entry (long: down, short: up) — never a larger reward than asked."""
    return floor_to_step(price, tick) if is_long(side) else ceil_to_step(price, tick)
