"""The exchange-account actor: one per active account, owning its ccxt client.

Every call to the account's exchange goes through this actor, one at a time, in a worker
thread (``trio.to_thread``; ccxt's sync API with its rate limiter), so calls to one account are
serialised and rate-limited in one place. Markets are loaded on first use and refreshed hourly.
Read calls are retried with backoff on transient failures (timeouts, 429, 5xx, outages);
writes (order creation) are never retried here: the caller looks the order up by its client
order id instead. Each call's outcome is recorded on the gateway health board, and balance
changes are published as ``balance.<user_id>`` events.
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
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.models import Balance
from testudo.money import to_decimal
from testudo.trading import venue

from .actor import Actor, ActorContext
from .errors import ActorStopped, MailboxFull

MARKETS_TTL = 3600.0
READ_ATTEMPTS = 3
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
    """Fetch balances (non-zero assets); publishes a balance event when they changed."""


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
    ) -> None:
        self._load = load
        self._clients = clients
        self._health = health
        self._db = db
        self._retry_delay = retry_delay
        self.identity: AccountIdentity | None = None
        self._client: Any = None
        self._markets_at: float | None = None
        self._last_balances: list[dict[str, str]] | None = None
        self._poll_interval = poll_interval
        self._watchers: dict[str, tuple[Any, str]] = {}
        self._leverage: dict[str, Decimal] = {}

    async def started(self, ctx: ActorContext) -> None:
        identity: AccountIdentity = await self._load()
        self.identity = identity
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
                return await self._fetch_balance()
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
        now = time.monotonic()
        if self._markets_at is None or now - self._markets_at > MARKETS_TTL:
            self._client.load_markets(reload=self._markets_at is not None)
            self._markets_at = now
        return fn(self._client)

    async def _fetch_balance(self) -> Done | ExchangeFailure:
        result = await self._call(fetch_balances, True, "fetch_balance")
        if isinstance(result, ExchangeFailure):
            return result
        balances = [b.to_json() for b in result.value]
        if balances != self._last_balances:
            await self._publish_balance(balances)
            self._last_balances = balances
        return result

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


def fetch_balances(client: Any) -> list[Balance]:
    """Non-zero balances as Decimal values (runs in the worker thread)."""
    raw = client.fetch_balance()
    out = []
    zero = Decimal(0)
    for asset, value in sorted((raw.get("total") or {}).items()):
        total = to_decimal(value) or zero
        if total == 0:
            continue
        free = to_decimal((raw.get("free") or {}).get(asset)) or zero
        used = to_decimal((raw.get("used") or {}).get(asset)) or zero
        out.append(Balance(asset, total, free, used))
    return out
