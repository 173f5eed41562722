"""Decimal helpers: parsing and rounding to a step; wire formatting is :func:`plain`, the one
formatter of the code base (:func:`testudo.money.text`) under the simulator's name."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

from testudo.money import text

ZERO = Decimal(0)
ONE = Decimal(1)


def parse_decimal(value: object) -> Decimal:
    """Parse a wire value (str, int or float) into a finite Decimal; raise ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


#: Without exponent and without trailing zeros (``"50000"``, ``"0.015"``).
plain = text


def fixed(value: Decimal, places: int) -> str:
    """Format with exactly ``places`` decimals (banker's rounding)."""
    quantum = Decimal(1).scaleb(-places)
    result = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if result == 0:
        result = abs(result)
    return format(result, "f")


def places_of(step: Decimal) -> int:
    """Number of decimals a step size has (``0.001`` → 3, ``1`` → 0)."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of ``step``."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Round up to a multiple of ``step``."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Round to the nearest multiple of ``step``."""
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is an exact multiple of ``step``."""
    return (value % step) == 0


def quantize(value: Decimal, quantum: Decimal) -> Decimal:
    """Round to ``quantum`` (banker's rounding), keeping the quantum's exponent."""
    return value.quantize(quantum, rounding=ROUND_HALF_EVEN)
