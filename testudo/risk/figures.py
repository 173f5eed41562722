"""The Decision Loop's numbers: exact arithmetic contexts and the figures written in reports.

Arithmetic runs at 60 significant digits: :data:`DOWN` (towards minus infinity) for sizes,
:data:`UP` (towards plus infinity) for requirements such as risk and margin, so no rounding of
an intermediate value lets a size exceed its true limit. Figures leave as canonical strings
(:func:`testudo.money.text`), memoised by value.
"""

from __future__ import annotations

import functools
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

from testudo.money import text as _canonical

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# Equal decimals have one canonical text, so the wire form can be memoised by value; the loop
# renders ~50 figures per evaluation, most of them the same few prices and limits.
text = functools.lru_cache(maxsize=4096)(_canonical)

DOWN = Context(prec=60, rounding=ROUND_FLOOR)
UP = Context(prec=60, rounding=ROUND_CEILING)
_SHOW_PLACES = Decimal("1e-8")
_RATIO_PLACES = Decimal("1e-4")


def opt(value: Decimal | None) -> str | None:
    """The canonical text, or None."""
    return None if value is None else text(value)


def raw(value: Decimal) -> str:
    """The canonical text of a finite value; ``NaN``/``Infinity`` as Python writes them."""
    return text(value) if value.is_finite() else str(value)


def show(value: Decimal, *, up: bool = False) -> str:
    """A figure for messages: exact when short, else 8 places (rounded against the trader)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -8:
        return text(value)
    return text(value.quantize(_SHOW_PLACES, context=UP if up else DOWN))


def ratio(value: Decimal) -> Decimal:
    """Percentages and ratios for reports: 4 places, rounded down."""
    return value.quantize(_RATIO_PLACES, context=DOWN)


def valid_positive(value: Decimal | None) -> bool:
    """Whether ``value`` is a finite number above 0."""
    return value is not None and value.is_finite() and value > 0
