"""A trade group's exchange I/O: every call goes through its account's actor and venue module.

The trade-group actor decides; this helper carries the calls out (in the account actor's
worker thread, on its trading lane) and raises
:class:`~testudo.exchanges.errors.ExchangeFailure` with the failure's class when the exchange
does not answer as hoped. Nothing here decides what a failure means.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import trio

from actors.exchanges.exchange_account import EnsureLeverage, Positions, Unwatch, Watch
from actors.runtime.actor import Ask
from actors.runtime.errors import ActorError
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.failures import FailureKind
from testudo.exchanges.symbols import base_of
from testudo.exchanges.venues import OrderState, Venue, venue_for
from testudo.trading.model import Group, Order, spec_of

if TYPE_CHECKING:
    from testudo.exchanges.accounts import AccountView

R = TypeVar("R")

ACCOUNT_GONE = ExchangeFailure(
    "account_gone",
    "The group's exchange account was removed.",
    kind=FailureKind.AUTH_LOST,
    reason="account_gone",
)


class GroupAccounts(Protocol):
    """What a trade group needs of the exchange accounts (a narrow port: the accounts service
    implements it, a test may implement it over one account actor)."""

    async def get(self, user_id: str, account_id: str) -> AccountView | None: ...

    async def call(
        self, account: AccountView, fn: Any, *, read_only: bool = True, timeout: float = 120.0
    ) -> Any: ...

    async def ask(self, account: AccountView, message: Ask[R], timeout: float = 60.0) -> R: ...

    def refresh_soon(self, account_id: str) -> None:
        """Have the account's actor refresh its funds, if it runs (never waits)."""


class GroupExchange:
    """The exchange as one group sees it (its account, its symbol, its venue's rules)."""

    def __init__(self, accounts: GroupAccounts, group: Group, account: Any = None) -> None:
        self.accounts = accounts
        self.group = group
        self.venue: Venue = venue_for(group.exchange)
        self._account: AccountView | None = account

    async def account(self) -> AccountView | None:
        """The group's account (looked up once per incarnation)."""
        if self._account is None:
            self._account = await self.accounts.get(self.group.user_id, self.group.account_id)
        return self._account

    async def call(self, fn: Any, *, write: bool) -> Any:
        """Run ``fn(client)`` on the account's trading lane (raises ExchangeFailure)."""
        account = await self.account()
        if account is None:
            raise ACCOUNT_GONE
        return await self.accounts.call(account, fn, read_only=not write)

    async def ask(self, message: Ask[R], timeout: float = 60.0) -> R:
        account = await self.account()
        if account is None:
            raise ACCOUNT_GONE
        return await self.accounts.ask(account, message, timeout=timeout)

    # -- orders ------------------------------------------------------------------------

    async def place(self, order: Order, reference: Decimal | None, slippage: Decimal) -> OrderState:
        spec = spec_of(self.group, order, slippage)
        state: OrderState = await self.call(
            lambda c: self.venue.place(c, spec, reference), write=True
        )
        return state

    async def find(self, order: Order) -> OrderState | None:
        """The order by its client order id; None when the exchange never received it."""
        symbol, cid = self.group.symbol, order.client_order_id
        found: OrderState | None = await self.call(
            lambda c: self.venue.find_by_client_id(c, symbol, cid, order.is_trigger), write=False
        )
        return found

    async def fetch(self, order: Order) -> OrderState:
        symbol, oid = self.group.symbol, order.exchange_order_id or ""
        state: OrderState = await self.call(
            lambda c: self.venue.fetch(c, symbol, oid, order.is_trigger), write=False
        )
        return state

    async def cancel(self, order: Order) -> None:
        symbol, oid = self.group.symbol, order.exchange_order_id or ""
        await self.call(lambda c: self.venue.cancel(c, symbol, oid, order.is_trigger), write=True)

    async def average_price(self, order: Order, since_ms: int) -> Decimal | None:
        symbol, oid = self.group.symbol, order.exchange_order_id or ""
        price: Decimal | None = await self.call(
            lambda c: self.venue.average_fill_price(c, symbol, oid, since_ms), write=False
        )
        return price

    async def order_fees(self, orders: list[Order], since_ms: int) -> dict[str, Decimal]:
        """The fees each order (by exchange order id) has paid, from the account's fills."""
        symbol = self.group.symbol
        ids = [o.exchange_order_id for o in orders if o.exchange_order_id]
        fees: dict[str, Decimal] = await self.call(
            lambda c: self.venue.order_fees(c, symbol, ids, since_ms), write=False
        )
        return fees

    async def funding(self, since_ms: int) -> Decimal:
        """The funding the account's position in the group's symbol received (negative:
        paid) since ``since_ms``, up to the exchange's present."""
        symbol = self.group.symbol
        payments: list[tuple[int, Decimal]] = await self.call(
            lambda c: self.venue.funding_payments(c, symbol, since_ms), write=False
        )
        return sum((amount for _, amount in payments), Decimal(0))

    async def mark(self) -> Decimal:
        """The market's last price now (closes are priced from it, never from the entry)."""
        symbol = self.group.symbol
        prices: dict[str, Decimal] = await self.call(
            lambda c: self.venue.last_prices(c, [symbol]), write=False
        )
        return prices[symbol]

    async def net_position(self) -> Decimal:
        """The account's signed position in the group's symbol, fetched now."""
        positions = await self.ask(Positions())
        if isinstance(positions, ExchangeFailure):
            raise positions
        return sum(
            (p.quantity if p.side == "long" else -p.quantity)
            for p in positions
            if base_of(p.symbol) == base_of(self.group.symbol)
        ) or Decimal(0)

    async def ensure_leverage(self) -> ExchangeFailure | None:
        return await self.ask(EnsureLeverage(self.group.symbol, self.group.leverage))

    # -- the account's poller ------------------------------------------------------------

    async def watch(self, ref: Any, wants_price: bool, urgent: bool) -> None:
        """Ask the account's actor to send this group every snapshot of its symbol."""
        with contextlib.suppress(ExchangeFailure):
            await self.ask(Watch(self.group.id, ref, self.group.symbol, wants_price, urgent))

    async def unwatch(self) -> None:
        # The account actor may be gone already: then there is nothing to undo.
        with contextlib.suppress(Exception):
            await self.ask(Unwatch(self.group.id), timeout=2)

    async def refresh_balance(self) -> None:
        """A fill moved money: have the account actor refresh (and publish) its funds.
        Sent, not asked: the group's reply does not wait for the balance."""
        account = await self.account()
        if account is not None:
            self.accounts.refresh_soon(account.id)


async def sleep_then(delay: float, ref: Any, message: Any) -> None:
    """Send ``message`` to ``ref`` after ``delay`` seconds (a retry's wake-up)."""
    await trio.sleep(delay)
    with contextlib.suppress(ActorError):
        ref.send_nowait(message)
