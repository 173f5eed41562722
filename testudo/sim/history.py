"""Past fills for an account: realistic round trips generated in one O(n) pass."""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
from collections.abc import Sequence
from decimal import Decimal

import attrs

from testudo.sim.instruments import Instrument
from testudo.sim.model import Fill, Side
from testudo.sim.money import ZERO, ceil_to, floor_to, quantize
from testudo.sim.positions import apply_fill

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DAILY_VOLATILITY = {"BTC": 0.03, "ETH": 0.04, "SOL": 0.055}
SYMBOL_WEIGHTS = {"BTC": 5.0, "ETH": 3.0, "SOL": 2.0}
MAX_FILLS = 1_000_000


class HistoryError(ValueError):
    """The history request is out of range."""


@attrs.define
class _Book:
    """Generation state of one symbol."""

    instrument: Instrument
    path: list[float]
    size: Decimal = ZERO
    entry: Decimal = ZERO
    entries: int = 0


def generate_fills(
    instruments: Sequence[Instrument],
    marks: dict[str, Decimal],
    *,
    account_id: int,
    count: int,
    days: int,
    seed: int,
    end_ms: int,
    order_ids: Sequence[int],
    fill_ids: Sequence[int],
) -> list[Fill]:
    """``count`` fills over the ``days`` before ``end_ms``, every position flat at the end.

    Trading happens in round trips per symbol: an opening fill, scale-ins, partial closes, a
    final close or a flip to the other side. Each symbol's price follows a seeded random walk
    on an hourly grid, pinned to today's mark at ``end_ms`` (a Brownian bridge); fees are
    taker (70 %) or maker. Ids are taken in time order from ``order_ids`` and ``fill_ids``.
    """
    if not 2 <= count <= MAX_FILLS:
        raise HistoryError(f"fills must be within 2..{MAX_FILLS}")
    if not 1 <= days <= 3650:
        raise HistoryError("days must be within 1..3650")
    if len(order_ids) < count or len(fill_ids) < count:
        raise HistoryError("not enough ids")
    rng = random.Random(seed)
    start_ms = end_ms - days * DAY_MS
    span = end_ms - 1000 - start_ms
    rand = rng.random
    times = sorted([start_ms + int(rand() * span) for _ in range(count)])
    hours = days * 24 + 1
    books = [
        _Book(instrument, _bridge(rng, float(marks[instrument.symbol]), instrument, hours))
        for instrument in instruments
    ]
    cumulative = list(
        itertools.accumulate(SYMBOL_WEIGHTS.get(b.instrument.base, 1.0) for b in books)
    )
    fills: list[Fill] = []
    open_books: set[int] = set()
    for i, time_ms in enumerate(times):
        index, action = _pick(rng, books, cumulative, open_books, remaining=count - i)
        state = books[index]
        hour = (time_ms - start_ms) / HOUR_MS
        price = _price(state, hour, rng.random())
        fills.append(
            _trade(rng, state, action, price, time_ms, account_id, order_ids[i], fill_ids[i])
        )
        if state.size == 0:
            open_books.discard(index)
        else:
            open_books.add(index)
    return fills


def _bridge(rng: random.Random, mark: float, instrument: Instrument, points: int) -> list[float]:
    """Hourly prices whose last point is ``mark``."""
    sigma = DAILY_VOLATILITY.get(instrument.base, 0.04) / math.sqrt(24)
    walk = list(itertools.accumulate(rng.gauss(0.0, sigma) for _ in range(points)))
    last = walk[-1]
    return [mark * math.exp(w - last) for w in walk]


def _price(state: _Book, hour: float, noise: float) -> Decimal:
    """Price at a fractional hour: linear between grid points plus a little noise."""
    low = int(hour)
    path = state.path
    high = min(low + 1, len(path) - 1)
    frac = hour - low
    value = path[low] * (1 - frac) + path[high] * frac
    value *= 1 + (noise - 0.5) * 0.0004
    return _round_price(state.instrument, value)


