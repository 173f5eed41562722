"""Reference prices: a seeded random walk that explicit prices can override."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from decimal import Decimal

from testudo.sim.money import quantize

_PRICE_QUANTUM = Decimal("0.00000001")

# Per-step standard deviation of log returns (a step is one walk interval, 1 s by default).
DEFAULT_STEP_VOLATILITY: Mapping[str, float] = {
    "BTC_USDT": 0.0004,
    "ETH_USDT": 0.0005,
    "SOL_USDT": 0.0007,
}


class UnknownSymbol(KeyError):
    """The symbol has no price source."""


class PriceFeed:
    """One reference price per Testudo symbol (``BTC_USDT``), shared by every venue.

    ``step()`` advances every unfrozen symbol by one lognormal step drawn from a
    ``random.Random`` seeded at construction, so a given seed always gives the same path.
    """

    def __init__(
        self,
        prices: Mapping[str, Decimal],
        *,
        seed: int = 0,
        volatility: Mapping[str, float] | None = None,
    ) -> None:
        self._prices: dict[str, Decimal] = dict(prices)
        self._frozen: set[str] = set()
        self._rng = random.Random(seed)
        self._volatility = dict(volatility or DEFAULT_STEP_VOLATILITY)
        self.steps = 0

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol with a price."""
        return tuple(self._prices)

    def price(self, symbol: str) -> Decimal:
        """Current reference price of ``symbol``."""
        try:
            return self._prices[symbol]
        except KeyError:
            raise UnknownSymbol(symbol) from None

    def is_frozen(self, symbol: str) -> bool:
        """Whether the walk leaves ``symbol`` alone."""
        return symbol in self._frozen

    def set(self, symbol: str, price: Decimal, *, freeze: bool | None = None) -> None:
        """Jump ``symbol`` to ``price``; ``freeze`` True/False stops/resumes its walk."""
        if symbol not in self._prices:
            raise UnknownSymbol(symbol)
        if price <= 0:
            raise ValueError("price must be positive")
        self._prices[symbol] = price
        if freeze is True:
            self._frozen.add(symbol)
        elif freeze is False:
            self._frozen.discard(symbol)

    def step(self) -> list[str]:
        """Advance every unfrozen symbol by one random step; return the symbols that moved."""
        self.steps += 1
        moved: list[str] = []
        for symbol in sorted(self._prices):
            draw = self._rng.gauss(0.0, 1.0)
            if symbol in self._frozen:
                continue
            sigma = self._volatility.get(symbol, 0.0005)
            factor = math.exp(sigma * draw - 0.5 * sigma * sigma)
            new = quantize(self._prices[symbol] * Decimal(repr(factor)), _PRICE_QUANTUM)
            if new > 0 and new != self._prices[symbol]:
                self._prices[symbol] = new
                moved.append(symbol)
        return moved
