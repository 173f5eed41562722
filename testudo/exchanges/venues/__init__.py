"""One module per venue: everything that differs between exchanges, behind one protocol.

:func:`venue_for` gives the :class:`~testudo.exchanges.venues.base.Venue` of an exchange;
the actors and services only ever talk to an exchange through it.
"""

from __future__ import annotations

import functools

from testudo.exchanges import catalog
from testudo.exchanges.catalog import ExchangeInfo

from .base import (
    AccountSnapshot,
    Equity,
    MarketRules,
    OrderRequest,
    OrderSpec,
    OrderState,
    Position,
    Venue,
    balances_of,
)
from .binance import BinanceVenue
from .bybit import BybitVenue
from .hyperliquid import HyperliquidVenue
from .okx import OkxVenue
from .woo import WooVenue

VENUES: dict[str, type[Venue]] = {
    cls.ccxt_id: cls for cls in (BinanceVenue, BybitVenue, HyperliquidVenue, OkxVenue, WooVenue)
}


@functools.cache
def _venue(exchange_id: str) -> Venue:
    info = catalog.get(exchange_id)
    if info is None:
        raise LookupError(f"unknown exchange {exchange_id!r}")
    return VENUES.get(info.ccxt_id, Venue)(info)


def venue_for(exchange: ExchangeInfo | str) -> Venue:
    """The venue module of an exchange (by :class:`ExchangeInfo` or id)."""
    return _venue(exchange.id if isinstance(exchange, ExchangeInfo) else exchange)


__all__ = [
    "AccountSnapshot",
    "Equity",
    "MarketRules",
    "OrderRequest",
    "OrderSpec",
    "OrderState",
    "Position",
    "Venue",
    "balances_of",
    "venue_for",
]
