"""An account's money and positions as the Decision Loop needs them (worker-thread code).

:func:`fetch_funds` reads balances, positions and the last prices of the symbols the account
trades in one worker-thread hop. The exchange-account actor keeps the result and answers the
Decision Loop from it while it is fresh (see :mod:`actors.exchanges.exchange_account`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .catalog import ExchangeInfo
from .models import Balance
from .venues import balances_of, venue_for


@attrs.frozen
class Funds:
    """Balances, equity in the settlement asset, open positions and last prices."""

    balances: tuple[Balance, ...]  # non-zero assets, for balance events
    equity: Decimal
    available: Decimal
    unrealized_pnl: Decimal
    position_symbols: frozenset[str]  # Testudo symbols with a non-zero position
    prices: Mapping[str, Decimal]  # Testudo symbol -> last traded price


def fetch_prices(client: Any, info: ExchangeInfo, symbols: Iterable[str]) -> dict[str, Decimal]:
    """The last price of each Testudo symbol (one ticker request each)."""
    return venue_for(info).last_prices(client, symbols)


def fetch_funds(client: Any, info: ExchangeInfo, price_symbols: Iterable[str]) -> Funds:
    """Balance, positions and last prices: what a trade decision reads from the exchange.

    Equity is what the venue module says it is (on Binance the total margin balance across
    every collateral asset, not the settlement asset's row alone).
    """
    venue = venue_for(info)
    raw = client.fetch_balance()
    positions = venue.positions(client)
    equity = venue.account_equity(raw, positions)
    unrealized = sum((p.unrealized_pnl or Decimal(0) for p in positions), Decimal(0))
    return Funds(
        balances_of(raw),
        equity.equity,
        equity.available,
        unrealized,
        frozenset(p.symbol for p in positions),
        venue.last_prices(client, price_symbols),
    )
