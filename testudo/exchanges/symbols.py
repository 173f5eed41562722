"""Testudo symbols (``BTC_USDT``) to and from ccxt unified symbols (``BTC/USDT:USDT``).

Testudo names a perpetual by base coin and settlement asset. On a venue that settles in
another asset (Hyperliquid settles in USDC) the base coin decides: ``BTC_USDT`` asked of a
Hyperliquid account means ``BTC/USDC:USDC``, and fills come back as ``BTC_USDC``.
"""

from __future__ import annotations

import re

from .catalog import ExchangeInfo

SYMBOL = re.compile(r"^([A-Z0-9]{1,20})_([A-Z0-9]{2,20})$")


def is_symbol(text: str) -> bool:
    return SYMBOL.match(text) is not None


def to_ccxt(info: ExchangeInfo, symbol: str) -> str:
    """The ccxt linear-perpetual symbol for a Testudo symbol on ``info``'s venue."""
    match = SYMBOL.match(symbol)
    if match is None:
        raise ValueError(f"not a Testudo symbol: {symbol!r}")
    base = match[1]
    return f"{base}/{info.settle}:{info.settle}"


def base_of(symbol: str) -> str:
    """The base coin of a Testudo symbol (``BTC_USDT`` → ``BTC``): what identifies a market
    across venues that settle in different assets."""
    return symbol.split("_", 1)[0]


def from_ccxt(symbol: str) -> str:
    """``BTC/USDT:USDT`` → ``BTC_USDT`` (the quote of the unified symbol)."""
    pair = symbol.split(":", 1)[0]
    base, _, quote = pair.partition("/")
    return f"{base}_{quote or base}".upper()
