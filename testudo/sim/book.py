"""The synthetic order book a venue shows around its reference price.

Liquidity is unlimited in depth and replenishes at once: level ``k`` (0 = best) holds
``level_qty * (k + 1)``. Taker orders sweep it level by level.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs

from testudo.sim.instruments import Instrument, next_down, next_up
from testudo.sim.money import ZERO

MAX_SWEEP_LEVELS = 100_000


@attrs.frozen
class Level:
    """One price level: price and quantity."""

    price: Decimal
    qty: Decimal


def reference(instrument: Instrument, raw_price: Decimal) -> Decimal:
    """The venue's mark price: the raw reference price rounded to a valid price."""
    return instrument.price_rule.round(raw_price)


def best_bid_ask(instrument: Instrument, mark: Decimal) -> tuple[Decimal, Decimal]:
    """Best bid and best ask, ``half_spread_ticks`` valid prices either side of ``mark``."""
    rule = instrument.price_rule
    bid = rule.round_down(mark)
    ask = rule.round_up(mark)
    if bid == mark:
        bid = next_down(rule, bid)
    if ask == mark:
        ask = next_up(rule, ask)
    for _ in range(instrument.half_spread_ticks - 1):
        bid = next_down(rule, bid)
        ask = next_up(rule, ask)
    return bid, ask


def levels(instrument: Instrument, mark: Decimal, *, buy_side: bool) -> Iterator[Level]:
    """Endless levels of one side, best first (bids when ``buy_side``)."""
    bid, ask = best_bid_ask(instrument, mark)
    price = bid if buy_side else ask
    rule = instrument.price_rule
    k = 0
    while price > 0:
        yield Level(price, instrument.level_qty * (k + 1))
        k += 1
        price = next_down(rule, price) if buy_side else next_up(rule, price)
        if buy_side and price <= 0:
            return


def depth(instrument: Instrument, mark: Decimal, count: int) -> tuple[list[Level], list[Level]]:
    """The best ``count`` bid and ask levels."""
    bids: list[Level] = []
    for level in levels(instrument, mark, buy_side=True):
        if len(bids) >= count:
            break
        bids.append(level)
    asks: list[Level] = []
    for level in levels(instrument, mark, buy_side=False):
        if len(asks) >= count:
            break
        asks.append(level)
    return bids, asks


def sweep(
    instrument: Instrument, mark: Decimal, *, buy: bool, qty: Decimal, limit: Decimal | None
) -> list[Level]:
    """Executions of a taker order of ``qty`` (a buy takes asks), stopping at ``limit``."""
    fills: list[Level] = []
    left = qty
    for count, level in enumerate(levels(instrument, mark, buy_side=not buy)):
        if left <= ZERO or count >= MAX_SWEEP_LEVELS:
            break
        if limit is not None and (level.price > limit if buy else level.price < limit):
            break
        take = min(left, level.qty)
        fills.append(Level(level.price, take))
        left -= take
    return fills


def crosses(instrument: Instrument, mark: Decimal, *, buy: bool, limit: Decimal) -> bool:
    """Whether a limit order at ``limit`` would take liquidity right now."""
    bid, ask = best_bid_ask(instrument, mark)
    return limit >= ask if buy else limit <= bid
