"""Instrument specifications of the simulated venues, as the real exchanges publish them."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import attrs

from testudo.sim.money import ceil_to, floor_to, is_multiple, round_to

BINANCE = "binance"
HYPERLIQUID = "hyperliquid"
OKX = "okx"
WOO = "woo"
BYBIT = "bybit"


class PriceRule(Protocol):
    """Which prices a venue accepts, and the neighbouring valid prices."""

    def tick_at(self, price: Decimal) -> Decimal:
        """The price step in force around ``price``."""
        ...

    def is_valid(self, price: Decimal) -> bool:
        """Whether an order may carry ``price``."""
        ...

    def round(self, price: Decimal) -> Decimal:
        """The nearest valid price."""
        ...

    def round_down(self, price: Decimal) -> Decimal:
        """The greatest valid price not above ``price``."""
        ...

    def round_up(self, price: Decimal) -> Decimal:
        """The least valid price not below ``price``."""
        ...


@attrs.frozen
class TickRule:
    """Prices are multiples of a fixed tick size (Binance ``PRICE_FILTER``)."""

    tick: Decimal

    def tick_at(self, price: Decimal) -> Decimal:
        return self.tick

    def is_valid(self, price: Decimal) -> bool:
        return price > 0 and is_multiple(price, self.tick)

    def round(self, price: Decimal) -> Decimal:
        return max(self.tick, round_to(price, self.tick))

    def round_down(self, price: Decimal) -> Decimal:
        return max(self.tick, floor_to(price, self.tick))

    def round_up(self, price: Decimal) -> Decimal:
        return max(self.tick, ceil_to(price, self.tick))


@attrs.frozen
class SignificantFiguresRule:
    """Hyperliquid perps: at most 5 significant figures and ``6 - szDecimals`` decimals.

    Integer prices are always accepted, whatever their number of significant figures.
    """

    max_decimals: int
    figures: int = 5

    def tick_at(self, price: Decimal) -> Decimal:
        magnitude = price.adjusted()
        tick = Decimal(1).scaleb(magnitude - self.figures + 1)
        return max(min(tick, Decimal(1)), Decimal(1).scaleb(-self.max_decimals))

    def is_valid(self, price: Decimal) -> bool:
        if price <= 0:
            return False
        if price == price.to_integral_value():
            return True
        return is_multiple(price, self.tick_at(price))

    def round(self, price: Decimal) -> Decimal:
        return round_to(price, self.tick_at(price)).normalize()

    def round_down(self, price: Decimal) -> Decimal:
        return floor_to(price, self.tick_at(price)).normalize()

    def round_up(self, price: Decimal) -> Decimal:
        return ceil_to(price, self.tick_at(price)).normalize()


def next_up(rule: PriceRule, price: Decimal) -> Decimal:
    """The next valid price above a valid ``price``."""
    return rule.round_up(price + rule.tick_at(price))


def next_down(rule: PriceRule, price: Decimal) -> Decimal:
    """The next valid price below a valid ``price``."""
    step = rule.tick_at(price - rule.tick_at(price))
    return rule.round_down(price - step)


@attrs.frozen
class Instrument:
    """One linear perpetual on one venue."""

    venue: str
    symbol: str
    venue_symbol: str
    base: str
    settle: str
    price_rule: TickRule | SignificantFiguresRule
    lot_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_leverage: int
    default_leverage: int
    maker_fee: Decimal
    taker_fee: Decimal
    fee_quantum: Decimal
    level_qty: Decimal
    index: int = 0
    half_spread_ticks: int = 1

    @property
    def tick_size(self) -> Decimal:
        """The fixed tick, or the tick around 1 for significant-figure rules."""
        if isinstance(self.price_rule, TickRule):
            return self.price_rule.tick
        return Decimal(1).scaleb(-self.price_rule.max_decimals)


def _d(text: str) -> Decimal:
    return Decimal(text)


def binance_instruments() -> tuple[Instrument, ...]:
    """BTCUSDT, ETHUSDT and SOLUSDT as Binance USD-M lists them (USDT-settled)."""

    def usdm(
        base: str,
        index: int,
        tick: str,
        lot: str,
        max_qty: str,
        notional: str,
        leverage: int,
        level: str,
    ) -> Instrument:
        return Instrument(
            venue=BINANCE,
            symbol=f"{base}_USDT",
            venue_symbol=f"{base}USDT",
            base=base,
            settle="USDT",
            price_rule=TickRule(_d(tick)),
            lot_size=_d(lot),
            min_qty=_d(lot),
            max_qty=_d(max_qty),
            min_notional=_d(notional),
            max_leverage=leverage,
            default_leverage=20,
            maker_fee=_d("0.0002"),
            taker_fee=_d("0.0005"),
            fee_quantum=_d("0.00000001"),
            level_qty=_d(level),
            index=index,
        )

    return (
        usdm("BTC", 0, "0.10", "0.001", "1000", "100", 125, "0.5"),
        usdm("ETH", 1, "0.01", "0.001", "10000", "20", 100, "5"),
        usdm("SOL", 2, "0.01", "1", "1000000", "5", 75, "200"),
    )


def hyperliquid_instruments() -> tuple[Instrument, ...]:
    """BTC, ETH and SOL perps as Hyperliquid's ``meta`` describes them (USDC collateral)."""

    def perp(base: str, index: int, sz_decimals: int, max_leverage: int, level: str) -> Instrument:
        lot = Decimal(1).scaleb(-sz_decimals)
        return Instrument(
            venue=HYPERLIQUID,
            symbol=f"{base}_USDT",
            venue_symbol=base,
            base=base,
            settle="USDC",
            price_rule=SignificantFiguresRule(max_decimals=6 - sz_decimals),
            lot_size=lot,
            min_qty=lot,
            max_qty=Decimal(10**9),
            min_notional=_d("10"),
            max_leverage=max_leverage,
            default_leverage=min(20, max_leverage),
            maker_fee=_d("0.00015"),
            taker_fee=_d("0.00045"),
            fee_quantum=_d("0.000001"),
            level_qty=_d(level),
            index=index,
        )

    return (
        perp("BTC", 0, 5, 40, "0.5"),
        perp("ETH", 1, 4, 25, "5"),
        perp("SOL", 2, 2, 20, "200"),
    )


