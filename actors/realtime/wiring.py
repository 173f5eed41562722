"""Start the realtime actors under the root supervisor and return the node's :class:`Realtime`.

Children of ``root`` (in start order, stopped in reverse):

* ``stream-hub``: :class:`~actors.realtime.stream_hub.StreamHub` (listener → router, catch-up);
* ``event-pruner``: :class:`~actors.realtime.event_pruner.EventPruner` (retention);
* ``market-data``: a supervisor of the per-(exchange, symbol) feeds;
* ``market-feeds``: :class:`~actors.realtime.market_data.FeedManager` (starts/stops feeds).
"""

from __future__ import annotations

from typing import Protocol

import trio

from actors import ActorRef, ChildSpec, Registry, Supervisor, SupervisorRef
from actors.realtime.core import Realtime
from actors.realtime.event_pruner import EventPruner
from actors.realtime.market_data import FeedKey, FeedManager, MarketDataFeed
from actors.realtime.pg_listener import ListenerMessage
from actors.realtime.stream_hub import StreamHub
from testudo.clock import Clock
from testudo.config import Settings
from testudo.db import Database
from testudo.exchanges.catalog import EXCHANGES
from testudo.exchanges.clients import ClientFactory


class RealtimeDeps(Protocol):
    """What the realtime actors need from the running system (a narrow port)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def listener(self) -> ActorRef[ListenerMessage]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def clients(self) -> ClientFactory: ...
    @property
    def registry(self) -> Registry: ...


#: Concurrent market-data calls per exchange (ccxt rate-limits each client on top of this).
CALLS_PER_EXCHANGE = 4


async def start_realtime(root: Supervisor, system: RealtimeDeps) -> Realtime:
    """Start the realtime actors under ``root``; return the node's :class:`Realtime`."""
    settings = system.settings.realtime
    realtime = Realtime(system.db, settings)
    router = realtime.router
    realtime.hub = await root.start_child(
        ChildSpec(
            "stream-hub",
            lambda: StreamHub(
                system.listener, system.db, router, settings, on_reconnected=realtime.reconnected
            ),
        )
    )
    realtime.pruner = await root.start_child(
        ChildSpec("event-pruner", lambda: EventPruner(system.db, system.clock, settings))
    )
    feeds: SupervisorRef = await root.start_child(
        ChildSpec("market-data", lambda: Supervisor("market-data", intensity=50, period=60))
    )
    limiters = {info.id: trio.CapacityLimiter(CALLS_PER_EXCHANGE) for info in EXCHANGES}

    def feed(key: FeedKey) -> MarketDataFeed:
        return MarketDataFeed(key, system.clients, router, settings, limiters[key[0]])

    realtime.feeds = await root.start_child(
        ChildSpec(
            "market-feeds",
            lambda: FeedManager(
                feeds, router, settings, feed, realtime.wanted_feeds, system.registry
            ),
        )
    )
    return realtime
