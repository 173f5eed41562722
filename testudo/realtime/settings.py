"""Settings of the realtime feed: retention, catch-up, market data, connection limits."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import attrs

DEFAULT_EXCHANGE = "binance"


@attrs.frozen
class RealtimeSettings:
    """How the event hub, the pruner and the market-data feeds behave (docs/realtime.md)."""

    #: Events are kept this long, then pruned; resuming from an older sequence needs a resync.
    retention_days: float = 7.0
    #: Seconds between two pruning runs.
    prune_interval: float = 3600.0
    #: Events deleted per pruning transaction.
    prune_batch: int = 5000
    #: Seconds between two safety polls of the streams this node delivers (missed NOTIFY guard).
    safety_poll_interval: float = 5.0
    #: Rows per page when catching up or replaying from the events table.
    page_size: int = 500
    #: Serve public market data (polling exchanges while someone is subscribed).
    market_data: bool = True
    #: The exchange of ``ticker.BTC_USDT`` (others: ``ticker.BTC_USDT@hyperliquid``).
    market_data_exchange: str = DEFAULT_EXCHANGE
    #: Seconds between two polls of one (exchange, symbol) feed.
    market_data_interval: float = 1.0
    #: A feed with no subscriber left is stopped within this many seconds.
    market_data_linger: float = 5.0
    #: Frames one connection may have queued (replies, private events) before it is closed.
    send_queue: int = 1024
    #: Live private events buffered per stream while its replay runs.
    replay_buffer: int = 10_000
    #: Seconds a closing connection gets to flush and finish the close handshake.
    close_timeout: float = 5.0


def add_realtime_arguments(parser: argparse.ArgumentParser, env: Callable[..., str | None]) -> None:
    """The realtime options of ``testudo serve`` (each also ``TESTUDO_<NAME>``)."""
    parser.add_argument(
        "--event-retention-days",
        type=float,
        default=env("EVENT_RETENTION_DAYS", "7"),
        help="keep realtime events this many days (resuming from older ones needs a resync)",
    )
    parser.add_argument(
        "--market-data-exchange",
        default=env("MARKET_DATA_EXCHANGE", DEFAULT_EXCHANGE),
        help="the exchange of ticker.BTC_USDT (others: ticker.BTC_USDT@<exchange>)",
    )
    parser.add_argument(
        "--market-data-interval",
        type=float,
        default=env("MARKET_DATA_INTERVAL", "1"),
        help="seconds between two polls of a market-data feed",
    )


def realtime_from_args(args: argparse.Namespace) -> RealtimeSettings:
    """The realtime settings from parsed arguments (missing ones keep their defaults)."""
    values: dict[str, object] = {}
    if getattr(args, "event_retention_days", None) is not None:
        values["retention_days"] = float(args.event_retention_days)
    if getattr(args, "market_data_exchange", None):
        from testudo.config import ConfigError
        from testudo.exchanges.catalog import BY_ID

        exchange = str(args.market_data_exchange).lower()
        if exchange not in BY_ID:
            raise ConfigError(f"unknown market-data exchange: {exchange!r}")
        values["market_data_exchange"] = exchange
    if getattr(args, "market_data_interval", None) is not None:
        values["market_data_interval"] = float(args.market_data_interval)
    return RealtimeSettings(**values)  # type: ignore[arg-type]
