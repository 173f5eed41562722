"""The decimals a client may send: plain ASCII, bounded in magnitude and precision.

Python's ``Decimal`` accepts far more than a price or a quantity ever needs: exponents
(``"1E+1000000"``), any Unicode digit (``"١٢٣"``), underscores (``"1_000"``), thousands of
digits, ``NaN`` and ``Infinity``. Arithmetic on such values can be slow or raise deep inside an
actor, so every decimal coming from a request goes through :func:`parse_plain_decimal` first,
and anything else is refused at the edge, naming the field (docs/operations.md, "Limits").

Accepted: a JSON string of ASCII digits with an optional sign and one optional decimal point
(``"50000.5"``, ``"-0.25"``, ``".5"``; surrounding spaces are ignored), or a finite JSON number;
at most :data:`MAX_INTEGER_DIGITS` digits before the point and :data:`MAX_FRACTION_DIGITS`
after it (leading zeros of the integer part and trailing zeros of the fraction do not count).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

MAX_INTEGER_DIGITS = 18  # |value| < 10**18
MAX_FRACTION_DIGITS = 18  # the smallest step is 1e-18 (wei)
MAX_TEXT_LENGTH = 64  # checked before anything else looks at the text
PLAIN = re.compile(r"\A([+-]?)([0-9]*)(?:\.([0-9]*))?\Z")
JSON_PATTERN = r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$"


class NotPlainDecimal(ValueError):
    """The value is not an acceptable decimal; the message says why (shown to the client)."""


def _bounded(integer: str, fraction: str) -> None:
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise NotPlainDecimal(f"must be less than 10^{MAX_INTEGER_DIGITS} in magnitude")
    if len(fraction.rstrip("0")) > MAX_FRACTION_DIGITS:
        raise NotPlainDecimal(f"must have at most {MAX_FRACTION_DIGITS} decimal places")


def _from_text(raw: str) -> Decimal:
    if len(raw) > MAX_TEXT_LENGTH:
        raise NotPlainDecimal(f"must be at most {MAX_TEXT_LENGTH} characters")
    text = raw.strip(" \t")
    match = PLAIN.match(text)
    if match is None or not (match.group(2) or match.group(3)):
        raise NotPlainDecimal('must be a plain decimal of ASCII digits, like "50000.5"')
    _bounded(match.group(2), match.group(3) or "")
    return Decimal(text)


def _from_number(raw: int | float) -> Decimal:
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise NotPlainDecimal("must be a finite number")
        text = format(Decimal(repr(raw)), "f") if abs(raw) < 1e19 else "1" + "0" * 20
    else:
        text = str(raw) if abs(raw) < 10**19 else "1" + "0" * 20
    integer, _, fraction = text.lstrip("+-").partition(".")
    _bounded(integer, fraction)
    return Decimal(text)


def parse_plain_decimal(raw: Any) -> Decimal:
    """The Decimal of a client-sent value, or :class:`NotPlainDecimal` saying why not."""
    if isinstance(raw, bool):
        raise NotPlainDecimal("must be a number, not a boolean")
    if isinstance(raw, str):
        return _from_text(raw)
    if isinstance(raw, int | float):
        return _from_number(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise NotPlainDecimal("must be a finite number")
        if raw != 0 and not -MAX_TEXT_LENGTH < raw.adjusted() < MAX_TEXT_LENGTH:
            raise NotPlainDecimal("is out of range")
        return _from_text(format(raw, "f"))
    raise NotPlainDecimal("must be a decimal string (or a JSON number)")
