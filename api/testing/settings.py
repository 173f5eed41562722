"""The settings of a service under test, and of one that trades on the simulator."""

from __future__ import annotations

from pathlib import Path

import attrs

from testudo.config import Settings
from testudo.realtime.settings import RealtimeSettings

SIWE_DOMAIN = "desk.testudo.test"
SIWE_URI = "https://desk.testudo.test"


def make_settings(db_url: str, data_dir: Path) -> Settings:
    """A service on ephemeral ports and ``db_url``, with no exchange polling unless asked."""
    return Settings(
        http_port=0,
        ws_port=0,
        data_dir=data_dir,
        database_url=db_url,
        cors_origins=("https://desk.example",),
        shutdown_grace=2.0,
        db_pool_size=4,
        siwe_domain=SIWE_DOMAIN,
        siwe_uri=SIWE_URI,
        siwe_chain_ids=(1, 10),
        realtime=RealtimeSettings(market_data=False),
        # tests sign in many wallets from one address at one instant (tests/adversarial checks
        # the real limits)
        signin_per_client_per_minute=100_000,
        signin_per_second=100_000,
    )


def on_simulator(settings: Settings, sim_url: str) -> Settings:
    """``settings`` with every exchange request sent to the simulator at ``sim_url``, and the
    trade loop quick enough for a test to watch."""
    return attrs.evolve(
        settings,
        exchange_base_url=sim_url,
        exchange_timeout_ms=1500,
        trade_poll_interval=0.25,
        order_recheck_interval=1.0,
        exchange_rate_limit=False,
    )
