"""An account's book: its open positions and open orders, read together (worker-thread code).

The exchange-account actor reads the book on every poll and hands each trade group its part;
the positions view is answered from the last one. Positions are read *before* the orders: an
order that fills in between then shows up as gone from the open orders (and is fetched), so a
flat position next to a still-open stop can only mean the position was closed by someone else.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from .symbols import base_of
from .venues import OrderState, Position, Venue


@attrs.frozen
class Book:
    """Positions (base units) and open orders (regular and conditional) of an account;
    ``symbols`` names the markets whose orders were read (None: every market)."""

    positions: tuple[Position, ...]
    orders: tuple[OrderState, ...]
    symbols: frozenset[str] | None = None

    def net(self) -> dict[str, Decimal]:
        return net_by_base(self.positions)

    def orders_of(self, symbol: str) -> dict[str, OrderState]:
        """The open orders of one market (matched by base coin), by exchange order id."""
        base = base_of(symbol)
        return {
            o.exchange_order_id: o
            for o in self.orders
            if o.symbol is not None and base_of(o.symbol) == base
        }


def net_by_base(positions: Iterable[Position]) -> dict[str, Decimal]:
    """Signed position (long positive) per base coin: a Hyperliquid account trades
    ``BTC_USDT`` as ``BTC/USDC:USDC``, so markets are matched by their base coin."""
    out: dict[str, Decimal] = {}
    for p in positions:
        signed = p.quantity if p.side == "long" else -p.quantity
        out[base_of(p.symbol)] = out.get(base_of(p.symbol), Decimal(0)) + signed
    return out


def fetch_orders(client: Any, venue: Venue, symbols: Iterable[str] | None) -> list[OrderState]:
    """The open orders of ``symbols`` (of every market when None, or when one request
    answers for every market on this venue)."""
    wanted = None if symbols is None else sorted(set(symbols))
    if wanted is None or venue.polls_all_symbols:
        return list(venue.open_orders(client))
    found: list[OrderState] = []
    for symbol in wanted:
        found += [
            attrs.evolve(o, symbol=o.symbol or symbol) for o in venue.open_orders(client, symbol)
        ]
    return found


def fetch_book(client: Any, venue: Venue, symbols: Iterable[str] | None) -> Book:
    """Positions first, then the open orders (see the module docstring)."""
    positions = tuple(venue.positions(client))
    orders = tuple(fetch_orders(client, venue, symbols))
    wanted = None if symbols is None or venue.polls_all_symbols else frozenset(symbols)
    return Book(positions, orders, wanted)