def woo_instruments() -> tuple[Instrument, ...]:
    """PERP_BTC_USDT, PERP_ETH_USDT and PERP_SOL_USDT as WOO X lists them (USDT-settled).

    ``quoteTick`` is the price tick, ``baseTick`` the quantity step, ``baseMin``/``baseMax`` the
    order size bounds and ``minNotional`` the smallest order value; fees are WOO's base futures
    tier (maker 2 bps, taker 5 bps), default leverage 10.
    """

    def perp(
        base: str, index: int, tick: str, step: str, max_qty: str, leverage: int, level: str
    ) -> Instrument:
        return Instrument(
            venue=WOO,
            symbol=f"{base}_USDT",
            venue_symbol=f"PERP_{base}_USDT",
            base=base,
            settle="USDT",
            price_rule=TickRule(_d(tick)),
            lot_size=_d(step),
            min_qty=_d(step),
            max_qty=_d(max_qty),
            min_notional=_d("10"),
            max_leverage=leverage,
            default_leverage=10,
            maker_fee=_d("0.0002"),
            taker_fee=_d("0.0005"),
            fee_quantum=_d("0.00000001"),
            level_qty=_d(level),
            index=index,
        )

    return (
        perp("BTC", 0, "0.1", "0.0001", "50", 50, "2"),
        perp("ETH", 1, "0.01", "0.001", "1000", 50, "20"),
        perp("SOL", 2, "0.001", "0.01", "20000", 20, "500"),
    )


def bybit_instruments() -> tuple[Instrument, ...]:
    """BTCUSDT, ETHUSDT and SOLUSDT as Bybit's v5 ``instruments-info`` lists them (linear,
    USDT-settled): tick, qty step (= minimum), limit-order max qty, 5 USDT minimum notional,
    non-VIP fees (maker 0.02 %, taker 0.055 %), default leverage 10."""

    def linear(
        base: str, index: int, tick: str, step: str, max_qty: str, leverage: int, level: str
    ) -> Instrument:
        return Instrument(
            venue=BYBIT,
            symbol=f"{base}_USDT",
            venue_symbol=f"{base}USDT",
            base=base,
            settle="USDT",
            price_rule=TickRule(_d(tick)),
            lot_size=_d(step),
            min_qty=_d(step),
            max_qty=_d(max_qty),
            min_notional=_d("5"),
            max_leverage=leverage,
            default_leverage=10,
            maker_fee=_d("0.0002"),
            taker_fee=_d("0.00055"),
            fee_quantum=_d("0.00000001"),
            level_qty=_d(level),
            index=index,
        )

    return (
        linear("BTC", 0, "0.10", "0.001", "1190", 100, "0.5"),
        linear("ETH", 1, "0.01", "0.01", "7240", 100, "5"),
        linear("SOL", 2, "0.010", "0.1", "79770", 100, "200"),
    )


# Contract value (``ctVal``) of each OKX USDT swap, in base units per contract. The engine
# works in base units; the OKX dialect converts ``sz`` / ``pos`` / ``fillSz`` at the boundary.
OKX_CONTRACT_VALUES: dict[str, Decimal] = {
    "BTC_USDT": Decimal("0.01"),
    "ETH_USDT": Decimal("0.1"),
    "SOL_USDT": Decimal("1"),
}


def okx_instruments() -> tuple[Instrument, ...]:
    """BTC-, ETH- and SOL-USDT-SWAP as OKX lists them, in base units.

    OKX trades these in contracts (``lotSz`` = ``minSz`` = 0.01 contract): the engine's lot
    is ``lotSz * ctVal`` (0.0001 BTC, 0.001 ETH, 0.01 SOL). Swaps have no minimum notional.
    """

    def swap(base: str, index: int, tick: str, max_leverage: int, level: str) -> Instrument:
        lot = Decimal("0.01") * OKX_CONTRACT_VALUES[f"{base}_USDT"]
        return Instrument(
            venue=OKX,
            symbol=f"{base}_USDT",
            venue_symbol=f"{base}-USDT-SWAP",
            base=base,
            settle="USDT",
            price_rule=TickRule(_d(tick)),
            lot_size=lot,
            min_qty=lot,
            max_qty=Decimal(100_000_000) * OKX_CONTRACT_VALUES[f"{base}_USDT"],
            min_notional=Decimal(0),
            max_leverage=max_leverage,
            default_leverage=20,
            maker_fee=_d("0.0002"),
            taker_fee=_d("0.0005"),
            fee_quantum=_d("0.00000001"),
            level_qty=_d(level),
            index=index,
        )

    return (
        swap("BTC", 0, "0.1", 100, "0.5"),
        swap("ETH", 1, "0.01", 100, "5"),
        swap("SOL", 2, "0.01", 50, "200"),
    )


DEFAULT_PRICES: dict[str, Decimal] = {
    "BTC_USDT": Decimal("50000"),
    "ETH_USDT": Decimal("3000"),
    "SOL_USDT": Decimal("150"),
}
