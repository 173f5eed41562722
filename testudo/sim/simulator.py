"""The simulator as a whole: price feed, identities, one engine per venue, faults."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from testudo.sim.account_options import AccountOptions
from testudo.sim.accounts import Credentials, Registry
from testudo.sim.clock import Clock, SystemClock
from testudo.sim.engine import Engine, EngineSettings
from testudo.sim.faults import Faults
from testudo.sim.funding import HOUR_MS, Payment
from testudo.sim.history import generate_fills
from testudo.sim.instruments import (
    BINANCE,
    BYBIT,
    DEFAULT_PRICES,
    HYPERLIQUID,
    OKX,
    WOO,
    binance_instruments,
    bybit_instruments,
    hyperliquid_instruments,
    okx_instruments,
    woo_instruments,
)
from testudo.sim.model import Fill
from testudo.sim.prices import PriceFeed
from testudo.sim.ratelimit import Budget, Budgets, WeightWindow
from testudo.sim.request_log import DEFAULT_CAPACITY, RequestLog

DEFAULT_BALANCE = Decimal("10000")
BINANCE_SAPI = "binance_sapi"
# Venues whose accounts hold several collateral assets (Binance: USDC beside USDT).
MULTI_ASSET_VENUES = frozenset({BINANCE})
# Per-IP request-weight limits per minute, as the venues publish them.
BINANCE_WEIGHT_LIMIT = 2400  # USD-M exchangeInfo rateLimits REQUEST_WEIGHT, 1 MINUTE
BINANCE_SAPI_WEIGHT_LIMIT = 12_000  # /sapi endpoints: a separate IP limit
HYPERLIQUID_WEIGHT_LIMIT = 1200  # "REST requests share an aggregated weight limit of 1200"


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
    binance_weight_limit: int | None = BINANCE_WEIGHT_LIMIT
    hyperliquid_weight_limit: int | None = HYPERLIQUID_WEIGHT_LIMIT
    request_log_size: int = DEFAULT_CAPACITY
    scheduled_funding: bool = True


class Simulator:
    """All simulated state; every method is synchronous and runs to completion."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.feed = PriceFeed(config.prices, seed=config.seed)
        self.registry = Registry(seed=config.seed)
        self.faults = Faults(seed=config.seed)
        self.requests = RequestLog(config.request_log_size)
        self.budgets = weight_budgets(config)
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
                    scheduled_funding=config.scheduled_funding,
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
                    funding_interval_ms=HOUR_MS,
                    scheduled_funding=config.scheduled_funding,
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
                    scheduled_funding=config.scheduled_funding,
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
                    scheduled_funding=config.scheduled_funding,
                ),
            ),
            BYBIT: Engine(
                BYBIT,
                bybit_instruments(),
                self.feed,
                self.clock,
                EngineSettings(
                    reject_immediate_trigger=True,
                    order_id_start=70_000_000,
                    trade_id_start=9_000_000_000,
                    history_id_start=3_000_000_000,
                    seed=config.seed,
                    scheduled_funding=config.scheduled_funding,
                ),
            ),
        }

    def create_account(
        self,
        balance: Decimal = DEFAULT_BALANCE,
        permissions: Mapping[str, bool] | None = None,
        options: AccountOptions | None = None,
    ) -> Credentials:
        """A new identity funded on every venue.

        Without ``options.balances`` each venue holds ``balance`` of its settlement asset;
        with them, each venue holds what ``balances`` gives for the assets it keeps (Binance
        USDT, plus USDC as collateral; Hyperliquid USDC only), and nothing for the others.
        """
        if balance < 0:
            raise ValueError("balance must not be negative")
        chosen = options or AccountOptions()
        creds = self.registry.create(
            permissions=permissions, now_ms=self.clock.now_ms(), options=chosen
        )
        for venue, engine in self.engines.items():
            settle = next(iter(engine.instruments.values())).settle
            multi = venue in MULTI_ASSET_VENUES
            others = {a: v for a, v in chosen.balances.items() if a != settle and multi}
            engine.open_account(
                creds.account_id,
                chosen.balance_of(settle, balance),
                collateral=others,
                multi_assets=multi and chosen.multi_assets,
            )
        return creds

    def account_options(self, account_id: int) -> AccountOptions:
        """The options an account was created with (position mode, collateral mode, balances).

        The one accessor every dialect reads account modes from; raise ``KeyError`` for an
        unknown account.
        """
        return self.registry.options[account_id]

    def set_account_options(self, account_id: int, options: AccountOptions) -> None:
        """Change an account's modes (a venue's mode switch, e.g. Binance's position mode).

        ``multi_assets`` also switches which collateral backs the margin; ``balances`` only
        describe the funding and are not applied again.
        """
        if account_id not in self.registry.options:
            raise KeyError(account_id)
        self.registry.options[account_id] = options
        for venue in MULTI_ASSET_VENUES:
            self.engines[venue].account(account_id).multi_assets = options.multi_assets

    def now(self) -> int:
        """Milliseconds on the simulator's clock."""
        return self.clock.now_ms()

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

    def settle_funding(self) -> list[Payment]:
        """Pay the funding times that passed on the clock, on every venue."""
        return [p for engine in self.engines.values() for p in engine.settle_funding()]

    def set_funding_rate(self, venue: str, symbol: str, rate: Decimal) -> None:
        """The funding rate ``symbol`` pays on ``venue`` from the next funding time on."""
        engine = self.engines[venue]
        engine.instrument(symbol)
        engine.funding.rates[symbol] = rate

    def pay_funding(self, venue: str) -> list[Payment]:
        """A funding time on ``venue`` now, whatever the schedule."""
        self.settle_funding()
        return self.engines[venue].pay_funding()

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


def weight_budgets(config: SimConfig) -> Budgets:
    """The per-IP request-weight budgets of the venues (names used by ``/_sim/weights``)."""
    budgets = Budgets()
    budgets.add(
        BINANCE,
        Budget(
            WeightWindow(sliding=False),
            config.binance_weight_limit,
            "Binance USD-M REQUEST_WEIGHT 2400 / 1 MINUTE (exchangeInfo rateLimits)",
        ),
    )
    budgets.add(
        BINANCE_SAPI,
        Budget(
            WeightWindow(sliding=False),
            None if config.binance_weight_limit is None else BINANCE_SAPI_WEIGHT_LIMIT,
            "Binance /sapi IP limit 12000 / 1 MINUTE",
        ),
    )
    budgets.add(
        HYPERLIQUID,
        Budget(
            WeightWindow(sliding=True),
            config.hyperliquid_weight_limit,
            "Hyperliquid docs, Rate limits: 1200 weight per minute per IP",
        ),
    )
    return budgets
