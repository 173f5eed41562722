"""How Bybit writes numbers: prices on the tick's decimals, quantities on the step's,
amounts of USDT without trailing zeros (at most 8 decimals)."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.instruments import Instrument
from testudo.sim.money import fixed, plain, quantize

MONEY_QUANTUM = Decimal("0.00000001")


def decimals(step: Decimal) -> int:
    """Decimals shown for values on a ``step`` grid as written (``0.10`` -> 2)."""
    exponent = step.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def price_text(instrument: Instrument, value: Decimal) -> str:
    """A price with the instrument's ``priceScale`` decimals (``50000.10``)."""
    return fixed(value, decimals(instrument.tick_size))


def qty_text(instrument: Instrument, value: Decimal) -> str:
    """A quantity with the decimals of the instrument's ``qtyStep`` (``0.010``)."""
    return fixed(value, decimals(instrument.lot_size))


def money(value: Decimal) -> str:
    """An amount of USDT rounded to 1e-8, trailing zeros dropped (``9984.94``)."""
    return plain(quantize(value, MONEY_QUANTUM))


def ms(value: int) -> str:
    """A millisecond timestamp as Bybit writes it in lists (a string)."""
    return str(value)
