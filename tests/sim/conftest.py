"""Fixtures of the simulator tests (the ``sim`` fixture comes from the plugin module)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.engine import Engine, EngineSettings
from testudo.sim.instruments import (
    BINANCE,
    DEFAULT_PRICES,
    HYPERLIQUID,
    binance_instruments,
    hyperliquid_instruments,
)
from testudo.sim.prices import PriceFeed
from testudo.sim.pytest_plugin import sim, sim_config

__all__ = ["sim", "sim_config"]


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when told."""
    return ManualClock()


@pytest.fixture
def feed() -> PriceFeed:
    """BTC 50000, ETH 3000, SOL 150; walk seeded with 7."""
    return PriceFeed(DEFAULT_PRICES, seed=7)


@pytest.fixture
def binance_engine(feed: PriceFeed, clock: ManualClock) -> Engine:
    """A Binance-flavoured engine with account 1 holding 10000 USDT."""
    engine = Engine(
        BINANCE, binance_instruments(), feed, clock, EngineSettings(reject_immediate_trigger=True)
    )
    engine.open_account(1, Decimal("10000"))
    return engine


@pytest.fixture
def hl_engine(feed: PriceFeed, clock: ManualClock) -> Engine:
    """A Hyperliquid-flavoured engine with account 1 holding 10000 USDC."""
    engine = Engine(
        HYPERLIQUID,
        hyperliquid_instruments(),
        feed,
        clock,
        EngineSettings(ioc_without_fill_is_error=True),
    )
    engine.open_account(1, Decimal("10000"))
    return engine


@pytest.fixture
def reprice(feed: PriceFeed, binance_engine: Engine) -> Callable[[str, str], None]:
    """Set a reference price and let the Binance engine react."""

    def move(symbol: str, price: str) -> None:
        feed.set(symbol, Decimal(price))
        binance_engine.on_price(symbol)

    return move


@pytest.fixture
async def account(sim: SimClient) -> SimAccount:
    """A fresh account with 10000 USDT on Binance and 10000 USDC on Hyperliquid."""
    return await sim.create_account("10000")


@pytest.fixture
def binance(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.binanceusdm`` for ``account``, pointed at the simulator."""
    return sim.binance(account)


@pytest.fixture
def hyperliquid(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.hyperliquid`` signing with ``account``'s wallet key."""
    return sim.hyperliquid(account)


@pytest.fixture
def okx(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.okx`` for ``account`` (key, secret, passphrase), pointed at the simulator."""
    return sim.okx(account)


@pytest.fixture
def woo(sim: SimClient, account: SimAccount) -> Any:
    """A real ``ccxt.woo`` for ``account``, pointed at the simulator."""
    return sim.woo(account)