@functools.cache
def _tick(instrument: Instrument, magnitude: int) -> tuple[Decimal, float]:
    tick = instrument.price_rule.tick_at(Decimal(10) ** magnitude)
    return tick, float(tick)


def _round_price(instrument: Instrument, value: float) -> Decimal:
    tick, tick_float = _tick(instrument, math.floor(math.log10(value)))
    return Decimal(round(value / tick_float)) * tick


def _pick(
    rng: random.Random,
    books: Sequence[_Book],
    cumulative: Sequence[float],
    open_books: set[int],
    *,
    remaining: int,
) -> tuple[int, str]:
    """Choose the next symbol and action so that every position can still be closed.

    Invariant after each fill: open positions <= fills left, and never one fill left with
    nothing open (a single fill cannot start and end flat).
    """
    if remaining <= len(open_books):
        return min(open_books), "close"
    index = bisect.bisect(cumulative, rng.random() * cumulative[-1])
    action = _choose(rng, books[index])
    opened = 1 if action == "open" else 0
    closed = 1 if action == "close" else 0
    open_after = len(open_books) + opened - closed
    left = remaining - 1
    if open_after > left or (left == 1 and open_after == 0):
        return min(open_books), "scale_in"
    return index, action


def _choose(rng: random.Random, state: _Book) -> str:
    if state.size == 0:
        return "open"
    roll = rng.random()
    if roll < 0.30 and state.entries < 4:
        return "scale_in"
    if roll < 0.62 and abs(state.size) >= 2 * state.instrument.lot_size:
        return "partial"
    if roll < 0.92:
        return "close"
    return "flip"


def _entry_qty(rng: random.Random, instrument: Instrument, price: Decimal) -> Decimal:
    lot = instrument.lot_size
    notional = rng.uniform(150.0, 6000.0)
    lots = int(notional / float(price) / float(lot))
    minimum = max(instrument.min_qty, ceil_to(instrument.min_notional / price, lot))
    return max(Decimal(lots) * lot, minimum)


def _trade(
    rng: random.Random,
    state: _Book,
    action: str,
    price: Decimal,
    time_ms: int,
    account_id: int,
    order_id: int,
    fill_id: int,
) -> Fill:
    instrument = state.instrument
    if action == "open":
        side = Side.BUY if rng.random() < 0.55 else Side.SELL
        qty = _entry_qty(rng, instrument, price)
    elif action == "scale_in":
        side = Side.BUY if state.size > 0 else Side.SELL
        qty = _entry_qty(rng, instrument, price)
    elif action == "partial":
        side = Side.SELL if state.size > 0 else Side.BUY
        share = Decimal(25 + int(rng.random() * 50)) / 100
        qty = min(
            abs(state.size) - instrument.lot_size,
            max(instrument.lot_size, floor_to(abs(state.size) * share, instrument.lot_size)),
        )
    elif action == "flip":
        side = Side.SELL if state.size > 0 else Side.BUY
        qty = abs(state.size) + _entry_qty(rng, instrument, price)
    else:
        side = Side.SELL if state.size > 0 else Side.BUY
        qty = abs(state.size)
    start = state.size
    effect = apply_fill(state.size, state.entry, qty * side.sign, price)
    maker = rng.random() < 0.3
    rate = instrument.maker_fee if maker else instrument.taker_fee
    fee = quantize(price * qty * rate, instrument.fee_quantum)
    state.size = effect.size
    state.entry = effect.entry_price
    if effect.size == 0:
        state.entries = 0
    elif action in ("open", "flip"):
        state.entries = 1
    elif action == "scale_in":
        state.entries += 1
    return Fill(
        id=fill_id,
        order_id=order_id,
        account_id=account_id,
        symbol=instrument.symbol,
        side=side,
        price=price,
        qty=qty,
        fee=fee,
        extra_fee=ZERO,
        fee_asset=instrument.settle,
        realized_pnl=effect.realized_pnl,
        is_maker=maker,
        time_ms=time_ms,
        start_position=start,
    )
