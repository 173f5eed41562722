"""The exchange-account actor: one per active account, owning its ccxt client.

Every call to the account's exchange goes through this actor, one at a time, in a worker
thread (``trio.to_thread``; ccxt's sync API with its rate limiter), so calls to one account are
serialised and rate-limited in one place. Markets are loaded on first use and refreshed hourly.
Read calls are retried with backoff on transient failures (timeouts, 429, 5xx, outages);
writes (order creation) are never retried here: the caller looks the order up by its client
order id instead. Each call's outcome is recorded on the gateway health board, and balance
changes are published as ``balance.<user_id>`` events.

The actor also keeps the account's :class:`~testudo.exchanges.funds.Funds` (balance,
positions, last prices) for the Decision Loop. A :class:`Snapshot` is answered from them only
while they were fetched *after the account's last write* and are at most ``state_max_age``
seconds old (prices: ``price_max_age``); otherwise they are fetched first. After a burst of
writes pauses, the actor refreshes them itself, so the next decision normally finds fresh funds
waiting instead of paying for two or three exchange requests (docs/trading.md, "Account
state").
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from testudo.db import Database
from testudo.exchanges.catalog import ExchangeInfo
from testudo.exchanges.clients import ClientFactory, Credentials
from testudo.exchanges.errors import ExchangeFailure, failure_from, retry_after_of
from testudo.exchanges.funds import Funds, fetch_funds, fetch_prices
from testudo.exchanges.health import HealthBoard
from testudo.trading import venue

from .actor import Actor, ActorContext
from .errors import ActorStopped, MailboxFull

MARKETS_TTL = 3600.0
READ_ATTEMPTS = 3
REFRESH_QUIET = 0.1  # seconds without writes before the kept funds are fetched again
PRICE_INTEREST = 60.0  # a symbol's price is refreshed with the funds this long after a Snapshot
PUBLISH_BALANCE = "SELECT publish_event(%s, %s::jsonb)"


@attrs.frozen
class Call:
    """Run ``fn(client)`` in the account's worker thread. Replies ``Done`` or a failure."""

    fn: Callable[[Any], Any]
    read_only: bool = True
    name: str = "call"


@attrs.frozen
class Done:
    value: Any
    latency_ms: float


@attrs.frozen
class FetchBalance:
    """Fetch the funds now; reply ``Done(list[Balance])`` (non-zero assets).

    Publishes a balance event when the balances changed.
    """


@attrs.frozen
class Snapshot:
    """Reply a :class:`~testudo.trading.venue.AccountSnapshot` for a decision on ``symbol``.

    Answered from the kept funds when they are fresh (see the module docstring).
    """

    symbol: str
    need_price: bool = True


@attrs.frozen
class Refresh:
    """Fetch the funds again (queued by the actor itself behind every write)."""


@attrs.frozen
class Watch:
    """Deliver :class:`OrdersSnapshot` of ``symbol`` to ``ref`` after every poll."""

    key: str
    ref: Any
    symbol: str


@attrs.frozen
class Unwatch:
    key: str


@attrs.frozen
class Poll:
    """Fetch the account's open orders and tell every watcher (sent by the poller task)."""


@attrs.frozen
class OrdersSnapshot:
    """The account's open orders at ``at`` (monotonic seconds), by exchange order id."""

    at: float
    orders: dict[str, Any]


@attrs.frozen
class EnsureLeverage:
    """Set the symbol's leverage on the exchange unless it is already set (cached)."""

    symbol: str
    leverage: Decimal


@attrs.frozen
class AccountIdentity:
    """What the actor needs to know about its account (loaded by the accounts service)."""

    account_id: str
    user_id: str
    info: ExchangeInfo
    credentials: Credentials


