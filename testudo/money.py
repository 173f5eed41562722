"""Money and quantities: ``Decimal`` inside, canonical strings on the wire.

ccxt's unified structures carry floats; they become Decimals through their shortest ``repr``
(the exact decimal the exchange sent, for any value a float can round-trip), and leave as
plain strings without exponent or trailing zeros (``"40000"``, ``"0.015"``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from an int, float, str or Decimal; None for None, "" or garbage."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None


def text(value: Decimal) -> str:
    """The canonical wire form: no exponent, no trailing zeros, every digit kept (``"40000"``,
    ``"0.015"``, ``"0"``). The one formatter of the code base: the journal and the simulator
    use it too."""
    if value == 0:
        return "0"
    plain = format(value, "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain


def wire(value: Any) -> str | None:
    """``text(to_decimal(value))``, or None."""
    number = to_decimal(value)
    return None if number is None else text(number)
