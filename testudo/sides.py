"""Which way a trade points, and where its stop and targets belong.

A long (``buy``) gains when the price rises and loses when it falls; a short (``sell``) the
opposite. A stop sits on the loss side of the price it protects (below it for a long, above
for a short); a target sits on the profit side of the entry (above for a long, below for a
short). Every rule that places one price relative to another by side goes through these
functions: the Decision Loop's ``stop_side`` and ``targets`` checks, a stop move, a target
change and a break-even trigger.
"""

from __future__ import annotations

from decimal import Decimal

BUY, SELL = "buy", "sell"


def normalise_side(side: str) -> str | None:
    """``buy``/``long`` → ``buy``, ``sell``/``short`` → ``sell`` (any case, surrounding spaces
    ignored); anything else → None."""
    value = side.strip().lower()
    if value in (BUY, "long"):
        return BUY
    if value in (SELL, "short"):
        return SELL
    return None


def is_long(side: str) -> bool:
    """Whether a normalised side is a long (``buy``)."""
    return side == BUY


def position_word(side: str) -> str:
    """``long`` or ``short``, for messages."""
    return "long" if side == BUY else "short"


def protects(side: str, price: Decimal, reference: Decimal) -> bool:
    """Whether ``price`` is strictly on the loss side of ``reference``, where a stop belongs:
    below it for a long, above it for a short. Equal is not protective (zero distance)."""
    return price < reference if side == BUY else price > reference


def beyond(side: str, price: Decimal, reference: Decimal) -> bool:
    """Whether ``price`` is strictly on the profit side of ``reference``, where a target
    belongs: above it for a long, below it for a short."""
    return price > reference if side == BUY else price < reference


def reached(side: str, price: Decimal, level: Decimal) -> bool:
    """Whether the market ``price`` has reached a profit-side ``level``: at or above it for a
    long, at or below it for a short."""
    return price >= level if side == BUY else price <= level


def stop_where(side: str) -> str:
    """Where a stop must be relative to the price it protects: ``below`` / ``above``."""
    return "below" if side == BUY else "above"


def target_where(side: str) -> str:
    """Where a target must be relative to the entry: ``above`` / ``below``."""
    return "above" if side == BUY else "below"
