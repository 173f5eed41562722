"""Round-trip trades from fills, per symbol: pure functions over attrs values.

A round trip runs from flat to flat. Fills in the position's direction open it or scale in;
fills against it close part of it, each at its own price. A fill that takes the position
through zero is split: the part that closes ends this round trip, the remainder opens the next
one in the other direction, and the fill's fee is shared pro rata by quantity (the closing
share rounded to 1e-12, the opening share the exact rest, so fees add up to the fills' fees).

Prices and P&L are exact: the round trip keeps the opening and closing notionals, so
``realized_pnl = closing notional - opening notional`` (long; the opposite for short) counts
every partial close at its own price. ``entry_price`` and ``exit_price`` are the
quantity-weighted averages of the opening and closing fills, for display.

When the history starts in the middle of a position (the fills that opened it are older than
the import window), pass that position as ``opening_position``: the fills that finish it are
skipped (counted in ``skipped_fills``) instead of being mistaken for a new position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from testudo.exchanges.models import Fill

from .money import ZERO, round_fee, round_price

LONG = "LONG"
SHORT = "SHORT"
_DIGITS = re.compile(r"(\d+)")


def fill_order_key(fill: Fill) -> tuple[dt.datetime, tuple[str | int, ...]]:
    """Sort key: time, then the fill id with its digit runs compared as numbers."""
    parts = _DIGITS.split(fill.fill_id)
    return fill.timestamp, tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


@attrs.frozen
class RoundTrip:
    """One completed trade: opened from flat, closed back to flat."""

    exchange: str
    symbol: str
    side: str  # LONG | SHORT
    quantity: Decimal
    entry_notional: Decimal
    exit_notional: Decimal
    fees: Decimal
    opened_at: dt.datetime
    closed_at: dt.datetime
    fill_parts: tuple[str, ...]  # fill ids; "<id>:close" / "<id>:open" for a split fill
    order_ids: tuple[str, ...]
    client_order_ids: tuple[str, ...]
    closing_fill_id: str

    @property
    def entry_price(self) -> Decimal:
        return round_price(self.entry_notional / self.quantity)

    @property
    def exit_price(self) -> Decimal:
        return round_price(self.exit_notional / self.quantity)

    @property
    def realized_pnl(self) -> Decimal:
        if self.side == LONG:
            return self.exit_notional - self.entry_notional
        return self.entry_notional - self.exit_notional

    @property
    def fills_hash(self) -> str:
        """SHA-256 of the sorted fill parts: the round trip's identity across imports."""
        return hashlib.sha256(":".join(sorted(self.fill_parts)).encode()).hexdigest()


@attrs.frozen
class Reconstruction:
    """The round trips of a set of fills, plus what could not become a round trip."""

    trips: tuple[RoundTrip, ...]
    open_positions: Mapping[str, Decimal]  # symbol -> signed quantity still open at the end
    skipped_fills: int  # fills finishing a position opened before the history starts


@attrs.define
class _Trip:
    side: int  # +1 long, -1 short
    phantom: bool  # opened before the history: closed but never emitted
    opened_at: dt.datetime
    position: Decimal = ZERO
    quantity: Decimal = ZERO
    entry_notional: Decimal = ZERO
    exit_notional: Decimal = ZERO
    fees: Decimal = ZERO
    parts: list[str] = attrs.Factory(list)
    order_ids: list[str] = attrs.Factory(list)
    client_order_ids: list[str] = attrs.Factory(list)

    def add(self, fill: Fill, part: str, fee: Decimal) -> None:
        self.parts.append(part)
        self.fees += fee
        if fill.order_id and fill.order_id not in self.order_ids:
            self.order_ids.append(fill.order_id)
        if fill.client_order_id and fill.client_order_id not in self.client_order_ids:
            self.client_order_ids.append(fill.client_order_id)

    def finish(self, exchange: str, symbol: str, closed_at: dt.datetime, last: str) -> RoundTrip:
        return RoundTrip(
            exchange=exchange,
            symbol=symbol,
            side=LONG if self.side > 0 else SHORT,
            quantity=self.quantity,
            entry_notional=self.entry_notional,
            exit_notional=self.exit_notional,
            fees=self.fees,
            opened_at=self.opened_at,
            closed_at=closed_at,
            fill_parts=tuple(self.parts),
            order_ids=tuple(self.order_ids),
            client_order_ids=tuple(self.client_order_ids),
            closing_fill_id=last,
        )


def _sign(fill: Fill) -> int:
    return 1 if fill.side == "buy" else -1


def _symbol_trips(
    exchange: str, symbol: str, fills: Sequence[Fill], opening: Decimal
) -> tuple[list[RoundTrip], Decimal, int]:
    trips: list[RoundTrip] = []
    skipped = 0
    current: _Trip | None = None
    if opening != 0:
        first = fills[0].timestamp if fills else dt.datetime.min.replace(tzinfo=dt.UTC)
        current = _Trip(side=1 if opening > 0 else -1, phantom=True, opened_at=first)
        current.position = abs(opening)
    for fill in sorted(fills, key=fill_order_key):
        qty = fill.quantity
        sign = _sign(fill)
        if current is None:
            current = _Trip(side=sign, phantom=False, opened_at=fill.timestamp)
        if current.phantom:
            skipped += 1
        if sign == current.side:
            current.position += qty
            current.quantity += qty
            current.entry_notional += fill.price * qty
            current.add(fill, fill.fill_id, fill.fee)
            continue
        closing = min(qty, current.position)
        remainder = qty - closing
        split = remainder > 0
        close_fee = fill.fee if not split else round_fee(fill.fee * closing / qty)
        current.position -= closing
        current.exit_notional += fill.price * closing
        current.add(fill, f"{fill.fill_id}:close" if split else fill.fill_id, close_fee)
        if current.position == 0:
            if not current.phantom:
                part = f"{fill.fill_id}:close" if split else fill.fill_id
                trips.append(current.finish(exchange, symbol, fill.timestamp, part))
            current = None
        if split:
            current = _Trip(side=sign, phantom=False, opened_at=fill.timestamp)
            current.position = remainder
            current.quantity = remainder
            current.entry_notional = fill.price * remainder
            current.add(fill, f"{fill.fill_id}:open", fill.fee - close_fee)
    left = ZERO if current is None else current.position * current.side
    return trips, left, skipped


def reconstruct(
    fills: Iterable[Fill], opening_positions: Mapping[str, Decimal] | None = None
) -> Reconstruction:
    """Round trips of ``fills`` (any order, any mix of symbols), oldest close first.

    ``opening_positions`` gives, per symbol, the signed position held before the first fill
    (default flat). Positions still open at the end produce no round trip; they are reported
    in ``open_positions``.
    """
    by_symbol: dict[tuple[str, str], list[Fill]] = defaultdict(list)
    for fill in fills:
        by_symbol[(fill.exchange, fill.symbol)].append(fill)
    openings = opening_positions or {}
    trips: list[RoundTrip] = []
    open_positions: dict[str, Decimal] = {}
    skipped = 0
    for (exchange, symbol), group in by_symbol.items():
        found, left, dropped = _symbol_trips(exchange, symbol, group, openings.get(symbol, ZERO))
        trips.extend(found)
        skipped += dropped
        if left != 0:
            open_positions[symbol] = left
    trips.sort(key=lambda t: (t.closed_at, t.symbol, t.closing_fill_id))
    return Reconstruction(tuple(trips), open_positions, skipped)
