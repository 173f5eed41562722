"""The exchange-account actor's poller: what the account's trade groups learn, and when.

Every cycle reads the account's positions (cheap on every venue); the open orders of the
watched symbols are read when the positions changed (an order filled), when a group asked
(a new group, a command), and at least every ``recheck`` seconds (a stop cancelled in the
exchange's app changes no position). Each watching group then gets an
:class:`~actors.exchanges.exchange_account.WatchReport` of its symbol: the orders when they were
read (``None`` otherwise: a heartbeat), and the net positions read *before* them.

While a group waits for a fill or lacks its stop (it watches *urgently*), cycles come every
``fast_interval`` seconds instead of ``interval``. Every request first asks the process's
:class:`~testudo.exchanges.governor.Governor` for its weight, so all accounts of a venue
together stay inside the venue's published request budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from actors.runtime.errors import ActorStopped, MailboxFull
from testudo.exchanges.book import Book, fetch_orders, net_by_base
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.governor import Governor
from testudo.exchanges.venues import Position, Venue

Caller = Callable[[Callable[[Any], Any], str], Awaitable[Any]]


@attrs.define
class Watcher:
    ref: Any
    symbol: str
    wants_price: bool = False
    urgent: bool = False


@attrs.define
class AccountPoller:
    """Watchers, the last book, and the polling cycle of one account."""

    venue: Venue
    call: Caller  # runs ``fn(client)`` in the background lane: Done or ExchangeFailure
    governor: Governor
    interval: float
    fast_interval: float
    recheck: float
    report_type: Any  # WatchReport (passed in to keep the message in one module)
    watchers: dict[str, Watcher] = attrs.Factory(dict)
    book: Book | None = None
    book_at: float = -1e9
    orders_at: float = -1e9
    orders_wanted: bool = True
    last_net: dict[str, Decimal] | None = None
    polling: bool = False

    def watch(self, key: str, watcher: Watcher) -> None:
        known = self.watchers.get(key)
        if known is None or known.symbol != watcher.symbol:
            self.orders_wanted = True  # a new watcher gets the orders at the next cycle
        self.watchers[key] = watcher

    def unwatch(self, key: str) -> None:
        self.watchers.pop(key, None)

    async def run(self) -> None:
        """Poll while someone watches: fast while a watcher is urgent."""
        while True:
            urgent = any(w.urgent for w in self.watchers.values())
            await trio.sleep(self.fast_interval if urgent else self.interval)
            if self.watchers:
                await self.poll()

    async def poll(self) -> None:
        if self.polling:
            return
        self.polling = True
        try:
            await self._cycle()
        finally:
            self.polling = False

    async def _cycle(self) -> None:
        venue_id = self.venue.info.id
        symbols = sorted({w.symbol for w in self.watchers.values()})
        await self.governor.acquire(venue_id, self.venue.positions_weight)
        read_at = trio.current_time()
        result = await self.call(self.venue.positions, "poll_positions")
        if isinstance(result, ExchangeFailure):
            return
        positions: list[Position] = result.value
        net = net_by_base(positions)
        now = trio.current_time()
        changed = net != self.last_net
        self.last_net = net
        if not (changed or self.orders_wanted or now - self.orders_at >= self.recheck):
            self._tell(symbols, None, await self._prices(symbols), net, read_at)
            return
        self.orders_wanted = False
        await self.governor.acquire(venue_id, self.venue.open_orders_weight(len(symbols)))
        fetch = _orders_reader(self.venue, symbols)
        answer = await self.call(fetch, "poll_orders")
        if isinstance(answer, ExchangeFailure):
            self.orders_wanted = True
            return
        self.orders_at = trio.current_time()
        self.book = Book(tuple(positions), tuple(answer.value), frozenset(symbols))
        self.book_at = self.orders_at
        prices = await self._prices(symbols)
        self._tell(symbols, self.book, prices, net, read_at)

    async def _prices(self, symbols: list[str]) -> dict[str, Decimal]:
        priced = [
            s
            for s in symbols
            if any(w.symbol == s and w.wants_price for w in self.watchers.values())
        ]
        if not priced:
            return {}
        answer = await self.call(lambda c: self.venue.last_prices(c, priced), "poll_price")
        return {} if isinstance(answer, ExchangeFailure) else dict(answer.value)

    def _tell(
        self,
        symbols: list[str],
        book: Book | None,
        prices: dict[str, Decimal],
        net: dict[str, Decimal],
        positions_at: float,
    ) -> None:
        at = trio.current_time()
        for symbol in symbols:
            orders = None if book is None else book.orders_of(symbol)
            report = self.report_type(at, orders, prices.get(symbol), net, positions_at)
            for key, watcher in list(self.watchers.items()):
                if watcher.symbol != symbol:
                    continue
                try:
                    watcher.ref.send_nowait(report)
                except MailboxFull:
                    continue  # a busy group catches up on the next report
                except ActorStopped:
                    self.watchers.pop(key, None)


def _orders_reader(venue: Venue, symbols: list[str]) -> Callable[[Any], Any]:
    return lambda client: fetch_orders(client, venue, symbols)
