"""Parsers of setting values: text in, checked value out, ``ValueError`` saying what is wrong.

Each is the ``parse`` of rows in the settings table (:mod:`testudo.options`); the error text
follows the flag or variable's name in the one-line configuration error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from testudo.net import InvalidNetwork, Network, parse_networks

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def text(raw: str) -> str:
    """Any text, surrounding spaces removed."""
    return raw.strip()


def port(raw: str) -> int:
    """A TCP port, 0-65535 (0: any free port)."""
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"not a port number: {raw!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"port out of range: {value}")
    return value


def path(raw: str) -> Path:
    """A filesystem path (``~`` expanded)."""
    return Path(raw).expanduser()


def boolean(raw: str) -> bool:
    """true/false (also 1/0, yes/no, on/off, any case)."""
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"must be true or false, not {raw!r}")


def seconds(raw: str) -> float:
    """A finite, non-negative number of seconds."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number of seconds, not {raw!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError("must be a finite number of seconds >= 0")
    return value


def days(raw: str) -> float:
    """A finite, non-negative number of days."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number of days, not {raw!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError("must be a finite number of days >= 0")
    return value


def count(raw: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def fraction(maximum: str) -> Callable[[str], Decimal]:
    """A parser of a fraction in (0, ``maximum``] (``0.05`` = 5 %)."""
    top = Decimal(maximum)

    def parse(raw: str) -> Decimal:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise ValueError(f"must be a fraction such as 0.05, not {raw!r}") from None
        if not (value.is_finite() and Decimal(0) < value <= top):
            raise ValueError(f"must be a fraction in (0, {maximum}]")
        return value

    return parse


def share(raw: str) -> float:
    """A fraction in (0, 1] as a float."""
    return float(fraction("1")(raw))


def choice(*allowed: str) -> Callable[[str], str]:
    """A parser accepting exactly one of ``allowed``."""

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, not {raw!r}")
        return raw

    return parse


def log_level(raw: str) -> str:
    """A logging level name (any case), as ``logging`` spells it."""
    name = raw.strip().upper()
    if name not in logging.getLevelNamesMapping():
        raise ValueError(f"not a log level: {raw!r} (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return name


def words(raw: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def chain_ids(raw: str) -> tuple[int, ...]:
    """A comma-separated list of chain ids."""
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"invalid chain id list: {raw!r}") from None


def networks(raw: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDRs."""
    try:
        return parse_networks(raw)
    except InvalidNetwork as exc:
        raise ValueError(str(exc)) from None
