"""The exchange-account actor: one per active account, owning its ccxt clients.

Every call to the account's exchange goes through this actor, in a worker thread
(``trio.to_thread``; ccxt's sync API with its rate limiter), on one of two :class:`Lane` s (a
ccxt client each, one call at a time): the *trading* lane serves the mailbox (orders, leverage,
snapshots for decisions, anything a caller waits for); the *background* lane serves the
open-orders poller and the refresh of the kept funds, so a trade never queues behind them.
Markets are loaded on first use and refreshed hourly.
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

import functools
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from actors.exchanges.account_poller import AccountPoller, Watcher
from actors.runtime.actor import Actor, ActorContext, Ask
from actors.runtime.metrics import ACCOUNT_SNAPSHOTS
from testudo.db import Database
from testudo.exchanges.book import Book, fetch_book
from testudo.exchanges.catalog import ExchangeInfo
from testudo.exchanges.clients import ClientFactory, Credentials
from testudo.exchanges.errors import ANSWERED, ExchangeFailure, failure_from, retry_after_of
from testudo.exchanges.funds import Funds, fetch_funds, fetch_prices
from testudo.exchanges.governor import Governor
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.venues import AccountSnapshot, Position, Venue, venue_for

MARKETS_TTL = 3600.0
READ_ATTEMPTS = 3
REFRESH_QUIET = 0.1  # seconds without writes before the kept funds are fetched again
FAST_POLL = 0.5  # seconds between polls while a group waits for a fill or its stop
PRICE_INTEREST = 60.0  # a symbol's price is refreshed with the funds this long after a Snapshot
PUBLISH_BALANCE = "SELECT publish_event(%s, %s::jsonb)"
MARK_REAUTHORIZE = """
UPDATE exchange_accounts SET status = 'requires_reauthorization', updated_at = now()
WHERE id = %s AND status = 'active' RETURNING id"""
# Failures that mean the venue no longer knows the account's credentials (a Hyperliquid agent
# pruned or expired): the account is marked for re-authorisation.
CREDENTIALS_GONE = frozenset({"agent_unknown"})
MODE_TTL = 3600.0  # seconds a position-mode answer is trusted
HEDGE_MODE_REFUSAL = ExchangeFailure(
    "hedge_mode_unsupported",
    "The account is in hedge (dual-side) position mode. Testudo manages one-way positions: "
    "switch the account to one-way mode on the exchange, then retry.",
)


@attrs.frozen
class Done:
    value: Any
    latency_ms: float


Result = Done | ExchangeFailure


@attrs.frozen
class Call(Ask[Result]):
    """Run ``fn(client)`` in the account's worker thread. Replies ``Done`` or a failure."""

    fn: Callable[[Any], Any]
    read_only: bool = True
    name: str = "call"


@attrs.frozen
class FetchBalance(Ask[Result]):
    """Fetch the funds now; reply ``Done(list[Balance])`` (non-zero assets).

    Publishes a balance event when the balances changed.
    """


@attrs.frozen
class Snapshot(Ask[AccountSnapshot | ExchangeFailure]):
    """Reply a :class:`~testudo.exchanges.venues.AccountSnapshot` for a decision on ``symbol``.

    Answered from the kept funds when they are fresh (see the module docstring).
    """

    symbol: str
    need_price: bool = True


@attrs.frozen
class Refresh:
    """Fetch the funds again soon, in the background lane (a group sends it after a fill)."""


@attrs.frozen
class Watch(Ask[bool]):
    """Deliver :class:`WatchReport` of ``symbol`` to ``ref`` after every poll (with the
    symbol's last price when ``wants_price``; polled fast while ``urgent``: a group waiting
    for a fill or for its stop; sending it again replaces the registration)."""

    key: str
    ref: Any
    symbol: str
    wants_price: bool = False
    urgent: bool = False


@attrs.frozen
class Unwatch(Ask[bool]):
    key: str


@attrs.frozen
class Poll:
    """Fetch the account's open orders now and tell every watcher (background lane)."""


@attrs.frozen
class WatchReport:
    """The open orders of the watched symbol at ``at`` (trio time), by exchange order id
    (None when they were not read this cycle: nothing filled, a heartbeat), the symbol's last
    price when a watcher asked for it, and the account's signed net positions by base coin
    (read before the orders)."""

    at: float
    orders: dict[str, Any] | None
    price: Decimal | None = None
    positions: dict[str, Decimal] | None = None
    positions_at: float = 0.0  # trio time the positions were read


@attrs.frozen
class CheckMode(Ask[ExchangeFailure | None]):
    """Read the account's position mode now; reply a refusal when it is hedge mode."""


