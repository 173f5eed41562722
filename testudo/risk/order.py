"""The request made consistent: its side known, its numbers checked, its prices on the grid.

:func:`prepare_order` is the first step of the Decision Loop; every check after it reads the
resulting :class:`Order` instead of the raw request, so the validity of each number is decided
once. Nothing here fails a request: the ``order_values`` and ``stop_side`` checks report what
:class:`Order` records.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sides import BUY, normalise_side, protects

from .figures import raw, text, valid_positive
from .model import ENTRY_TYPES, TARGET_ORDER_TYPES, TradeRequest
from .rounding import round_entry, round_stop


@attrs.frozen
class Order:
    """What the later checks read from the request."""

    side: str | None  # "buy" | "sell"; None when the request's side is unknown
    entry: Decimal  # on the tick grid when ``entry_ok``, else as asked
    stop: Decimal | None  # on the tick grid when ``entry_ok`` and the stop is valid
    entry_ok: bool  # side known, entry positive and not rounding to 0
    stop_given: bool
    stop_valid: bool  # given and a positive number
    targets_valid: bool  # every target price (and quantity, when given) positive
    quantity_valid: bool  # absent or a positive number
    leverage_valid: bool  # finite and at least 1
    problems: tuple[str, ...]  # what fails ``order_values``
    rounded: tuple[str, ...]  # "entry 50000.05 → 50000" notes for ``prices_rounded``
    distance: Decimal | None  # |entry - stop| when the stop is usable, else None

    @property
    def long(self) -> bool:
        return self.side == BUY

    @property
    def stop_ok(self) -> bool:
        """Whether the stop is usable: given, valid and on the protective side of the entry."""
        return self.distance is not None


def stop_distance(side: str | None, entry: Decimal, stop: Decimal | None) -> Decimal | None:
    """|entry - stop| for a stop above 0 strictly on the protective side of the entry (below
    it for a long, above it for a short); None for any other stop."""
    if side is None or stop is None or stop <= 0 or not protects(side, stop, entry):
        return None
    return abs(entry - stop)


def order_problems(request: TradeRequest, side: str | None) -> list[str]:
    """Everything wrong with the request's own numbers and words, in a fixed order."""
    problems: list[str] = []
    if side is None:
        problems.append(f"side must be buy or sell, not {request.side!r}")
    if request.entry_type not in ENTRY_TYPES:
        problems.append(f"entry type must be limit or market, not {request.entry_type!r}")
    if not valid_positive(request.entry_price):
        problems.append(f"entry price must be a positive number, not {raw(request.entry_price)}")
    if request.stop_price is not None and not valid_positive(request.stop_price):
        problems.append(f"stop price must be a positive number, not {raw(request.stop_price)}")
    if request.quantity is not None and not valid_positive(request.quantity):
        problems.append(f"quantity must be a positive number, not {raw(request.quantity)}")
    if not request.leverage.is_finite() or request.leverage < 1:
        problems.append(f"leverage must be at least 1, not {raw(request.leverage)}")
    for number, target in enumerate(request.targets, 1):
        if not valid_positive(target.price):
            problems.append(
                f"target {number} price must be a positive number, not {raw(target.price)}"
            )
        if target.quantity is not None and not valid_positive(target.quantity):
            problems.append(
                f"target {number} quantity must be a positive number, not {raw(target.quantity)}"
            )
        if target.order_type not in TARGET_ORDER_TYPES:
            problems.append(
                f"target {number} order type must be limit or market, not {target.order_type!r}"
            )
    return problems


def prepare_order(request: TradeRequest, tick: Decimal) -> Order:
    """The request's side normalised, its numbers judged and its entry and stop on the grid."""
    side = normalise_side(request.side)
    problems = order_problems(request, side)
    rounded: list[str] = []
    entry_ok = side is not None and valid_positive(request.entry_price)
    stop_valid = request.stop_price is not None and valid_positive(request.stop_price)
    entry, stop = request.entry_price, request.stop_price
    if side is not None and entry_ok:
        entry = round_entry(side, request.entry_price, tick)
        if entry <= 0:
            entry_ok = False
            problems.append(
                f"entry price {text(request.entry_price)} rounds down to 0 at the tick size "
                f"{text(tick)}"
            )
        elif entry != request.entry_price:
            rounded.append(f"entry {text(request.entry_price)} → {text(entry)}")
    distance: Decimal | None = None
    if side is not None and entry_ok and stop_valid and request.stop_price is not None:
        stop = round_stop(side, request.stop_price, tick)
        if stop != request.stop_price:
            rounded.append(f"stop {text(request.stop_price)} → {text(stop)}")
        distance = stop_distance(side, entry, stop)
    return Order(
        side=side,
        entry=entry,
        stop=stop,
        entry_ok=entry_ok,
        stop_given=request.stop_price is not None,
        stop_valid=stop_valid,
        targets_valid=all(
            valid_positive(t.price) and (t.quantity is None or valid_positive(t.quantity))
            for t in request.targets
        ),
        quantity_valid=request.quantity is None or valid_positive(request.quantity),
        leverage_valid=request.leverage.is_finite() and request.leverage >= 1,
        problems=tuple(problems),
        rounded=tuple(rounded),
        distance=distance,
    )
