"""Market data: one feed actor per (exchange, symbol), alive only while someone subscribes.

:class:`MarketDataFeed` polls the exchange through its own ccxt client (sync API, every call in
``trio.to_thread.run_sync``) for the kinds that have subscribers on this node (ticker, order
book, public trades) and publishes straight to this node's router, which conflates per
connection. Errors (exchange, network, unexpected data) are logged once and retried with
backoff; they never crash it, so one bad symbol cannot exhaust its supervisors' restarts.

:class:`FeedManager` starts a feed on the first subscriber (:class:`Want`) and reconciles on a
timer (:class:`Sweep`): a feed whose streams have no subscriber left is stopped, and a
subscribed feed that is not running (crashed, or its start failed) is started again.

Market data does not go through the events table: it is public, conflated and has no history to
replay, while NOTIFY serialises every committing transaction on the database. Each node polls
for its own subscribers instead (docs/realtime.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Never

import attrs
import ccxt
import trio

from actors.runtime.actor import Actor, ActorContext, Ask
from actors.runtime.errors import ActorError
from actors.runtime.registry import Registry
from actors.runtime.supervisor import Restart, SupervisorRef
from testudo.exchanges import catalog
from testudo.exchanges.clients import ClientFactory
from testudo.exchanges.symbols import to_ccxt
from testudo.exchanges.venues.base import contract_size
from testudo.realtime import channels, market
from testudo.realtime.router import StreamRouter
from testudo.realtime.settings import RealtimeSettings

log = logging.getLogger("testudo.market_data")

FeedKey = tuple[str, str]  # (exchange id, Testudo symbol)
MAX_BACKOFF = 30.0


@attrs.frozen
class Want(Ask[bool]):
    """Make sure the feed of (exchange, symbol) runs."""

    exchange: str
    symbol: str


@attrs.frozen
class Sweep(Ask[bool]):
    """Stop feeds nobody subscribes to any more; start subscribed ones that are missing."""


@attrs.frozen
class RunningFeeds(Ask[list[FeedKey]]):
    """Ask for the feeds running now: replies a sorted list of (exchange, symbol)."""


FeedMessage = Want | Sweep | RunningFeeds


class MarketDataFeed(Actor[Never]):
    """Polls one (exchange, symbol) and publishes ticker, depth and trades."""

    kind = "market_data"

    def __init__(
        self,
        key: FeedKey,
        clients: ClientFactory,
        router: StreamRouter,
        settings: RealtimeSettings,
        limiter: trio.CapacityLimiter,
    ) -> None:
        self.exchange, self.symbol = key
        self._clients = clients
        self._router = router
        self._settings = settings
        self._limiter = limiter
        self._streams = {
            kind: channels.feed_streams(
                self.exchange, self.symbol, kind, settings.market_data_exchange
            )
            for kind in channels.PUBLIC_KINDS
            if (self.exchange, kind) not in channels.UNAVAILABLE
        }
        self._last: dict[str, dict[str, Any]] = {}
        self._trades = market.TradeWatermark()
        self._failures = 0
        self._last_error: str | None = None

    async def started(self, ctx: ActorContext[Never]) -> None:
        ctx.nursery.start_soon(self._run)

    async def _run(self) -> None:
        info = catalog.BY_ID[self.exchange]
        unified = to_ccxt(info, self.symbol)
        client: Any = None
        while True:
            began = trio.current_time()
            try:
                if client is None:
                    client = await self._call(lambda: self._clients.create(info))
                await self._poll(client, unified)
                self._failures = 0
            except Exception as exc:  # exchange or data problems must not crash the node
                self._failed(exc)
            delay = self._settings.market_data_interval
            if self._failures:
                delay = min(MAX_BACKOFF, delay * 2**self._failures)
            await trio.sleep_until(began + delay)

    async def _poll(self, client: Any, unified: str) -> None:
        """One round: fetch and publish every kind that has a subscriber on this node."""
        fetchers: dict[str, Callable[[], Any]] = {
            "ticker": lambda: client.fetch_ticker(unified),
            "depth": lambda: client.fetch_order_book(unified, market.DEPTH_LEVELS),
            "trade": lambda: client.fetch_trades(unified),
        }
        for kind, streams in self._streams.items():
            if not self._router.has_public(*streams):
                if kind == "trade":
                    self._trades = market.TradeWatermark()  # re-prime on the next subscriber
                continue
            result = await self._call(fetchers[kind])
            self._publish(kind, streams, result, size_of(client, unified))

    async def _call(self, fn: Callable[[], Any]) -> Any:
        # Abandoned on cancel: a read-only HTTP call may finish in the background.
        return await trio.to_thread.run_sync(fn, limiter=self._limiter, abandon_on_cancel=True)

    def _publish(self, kind: str, streams: tuple[str, ...], result: Any, size: Decimal) -> None:
        now_ms = int(time.time() * 1000)
        if kind == "trade":
            for trade in self._trades.fresh(result):
                message = market.trade_message(self.exchange, self.symbol, trade, now_ms, size)
                for stream in streams:
                    self._router.publish_public(stream, message)
            return
        if kind == "ticker":
            message = market.ticker_message(self.exchange, self.symbol, result, now_ms)
        else:
            message = market.depth_message(self.exchange, self.symbol, result, now_ms, size)
        if market.same_state(self._last.get(kind), message):
            return
        self._last[kind] = message
        for stream in streams:
            self._router.publish_public(stream, message)

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if error != self._last_error:  # once per distinct error, not once per poll
            log.warning(
                "market data poll failed",
                exc_info=not isinstance(exc, ccxt.BaseError),
                extra={
                    "json_fields": {
                        "event": "market_data_failed",
                        "exchange": self.exchange,
                        "symbol": self.symbol,
                        "error": error,
                    }
                },
            )
        self._last_error = error


FeedFactory = Callable[[FeedKey], Actor[Never]]


class FeedManager(Actor[FeedMessage]):
    """Starts and stops this node's market-data feeds by subscriber presence."""

    kind = "market_data_manager"

    def __init__(
        self,
        feeds: SupervisorRef,
        router: StreamRouter,
        settings: RealtimeSettings,
        factory: FeedFactory,
        wanted: Callable[[], set[FeedKey]],
        registry: Registry,
    ) -> None:
        self._feeds = feeds
        self._router = router
        self._settings = settings
        self._factory = factory
        self._wanted = wanted
        self._registry = registry  # outlives this actor: a restarted manager knows its feeds

    async def started(self, ctx: ActorContext[FeedMessage]) -> None:
        ctx.nursery.start_soon(self._timer, ctx)

    async def _timer(self, ctx: ActorContext[FeedMessage]) -> None:
        while True:
            await trio.sleep(self._settings.market_data_linger)
            await ctx.ref.send(Sweep())

    async def handle(self, message: FeedMessage) -> bool | list[FeedKey]:
        match message:
            case Want(exchange, symbol):
                return message.reply(await self._ensure((exchange, symbol)))
            case Sweep():
                await self._sweep()
                return message.reply(True)
            case RunningFeeds():
                return message.reply(sorted(self._running()))
        self.unhandled(message)

    def _running(self) -> list[FeedKey]:
        running = []
        for key in self._registry.running():
            if isinstance(key, tuple) and len(key) == 3 and key[0] == "market_data":
                running.append((str(key[1]), str(key[2])))
        return running

    async def _ensure(self, key: FeedKey) -> bool:
        try:
            await self._registry.ensure(
                ("market_data", *key),
                self._feeds,
                lambda: self._factory(key),
                name=_name(key),
                restart=Restart.TRANSIENT,
            )
        except (ActorError, ValueError) as exc:
            log.warning(
                "market data feed did not start",
                extra={"json_fields": {"event": "feed_start_failed", "error": str(exc)}},
            )
            return False
        return True

    async def _sweep(self) -> None:
        wanted = self._wanted()
        supervisor = self._feeds.current
        if supervisor is None:
            return
        running = self._running()
        for key in running:
            if key not in wanted:
                await supervisor.stop_child(_name(key), "no subscribers")
        for key in wanted.difference(running):
            await self._ensure(key)


def _name(key: FeedKey) -> str:
    return f"{key[0]}-{key[1]}"


def size_of(client: Any, unified: str) -> Decimal:
    """Base units per ccxt amount of ``unified`` (its contract size; 1 before the markets
    are loaded, which the first fetch does)."""
    markets = getattr(client, "markets", None) or {}
    return contract_size(markets[unified]) if unified in markets else Decimal(1)