@attrs.frozen
class Positions(Ask[list[Position] | ExchangeFailure]):
    """Fetch the account's open positions now; reply ``list[Position]`` or a failure."""


@attrs.frozen
class ReadBook(Ask[Book | ExchangeFailure]):
    """Reply the account's :class:`~testudo.exchanges.book.Book`: the last poll's when it is
    at most ``max_age`` seconds old, else read now."""

    max_age: float


@attrs.frozen
class EnsureLeverage(Ask[ExchangeFailure | None]):
    """Set the symbol's leverage on the exchange unless it is already set (cached)."""

    symbol: str
    leverage: Decimal


AccountMessage = (
    Call
    | FetchBalance
    | Snapshot
    | Refresh
    | Watch
    | Unwatch
    | Poll
    | CheckMode
    | Positions
    | ReadBook
    | EnsureLeverage
)


@attrs.frozen
class AccountIdentity:
    """What the actor needs to know about its account (loaded by the accounts service)."""

    account_id: str
    user_id: str
    info: ExchangeInfo
    credentials: Credentials


@attrs.define
class Lane:
    """One ccxt client of the account and its loaded markets; calls on it run one at a time.

    The actor has two: the *trading* lane serves the mailbox (orders, decisions' snapshots,
    everything a caller waits for), the *background* lane the poller and the funds refresh,
    so a trade never waits behind a poll.
    """

    name: str
    client: Any
    lock: trio.Lock = attrs.Factory(trio.Lock)
    markets_at: float | None = None

    def markets_fresh(self) -> bool:
        return self.markets_at is not None and time.monotonic() - self.markets_at <= MARKETS_TTL

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """In the worker thread: make sure markets are fresh, then call ``fn(client)``."""
        if not self.markets_fresh():
            self.client.load_markets(reload=self.markets_at is not None)
            self.markets_at = time.monotonic()
        return fn(self.client)


