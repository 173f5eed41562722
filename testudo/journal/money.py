"""Decimal helpers for the journal: rounding of derived figures.

Figures leave as wire strings through :func:`testudo.money.wire` (one formatter for the whole
code base)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
PRICE_STEP = Decimal("1e-10")
RATIO_STEP = Decimal("1e-8")
FEE_STEP = Decimal("1e-12")


def round_price(value: Decimal) -> Decimal:
    """An average price, rounded to 10 decimals (averages rarely divide exactly)."""
    return value.quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


def round_ratio(value: Decimal) -> Decimal:
    """A ratio (percentage, R-multiple), rounded to 8 decimals."""
    return value.quantize(RATIO_STEP, rounding=ROUND_HALF_EVEN)


def round_fee(value: Decimal) -> Decimal:
    """A share of a fee, rounded to 1e-12 (the rest of the fee goes to the other share)."""
    return value.quantize(FEE_STEP, rounding=ROUND_HALF_EVEN)
