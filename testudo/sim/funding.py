"""Funding payments on open perpetual positions, as the venues make them.

At every funding time (a multiple of the venue's interval on the simulator's clock: Binance
every 8 hours, Hyperliquid every hour) each open position pays ``size * mark * rate`` of
the settlement asset: a long pays a positive rate to the shorts, a short receives it. The
payment moves the wallet balance and is kept as a :class:`Payment` that the venue's
funding-history endpoint reports.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sim.money import quantize

DEFAULT_RATE = Decimal("0.0001")
HOUR_MS = 3_600_000


@attrs.frozen
class Payment:
    """One funding payment of one position (``amount`` > 0: received, < 0: paid)."""

    id: int
    account_id: int
    symbol: str
    rate: Decimal
    size: Decimal
    mark: Decimal
    amount: Decimal
    time_ms: int
    balance: Decimal | None = None  # the wallet balance right after it (OKX bills show it)


def amount(size: Decimal, mark: Decimal, rate: Decimal, quantum: Decimal) -> Decimal:
    """What a position of ``size`` (signed) receives at ``mark`` and ``rate``."""
    return quantize(-size * mark * rate, quantum)


def due_times(last_ms: int, now_ms: int, interval_ms: int) -> list[int]:
    """The funding times after ``last_ms`` up to and including ``now_ms``."""
    first = (last_ms // interval_ms + 1) * interval_ms
    return list(range(first, now_ms + 1, interval_ms))


@attrs.define
class Schedule:
    """A venue's funding interval, rates per symbol and the last funding time paid."""

    interval_ms: int
    last_ms: int
    rates: dict[str, Decimal] = attrs.Factory(dict)
    scheduled: bool = True

    def rate(self, symbol: str) -> Decimal:
        return self.rates.get(symbol, DEFAULT_RATE)

    def next_ms(self) -> int:
        """The next funding time."""
        return (self.last_ms // self.interval_ms + 1) * self.interval_ms
