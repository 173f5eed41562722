"""The simulator as a whole: price feed, identities, one engine per venue, faults."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials, Registry
from testudo.sim.clock import Clock, SystemClock
from testudo.sim.engine import Engine, EngineSettings
from testudo.sim.faults import Faults
from testudo.sim.history import generate_fills
from testudo.sim.instruments import (
    BINANCE,
    DEFAULT_PRICES,
    HYPERLIQUID,
    OKX,
    WOO,
    binance_instruments,
    hyperliquid_instruments,
    okx_instruments,
    woo_instruments,
)
from testudo.sim.model import Fill
from testudo.sim.prices import PriceFeed

DEFAULT_BALANCE = Decimal("10000")


@attrs.frozen
class SimConfig:
    """How to run a simulator."""

    host: str = "127.0.0.1"
    port: int = 8090
    seed: int = 0
    walk_interval_s: float | None = 1.0
    demo_balance: Decimal = DEFAULT_BALANCE
    prices: Mapping[str, Decimal] = attrs.field(factory=lambda: dict(DEFAULT_PRICES))
    clock: Clock = attrs.field(factory=SystemClock)
    hyperliquid_mainnet: bool = True


class Simulator:
    """All simulated state; every method is synchronous and runs to completion."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.feed = PriceFeed(config.prices, seed=config.seed)
        self.registry = Registry(seed=config.seed)
        self.faults = Faults(seed=config.seed)
        self.engines: dict[str, Engine] = {
            BINANCE: Engine(
                BINANCE,
                binance_instruments(),
                self.feed,
                self.clock,
                EngineSettings(
                    reject_immediate_trigger=True,
                    order_id_start=8_389_765_500,
                    trade_id_start=5_000_000_000,
                    history_id_start=1_000_000_000,
                    seed=config.seed,
                ),
            ),
            HYPERLIQUID: Engine(
                HYPERLIQUID,
                hyperliquid_instruments(),
                self.feed,
                self.clock,
                EngineSettings(
                    ioc_without_fill_is_error=True,
                    order_id_start=30_000_000_000,
                    trade_id_start=900_000_000_000_000,
                    history_id_start=500_000_000_000_000,
                    seed=config.seed,
                ),
            ),
            OKX: Engine(
                OKX,
                okx_instruments(),
                self.feed,
                self.clock,
                EngineSettings(
                    reject_immediate_trigger=True,
                    order_id_start=2_896_576_259_728_695_296,
                    trade_id_start=700_000_000_000_000_000,
                    history_id_start=600_000_000_000_000_000,
                    seed=config.seed,
                ),
            ),
            WOO: Engine(
                WOO,
                woo_instruments(),
                self.feed,
                self.clock,
                EngineSettings(
                    order_id_start=65_902_000_000,
                    trade_id_start=1_750_000_000,
                    history_id_start=1_500_000_000,
                    seed=config.seed,
                ),
            ),
        }

    def create_account(
        self, balance: Decimal = DEFAULT_BALANCE, permissions: Mapping[str, bool] | None = None
    ) -> Credentials:
        """A new identity with ``balance`` on every venue."""
        if balance < 0:
            raise ValueError("balance must not be negative")
        creds = self.registry.create(permissions=permissions, now_ms=self.clock.now_ms())
        for engine in self.engines.values():
            engine.open_account(creds.account_id, balance)
        return creds

    def set_price(self, symbol: str, price: Decimal, *, freeze: bool | None = None) -> list[Fill]:
        """Move a symbol's reference price now; resting and trigger orders react at once."""
        self.feed.set(symbol, price, freeze=freeze)
        return self._react([symbol])

    def step(self, steps: int = 1) -> list[Fill]:
        """Advance the random walk ``steps`` times."""
        fills: list[Fill] = []
        for _ in range(steps):
            fills.extend(self._react(self.feed.step()))
        return fills

    def generate_history(
        self, creds: Credentials, venue: str, *, fills: int, days: int, seed: int
    ) -> int:
        """Store ``fills`` generated past fills for the account on ``venue``."""
        engine = self.engines[venue]
        marks = {symbol: engine.mark(symbol) for symbol in engine.instruments}
        order_ids, fill_ids = engine.reserve_history_ids(fills)
        generated = generate_fills(
            tuple(engine.instruments.values()),
            marks,
            account_id=creds.account_id,
            count=fills,
            days=days,
            seed=seed,
            end_ms=self.clock.now_ms(),
            order_ids=order_ids,
            fill_ids=fill_ids,
        )
        return engine.add_history(creds.account_id, generated)

    def _react(self, symbols: list[str]) -> list[Fill]:
        fills: list[Fill] = []
        for engine in self.engines.values():
            for symbol in symbols:
                if symbol in engine.instruments:
                    fills.extend(engine.on_price(symbol))
        return fills
