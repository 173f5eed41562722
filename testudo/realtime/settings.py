"""Settings of the realtime feed: retention, catch-up, market data, connection limits.

:data:`OPTIONS` are this part's rows of the settings table; :mod:`testudo.config` puts them in
its section ``realtime`` (flags, ``TESTUDO_*`` variables and docs come from there).
"""

from __future__ import annotations

import attrs

from testudo import option_parsers as p
from testudo.exchanges.catalog import BY_ID
from testudo.options import Option

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


def exchange(raw: str) -> str:
    """A known exchange id (any case)."""
    value = raw.strip().lower()
    if value not in BY_ID:
        raise ValueError(f"unknown market-data exchange: {value!r}")
    return value


OPTIONS = (
    Option(
        "retention_days",
        "--event-retention-days",
        "EVENT_RETENTION_DAYS",
        p.days,
        "7",
        "days realtime events are kept for resumes, then pruned (older resumes need a resync)",
    ),
    Option(
        "prune_interval",
        "--event-prune-interval",
        "EVENT_PRUNE_INTERVAL",
        p.seconds,
        "3600",
        "seconds between two runs of the event pruner",
    ),
    Option(
        "prune_batch",
        "--event-prune-batch",
        "EVENT_PRUNE_BATCH",
        p.count,
        "5000",
        "events deleted per pruning transaction",
    ),
    Option(
        "safety_poll_interval",
        "--safety-poll-interval",
        "SAFETY_POLL_INTERVAL",
        p.seconds,
        "5",
        "seconds between two reads of the delivered streams' heads (guards a missed NOTIFY)",
    ),
    Option(
        "page_size",
        "--event-page-size",
        "EVENT_PAGE_SIZE",
        p.count,
        "500",
        "events read per page when a connection catches up or replays",
    ),
    Option(
        "market_data",
        "--market-data",
        "MARKET_DATA",
        p.boolean,
        "true",
        "serve public market data (exchanges polled while someone is subscribed)",
        switch=True,
    ),
    Option(
        "market_data_exchange",
        "--market-data-exchange",
        "MARKET_DATA_EXCHANGE",
        exchange,
        DEFAULT_EXCHANGE,
        "exchange of `ticker.BTC_USDT` (others: `ticker.BTC_USDT@hyperliquid`)",
    ),
    Option(
        "market_data_interval",
        "--market-data-interval",
        "MARKET_DATA_INTERVAL",
        p.seconds,
        "1",
        "seconds between two polls of a market-data feed",
    ),
    Option(
        "market_data_linger",
        "--market-data-linger",
        "MARKET_DATA_LINGER",
        p.seconds,
        "5",
        "a feed with no subscriber left is stopped within this many seconds",
    ),
    Option(
        "send_queue",
        "--ws-send-queue",
        "WS_SEND_QUEUE",
        p.count,
        "1024",
        "frames (replies, private events) one connection may have queued before it is closed "
        "as a slow consumer (1013)",
    ),
    Option(
        "replay_buffer",
        "--ws-replay-buffer",
        "WS_REPLAY_BUFFER",
        p.count,
        "10000",
        "live private events buffered per stream while its replay runs",
    ),
    Option(
        "close_timeout",
        "--ws-close-timeout",
        "WS_CLOSE_TIMEOUT",
        p.seconds,
        "5",
        "seconds a closing connection gets to flush and finish the close handshake",
    ),
)