class ExchangeAccountActor(Actor[AccountMessage]):
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
        order_recheck: float = 10.0,
        governor: Governor | None = None,
    ) -> None:
        self._load = load
        self._clients = clients
        self._health = health
        self._db = db
        self._retry_delay = retry_delay
        self.identity: AccountIdentity | None = None
        self._trading: Lane | None = None
        self._background: Lane | None = None
        self._poll_interval = poll_interval
        self._order_recheck = order_recheck
        self._governor = governor or Governor({})
        self._poller: AccountPoller | None = None
        self._leverage: dict[str, Decimal] = {}
        self._ctx: ActorContext[AccountMessage] | None = None
        self._state_max_age = state_max_age
        self._price_max_age = price_max_age
        self._writes = 0  # write calls made so far
        self._funds: Funds | None = None
        self._funds_at = 0.0  # trio time the kept funds' fetch started
        self._funds_writes = -1  # self._writes when they were fetched
        self._prices: dict[str, tuple[Decimal, float]] = {}  # symbol -> (price, fetched at)
        self._price_wanted: dict[str, float] = {}  # symbol -> last Snapshot asking for it
        self._refresh_queued = False  # a background refresh is scheduled
        self._refresh_at = 0.0
        self._lost: ExchangeFailure | None = None  # credentials lost: nothing is sent
        self._mode: tuple[str, float] | None = None  # (position mode, trio time read)

    @property
    def venue(self) -> Venue:
        """The account's venue module (every exchange-specific rule goes through it)."""
        assert self.identity is not None
        return venue_for(self.identity.info)

    async def started(self, ctx: ActorContext[AccountMessage]) -> None:
        identity: AccountIdentity = await self._load()
        self.identity = identity
        self._ctx = ctx
        self._trading = Lane("trading", self._clients.create(identity.info, identity.credentials))
        self._background = Lane(
            "background", self._clients.create(identity.info, identity.credentials)
        )
        self._poller = AccountPoller(
            self.venue,
            self._background_call,
            self._governor,
            self._poll_interval,
            min(self._poll_interval, FAST_POLL),
            self._order_recheck,
            WatchReport,
        )
        ctx.nursery.start_soon(self._poller.run)

    @property
    def poller(self) -> AccountPoller:
        assert self._poller is not None
        return self._poller

    async def _background_call(self, fn: Callable[[Any], Any], name: str) -> Any:
        return await self._call(fn, True, name, lane=self._background)

    async def stopping(self) -> None:
        if self.identity is not None:
            self._health.forget(self.identity.account_id)

    async def handle(self, message: AccountMessage) -> object:
        match message:
            case Call(fn, read_only, name):
                return message.reply(await self._call(fn, read_only, name))
            case FetchBalance():
                return message.reply(await self._fetch_balance())
            case Snapshot(symbol, need_price):
                return message.reply(await self._snapshot(symbol, need_price))
            case Refresh():
                self._queue_refresh(quiet=0.0)
                return None
            case Watch(key, ref, symbol, wants_price, urgent):
                self.poller.watch(key, Watcher(ref, symbol, wants_price, urgent))
                return message.reply(True)
            case Unwatch(key):
                self.poller.unwatch(key)
                return message.reply(True)
            case Poll():
                self.poller.orders_wanted = True
                if self._ctx is not None and not self.poller.polling:
                    self._ctx.nursery.start_soon(self.poller.poll)
                return None
            case CheckMode():
                self._mode = None
                return message.reply(await self._hedge_mode())
            case Positions():
                return message.reply(await self._positions())
            case ReadBook(max_age):
                return message.reply(await self._read_book(max_age))
            case EnsureLeverage(symbol, leverage):
                return message.reply(await self._ensure_leverage(symbol, leverage))
        self.unhandled(message)

    async def _fetch_balance(self) -> Result:
        latency = await self._refresh(funds=True, lane=self._trading)
        if isinstance(latency, ExchangeFailure):
            return latency
        assert self._funds is not None
        return Done(list(self._funds.balances), latency)

    async def _positions(self) -> list[Position] | ExchangeFailure:
        result = await self._call(self.venue.positions, True, "positions")
        if isinstance(result, ExchangeFailure):
            return result
        positions: list[Position] = result.value
        return positions

    async def _ensure_leverage(self, symbol: str, leverage: Decimal) -> ExchangeFailure | None:
        if self._leverage.get(symbol) == leverage:
            return None
        result = await self._call(
            functools.partial(self.venue.set_leverage, symbol=symbol, leverage=leverage),
            False,
            "set_leverage",
        )
        if isinstance(result, ExchangeFailure):
            return result
        self._leverage[symbol] = leverage
        return None

    async def _read_book(self, max_age: float) -> Book | ExchangeFailure:
        """The last poll's book when fresh enough, else one read now (trading lane)."""
        poller = self.poller
        if poller.book is not None and trio.current_time() - poller.book_at <= max_age:
            return poller.book
        fetch = functools.partial(fetch_book, venue=self.venue, symbols=None)
        result = await self._call(fetch, True, "book")
        if isinstance(result, ExchangeFailure):
            return result
        poller.book, poller.book_at = result.value, trio.current_time()
        return poller.book

    async def _call(
        self, fn: Callable[[Any], Any], read_only: bool, name: str, lane: Lane | None = None
    ) -> Done | ExchangeFailure:
        """Run ``fn(client)`` in a worker thread on ``lane`` (default: trading), retrying reads
        on transient failures.

        A write, whatever its outcome, makes the kept funds stale and queues their refresh.
        """
        lane = lane or self._trading
        assert lane is not None
        if self._lost is not None:
            return self._lost  # the credentials no longer work: nothing is sent any more
        if lane is self._trading:  # the poller acquires its own weight, waiting for it
            weight = self.venue.read_weight if read_only else self.venue.write_weight
            self._governor.charge(self.venue.info.id, weight)
        try:
            async with lane.lock:
                result = await self._attempts(fn, read_only, lane)
        finally:
            if not read_only:
                self._writes += 1
                self._queue_refresh(quiet=REFRESH_QUIET)
        if isinstance(result, ExchangeFailure) and result.reason in CREDENTIALS_GONE:
            await self._credentials_lost(result)
        return result

    async def _credentials_lost(self, failure: ExchangeFailure) -> None:
        """The venue no longer knows the account's agent: the account needs re-authorisation
        (an event says so); until then this incarnation sends nothing. Approving a new agent
        restarts the actor."""
        assert self.identity is not None
        self._lost = failure
        account_id, user_id = self.identity.account_id, self.identity.user_id
        payload = json.dumps(
            {
                "e": "account_update",
                "account_id": account_id,
                "exchange": self.identity.info.id,
                "status": "requires_reauthorization",
                "reason": failure.reason,
                "detail": failure.detail,
            }
        )

        def mark(conn: Any) -> None:
            if conn.execute(MARK_REAUTHORIZE, (account_id,)).fetchone() is not None:
                conn.execute(PUBLISH_BALANCE, (f"balance.{user_id}", payload))

        await self._db.run(mark)

    async def _attempts(
        self, fn: Callable[[Any], Any], read_only: bool, lane: Lane
    ) -> Done | ExchangeFailure:
        assert self.identity is not None
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                value = await trio.to_thread.run_sync(lane.run, fn, abandon_on_cancel=False)
            except Exception as exc:
                latency = (time.perf_counter() - started) * 1000
                failure = failure_from(
                    exc,
                    self.identity.info.id,
                    retry_after_of(lane.client),
                    self.venue.classify(exc),
                )
                self._health.record(
                    self.identity.account_id,
                    self.identity.info.id,
                    ok=failure.error in ANSWERED,
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

    # -- the kept funds ---------------------------------------------------------------

    async def _snapshot(self, symbol: str, need_price: bool) -> AccountSnapshot | ExchangeFailure:
        """Funds fresh enough for a decision (fetched first when not), plus market rules."""
        assert self.identity is not None
        now = trio.current_time()
        self._price_wanted[symbol] = now
        hedged = await self._hedge_mode()
        if hedged is not None:
            return hedged
        source = self._snapshot_source(now, symbol, need_price)
        ACCOUNT_SNAPSHOTS.labels(source).inc()
        funds_fresh = source in ("kept", "price")
        if source != "kept":
            failure = await self._refresh(funds=not funds_fresh, lane=self._trading)
            if isinstance(failure, ExchangeFailure):
                if "bad_symbol" in (failure.error, failure.reason):  # its price spoils refreshes
                    self._price_wanted.pop(symbol, None)
                return failure
        info = self.identity.info
        rules_of = functools.partial(self.venue.market_rules, symbol=symbol, need_price=False)
        assert self._trading is not None
        if self._trading.markets_fresh():  # a lookup in the loaded markets: no I/O, no thread
            try:
                rules = rules_of(self._trading.client)
            except Exception as exc:
                return failure_from(exc, info.id, None, self.venue.classify(exc))
        else:
            result = await self._call(rules_of, True, "market_rules")
            if isinstance(result, ExchangeFailure):
                return result
            rules = result.value
        funds = self._funds
        assert funds is not None
        price = self._prices.get(symbol, (Decimal(0), 0.0))[0]
        return AccountSnapshot(
            attrs.evolve(rules, last_price=price),
            funds.equity,
            funds.available,
            funds.position_symbols,
            funds.unrealized_pnl,
        )

    async def _hedge_mode(self) -> ExchangeFailure | None:
        """A refusal when the account trades in hedge mode (read hourly): Testudo's groups
        hold one-way positions, so a hedge-mode account is refused before any order."""
        now = trio.current_time()
        if self._mode is None or now - self._mode[1] > MODE_TTL:
            result = await self._call(self.venue.position_mode, True, "position_mode")
            if isinstance(result, ExchangeFailure):
                return result
            self._mode = (str(result.value), now)
        if self._mode[0] == "hedge":
            return HEDGE_MODE_REFUSAL
        return None

    def _snapshot_source(self, now: float, symbol: str, need_price: bool) -> str:
        """Whether the kept funds (and price) may answer a snapshot now, or why not."""
        if self._funds is None:
            return "first"
        if self._funds_writes != self._writes:
            return "after_write"
        if now - self._funds_at > self._state_max_age:
            return "age"
        kept = self._prices.get(symbol)
        if need_price and (kept is None or now - kept[1] > self._price_max_age):
            return "price"
        return "kept"

    async def _refresh(self, *, funds: bool, lane: Lane | None) -> float | ExchangeFailure:
        """Fetch the funds (or only the wanted prices) on ``lane``; return the latency in ms
        or a failure. Kept values are replaced only by newer ones (the lanes may overlap)."""
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
        result = await self._call(fn, True, "refresh", lane=lane)
        if isinstance(result, ExchangeFailure):
            return result
        prices = result.value.prices if funds else result.value
        for symbol, price in prices.items():
            if started >= self._prices.get(symbol, (None, -1.0))[1]:
                self._prices[symbol] = (price, started)
        if funds and started >= self._funds_at:
            fetched: Funds = result.value
            changed = self._funds is None or fetched.balances != self._funds.balances
            self._funds, self._funds_at, self._funds_writes = fetched, started, writes
            if changed:
                await self._publish_balance([b.to_json() for b in fetched.balances])
        return result.latency_ms

    def _queue_refresh(self, quiet: float = 0.0) -> None:
        """Fetch the funds in the background lane once writes pause for ``quiet`` seconds.

        One trade's writes come in a burst (entry, then its stop and targets); refreshing
        once after the burst saves requests.
        """
        self._refresh_at = max(self._refresh_at, trio.current_time() + quiet)
        if self._refresh_queued or self._ctx is None:
            return
        self._refresh_queued = True
        self._ctx.nursery.start_soon(self._refresh_when_quiet)

    async def _refresh_when_quiet(self) -> None:
        while trio.current_time() < self._refresh_at:  # noqa: ASYNC110 (a movable deadline)
            await trio.sleep_until(self._refresh_at)
        self._refresh_queued = False
        await self._refresh(funds=True, lane=self._background)

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