class ExchangeAccountActor(Actor[Any]):
    kind = "exchange_account"

    def __init__(
        self,
        load: Callable[[], Any],
        clients: ClientFactory,
        health: HealthBoard,
        db: Database,
        *,
        retry_delay: float = 0.5,
        poll_interval: float = 2.0,
        state_max_age: float = 5.0,
        price_max_age: float = 2.0,
    ) -> None:
        self._load = load
        self._clients = clients
        self._health = health
        self._db = db
        self._retry_delay = retry_delay
        self.identity: AccountIdentity | None = None
        self._client: Any = None
        self._markets_at: float | None = None
        self._poll_interval = poll_interval
        self._watchers: dict[str, tuple[Any, str]] = {}
        self._leverage: dict[str, Decimal] = {}
        self._ctx: ActorContext | None = None
        self._state_max_age = state_max_age
        self._price_max_age = price_max_age
        self._writes = 0  # write calls made so far
        self._funds: Funds | None = None
        self._funds_at = 0.0  # trio time the kept funds' fetch started
        self._funds_writes = -1  # self._writes when they were fetched
        self._prices: dict[str, tuple[Decimal, float]] = {}  # symbol -> (price, fetched at)
        self._price_wanted: dict[str, float] = {}  # symbol -> last Snapshot asking for it
        self._refresh_queued = False  # a Refresh is scheduled or in the mailbox
        self._refresh_at = 0.0

    async def started(self, ctx: ActorContext) -> None:
        identity: AccountIdentity = await self._load()
        self.identity = identity
        self._ctx = ctx
        self._client = self._clients.create(identity.info, identity.credentials)
        ctx.nursery.start_soon(self._poller, ctx)

    async def _poller(self, ctx: ActorContext) -> None:
        """While trade groups watch this account, poll its open orders every interval."""
        while True:
            await trio.sleep(self._poll_interval)
            if self._watchers:
                with contextlib.suppress(MailboxFull):
                    ctx.ref.send_nowait(Poll())

    async def stopping(self) -> None:
        if self.identity is not None:
            self._health.forget(self.identity.account_id)

    async def handle(self, message: Any) -> Any:
        match message:
            case Call(fn, read_only, name):
                return await self._call(fn, read_only, name)
            case FetchBalance():
                latency = await self._refresh(funds=True)
                if isinstance(latency, ExchangeFailure):
                    return latency
                assert self._funds is not None
                return Done(list(self._funds.balances), latency)
            case Snapshot(symbol, need_price):
                return await self._snapshot(symbol, need_price)
            case Refresh():
                self._refresh_queued = False
                if self._funds_writes != self._writes:
                    await self._refresh(funds=True)
                return None
            case Watch(key, ref, symbol):
                self._watchers[key] = (ref, symbol)
                return True
            case Unwatch(key):
                self._watchers.pop(key, None)
                return True
            case Poll():
                await self._poll()
                return None
            case EnsureLeverage(symbol, leverage):
                if self._leverage.get(symbol) == leverage:
                    return None
                assert self.identity is not None
                info = self.identity.info
                result = await self._call(
                    functools.partial(
                        venue.set_leverage, info=info, symbol=symbol, leverage=leverage
                    ),
                    False,
                    "set_leverage",
                )
                if isinstance(result, ExchangeFailure):
                    return result
                self._leverage[symbol] = leverage
                return None
        return await super().handle(message)

    async def _poll(self) -> None:
        """One open-orders request per watched symbol (cheap on every venue's rate limits)."""
        assert self.identity is not None
        info = self.identity.info
        for symbol in sorted({symbol for _, symbol in self._watchers.values()}):
            fetch = functools.partial(venue.open_orders, info=info, symbol=symbol)
            result = await self._call(fetch, True, "poll")
            if isinstance(result, ExchangeFailure):
                continue
            orders = {state.exchange_order_id: state for _, state in result.value}
            snapshot = OrdersSnapshot(trio.current_time(), orders)
            for key, (ref, watched) in list(self._watchers.items()):
                if watched != symbol:
                    continue
                try:
                    ref.send_nowait(snapshot)
                except MailboxFull:
                    continue  # a busy group catches up on the next snapshot
                except ActorStopped:
                    self._watchers.pop(key, None)

    async def _call(
        self, fn: Callable[[Any], Any], read_only: bool, name: str
    ) -> Done | ExchangeFailure:
        """Run ``fn(client)`` in the worker thread, retrying reads on transient failures.

        A write, whatever its outcome, makes the kept funds stale and queues their refresh.
        """
        try:
            return await self._attempts(fn, read_only)
        finally:
            if not read_only:
                self._writes += 1
                self._queue_refresh()

    async def _attempts(self, fn: Callable[[Any], Any], read_only: bool) -> Done | ExchangeFailure:
        assert self.identity is not None
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                value = await trio.to_thread.run_sync(
                    self._run, fn, read_only, abandon_on_cancel=False
                )
            except Exception as exc:
                latency = (time.perf_counter() - started) * 1000
                failure = failure_from(exc, self.identity.info.id, retry_after_of(self._client))
                self._health.record(
                    self.identity.account_id,
                    self.identity.info.id,
                    ok=failure.status in (404, 422),
                    latency_ms=latency,
                    error=str(failure),
                )
                if read_only and failure.transient and attempt < READ_ATTEMPTS:
                    await trio.sleep(self._retry_delay * 2 ** (attempt - 1))
                    continue
                return failure
            latency = (time.perf_counter() - started) * 1000
            self._health.record(
                self.identity.account_id, self.identity.info.id, ok=True, latency_ms=latency
            )
            return Done(value, latency)

    def _run(self, fn: Callable[[Any], Any], read_only: bool) -> Any:
        """In the worker thread: make sure markets are fresh, then call ``fn``."""
        if not self._markets_fresh():
            self._client.load_markets(reload=self._markets_at is not None)
            self._markets_at = time.monotonic()
        return fn(self._client)

    def _markets_fresh(self) -> bool:
        return self._markets_at is not None and time.monotonic() - self._markets_at <= MARKETS_TTL

    # -- the kept funds ---------------------------------------------------------------

    async def _snapshot(self, symbol: str, need_price: bool) -> Any:
        """Funds fresh enough for a decision (fetched first when not), plus market rules."""
        assert self.identity is not None
        now = trio.current_time()
        self._price_wanted[symbol] = now
        funds_fresh = (
            self._funds is not None
            and self._funds_writes == self._writes
            and now - self._funds_at <= self._state_max_age
        )
        kept = self._prices.get(symbol)
        price_fresh = not need_price or (kept is not None and now - kept[1] <= self._price_max_age)
        if not funds_fresh or not price_fresh:
            failure = await self._refresh(funds=not funds_fresh)
            if isinstance(failure, ExchangeFailure):
                return failure
        info = self.identity.info
        rules_of = functools.partial(venue.market_rules, info=info, symbol=symbol, need_price=False)
        if self._markets_fresh():  # a lookup in the loaded markets: no I/O, no thread
            try:
                rules = rules_of(self._client)
            except Exception as exc:
                return failure_from(exc, info.id, None)
        else:
            result = await self._call(rules_of, True, "market_rules")
            if isinstance(result, ExchangeFailure):
                return result
            rules = result.value
        funds = self._funds
        assert funds is not None
        price = self._prices.get(symbol, (Decimal(0), 0.0))[0]
        return venue.AccountSnapshot(
            attrs.evolve(rules, last_price=price),
            funds.equity,
            funds.available,
            funds.position_symbols,
            funds.unrealized_pnl,
        )

    async def _refresh(self, *, funds: bool) -> float | ExchangeFailure:
        """Fetch the funds (or only the wanted prices); reply the latency in ms or a failure."""
        assert self.identity is not None
        started = trio.current_time()
        writes = self._writes
        wanted = sorted(s for s, at in self._price_wanted.items() if started - at <= PRICE_INTEREST)
        for symbol in [s for s, at in self._price_wanted.items() if started - at > PRICE_INTEREST]:
            self._price_wanted.pop(symbol, None)
            self._prices.pop(symbol, None)
        info = self.identity.info
        if funds:
            fn: Callable[[Any], Any] = functools.partial(
                fetch_funds, info=info, price_symbols=wanted
            )
        else:
            fn = functools.partial(fetch_prices, info=info, symbols=wanted)
        result = await self._call(fn, True, "refresh")
        if isinstance(result, ExchangeFailure):
            return result
        prices = result.value.prices if funds else result.value
        for symbol, price in prices.items():
            self._prices[symbol] = (price, started)
        if funds:
            fetched: Funds = result.value
            changed = self._funds is None or fetched.balances != self._funds.balances
            self._funds, self._funds_at, self._funds_writes = fetched, started, writes
            if changed:
                await self._publish_balance([b.to_json() for b in fetched.balances])
        return result.latency_ms

    def _queue_refresh(self) -> None:
        """After a write: fetch the funds again once writes pause for ``REFRESH_QUIET``.

        One trade's writes come in a burst (entry, then its stop and targets); refreshing
        once after the burst saves requests and keeps the refresh off the burst's path.
        """
        self._refresh_at = trio.current_time() + REFRESH_QUIET
        if self._refresh_queued or self._ctx is None:
            return
        self._refresh_queued = True
        self._ctx.nursery.start_soon(self._refresh_when_quiet)

    async def _refresh_when_quiet(self) -> None:
        while trio.current_time() < self._refresh_at:  # noqa: ASYNC110 (a movable deadline)
            await trio.sleep_until(self._refresh_at)
        assert self._ctx is not None
        try:
            self._ctx.ref.send_nowait(Refresh())
        except (MailboxFull, ActorStopped):
            self._refresh_queued = False  # the next Snapshot fetches stale funds itself

    async def _publish_balance(self, balances: list[dict[str, str]]) -> None:
        assert self.identity is not None
        payload = json.dumps(
            {
                "e": "balance_update",
                "account_id": self.identity.account_id,
                "exchange": self.identity.info.id,
                "balances": balances,
            }
        )
        stream = f"balance.{self.identity.user_id}"
        await self._db.execute(PUBLISH_BALANCE, (stream, payload))
