"""Pure one-way position arithmetic shared by the engine and the history generator."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from testudo.sim.money import ZERO, quantize

PNL_QUANTUM = Decimal("0.00000001")


class FillEffect(NamedTuple):
    """What one fill does to a position (a tuple: it is built on every fill)."""

    size: Decimal
    entry_price: Decimal
    realized_pnl: Decimal


def apply_fill(size: Decimal, entry: Decimal, signed_qty: Decimal, price: Decimal) -> FillEffect:
    """Apply a fill of ``signed_qty`` (+ buy, - sell) at ``price`` to a position.

    Adding to a position averages the entry price; reducing realises
    ``(price - entry) * closed * direction`` (rounded to 1e-8); crossing zero closes the
    old position and opens the remainder at ``price``.
    """
    if signed_qty == 0:
        return FillEffect(size, entry, ZERO)
    if size == 0 or (size > 0) == (signed_qty > 0):
        new_size = size + signed_qty
        new_entry = (abs(size) * entry + abs(signed_qty) * price) / abs(new_size)
        return FillEffect(new_size, new_entry, ZERO)
    closed = min(abs(size), abs(signed_qty))
    direction = 1 if size > 0 else -1
    realized = quantize((price - entry) * closed * direction, PNL_QUANTUM)
    new_size = size + signed_qty
    if new_size == 0:
        return FillEffect(ZERO, ZERO, realized)
    if (new_size > 0) == (size > 0):
        return FillEffect(new_size, entry, realized)
    return FillEffect(new_size, price, realized)


def exposure_increase(size: Decimal, signed_qty: Decimal) -> Decimal:
    """How much of an order of ``signed_qty`` adds to the absolute position."""
    if size == 0 or (size > 0) == (signed_qty > 0):
        return abs(signed_qty)
    return max(ZERO, abs(signed_qty) - abs(size))


def unrealized_pnl(size: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    """Profit of closing the position at ``mark``."""
    return (mark - entry) * size
