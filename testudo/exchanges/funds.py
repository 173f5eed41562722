"""An account's money and positions as the Decision Loop needs them (worker-thread code).

:func:`fetch_funds` reads balances, positions and the last prices of the symbols the account
trades in one worker-thread hop. The exchange-account actor keeps the result and answers the
Decision Loop from it while it is fresh (see :mod:`actors.exchange_account`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from testudo.money import to_decimal

from .catalog import ExchangeInfo
from .models import Balance
from .symbols import from_ccxt, to_ccxt


@attrs.frozen
class Funds:
    """Balances, equity in the settlement asset, open positions and last prices."""

    balances: tuple[Balance, ...]  # non-zero assets, for balance events
    equity: Decimal
    available: Decimal
    unrealized_pnl: Decimal
    position_symbols: frozenset[str]  # Testudo symbols with a non-zero position
    prices: Mapping[str, Decimal]  # Testudo symbol -> last traded price


def balances_of(raw: Mapping[str, Any]) -> tuple[Balance, ...]:
    """Non-zero balances of a ccxt ``fetch_balance`` result, as Decimal values."""
    zero = Decimal(0)
    out = []
    for asset, value in sorted((raw.get("total") or {}).items()):
        total = to_decimal(value) or zero
        if total == 0:
            continue
        free = to_decimal((raw.get("free") or {}).get(asset)) or zero
        used = to_decimal((raw.get("used") or {}).get(asset)) or zero
        out.append(Balance(asset, total, free, used))
    return tuple(out)


def fetch_prices(client: Any, info: ExchangeInfo, symbols: Iterable[str]) -> dict[str, Decimal]:
    """The last price of each Testudo symbol (one ticker request each)."""
    prices = {}
    for symbol in symbols:
        ticker = client.fetch_ticker(to_ccxt(info, symbol))
        prices[symbol] = to_decimal(ticker.get("last")) or Decimal(0)
    return prices


def fetch_funds(client: Any, info: ExchangeInfo, price_symbols: Iterable[str]) -> Funds:
    """Balance, positions and last prices: what a trade decision reads from the exchange."""
    raw = client.fetch_balance()
    settle = info.settle
    equity = to_decimal((raw.get("total") or {}).get(settle)) or Decimal(0)
    available = to_decimal((raw.get("free") or {}).get(settle)) or Decimal(0)
    symbols = set()
    unrealized = Decimal(0)
    for position in client.fetch_positions():
        contracts = to_decimal(position.get("contracts")) or Decimal(0)
        if contracts == 0:
            continue
        symbols.add(from_ccxt(position["symbol"]))
        unrealized += to_decimal(position.get("unrealizedPnl")) or Decimal(0)
    return Funds(
        balances_of(raw),
        equity,
        available,
        unrealized,
        frozenset(symbols),
        fetch_prices(client, info, price_symbols),
    )
