"""The trade-group actor: owns one group's state machine and finishes every exchange operation.

HTTP handlers send it commands and await the reply; the actor's own scope completes the work
whether or not anyone still waits (architecture.md section 5a). Every order is recorded with its
client order id *before* the exchange call; an ambiguous failure (timeout, 5xx, crash) is
resolved by looking the order up by that id, never by sending it again. On start (including
after a crash or a restart of the service) the actor reloads the group from the database and
reconciles it with the exchange, so a position whose entry filled while Testudo was down gets
its stop and targets placed at once.

Fills are observed by the exchange-account actor (one open-orders poll per account) and
delivered here as :class:`~actors.exchange_account.OrdersSnapshot`; an order that left the
open set is fetched to learn whether it filled or was cancelled.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import trio

from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import OrderState, Venue, venue_for
from testudo.trading import store
from testudo.trading.model import (
    BREAK_EVEN_FEE_OFFSET,
    TERMINAL,
    Group,
    NewOrder,
    Order,
    Target,
    break_even_level,
    pending_order,
    plan,
    spec_of,
    wants_price,
)
from testudo.trading.views import group_json

from .actor import Actor, ActorContext
from .errors import ActorError
from .exchange_account import EnsureLeverage, OrdersSnapshot, Refresh, Unwatch, Watch

if TYPE_CHECKING:
    from testudo.exchanges.accounts import AccountsService

LOOKUPS_BEFORE_NOT_FOUND = 3
MAX_PLAN_ROUNDS = 6


@attrs.frozen
class Start:
    """Send the entry of a group just recorded (``pending_submit``, with the group); reply the
    group's JSON once the exchange acknowledged it."""


@attrs.frozen
class Reconcile:
    """Refresh every live order from the exchange and act on the plan."""


@attrs.frozen
class Describe:
    """Reply the group's JSON."""


@attrs.frozen
class CancelGroup:
    """Cancel every open order; close the position (reduce-only, market) if there is one."""


@attrs.frozen
class UpdateStop:
    price: Decimal


@attrs.frozen
class UpdateTargets:
    targets: tuple[tuple[Decimal, Decimal, str], ...]  # (price, quantity, order_type)


@attrs.frozen
class SetBreakEven:
    enabled: bool
    trigger: str  # "first_take_profit" or a price


@attrs.frozen
class Refusal:
    """A command the group refuses (a value, not an exception)."""

    status: int
    error: str
    detail: str
    retry_after: int | None = None


@attrs.frozen
class GroupServices:
    db: Any
    accounts: AccountsService
    clock: Any
    poll_interval: float = 2.0


class TradeGroupActor(Actor[Any]):
    kind = "trade_group"

    def __init__(
        self,
        group_id: str,
        services: GroupServices,
        *,
        group: Group | None = None,
        account: Any = None,
    ) -> None:
        """``group`` and ``account`` are given for a group just recorded by the trader (no
        need to read them back); otherwise both are loaded when the actor starts."""
        self.group_id = group_id
        self.s = services
        self.group: Group | None = group
        self._fresh = group is not None
        self._ctx: ActorContext | None = None
        self._lookups: dict[str, int] = {}
        self._last_snapshot = 0.0
        self._filled_seen = Decimal(0)
        self._account: Any = account
        self._unsaved: list[tuple[str, dict[str, Any]]] = []  # events not yet saved
        self._entry_refused: ExchangeFailure | None = None  # a 429 on the entry

    # -- lifecycle ----------------------------------------------------------------------

    async def started(self, ctx: ActorContext) -> None:
        self._ctx = ctx
        if self.group is None:
            self.group = await self.s.db.run(lambda c: store.load_group_tx(c, self.group_id))
        if self.group is None:
            raise LookupError(f"trade group {self.group_id} does not exist")
        if self.group.status in TERMINAL:
            ctx.stop("terminal")
            return
        if self._fresh:
            # Watched from its first moment; Start reconciles it after the entry's answer.
            self._last_snapshot = trio.current_time()
            ctx.nursery.start_soon(self._watch)
        ctx.nursery.start_soon(self._watchdog)
        if self.group.orders and not self._fresh:  # rehydrated: reconcile at once
            ctx.ref.send_nowait(Reconcile())

    async def stopping(self) -> None:
        if self.group is not None and self._unsaved:
            events = list(self._unsaved)
            group, now = self.group, self.s.clock.now()
            with contextlib.suppress(Exception):  # the restarted actor reconciles anyway
                await self.s.db.run(lambda c: store.save_group_tx(c, group, now, events))
        if self.group is not None:
            account = await self._account_view()
            if account is not None:
                # The account actor may be gone already: then there is nothing to undo.
                with contextlib.suppress(Exception):
                    await self.s.accounts.ask(account, Unwatch(self.group_id), timeout=2)

    async def _watchdog(self) -> None:
        """(Re)register with the account's poller; reconcile directly if snapshots stop."""
        while True:
            if trio.current_time() - self._last_snapshot > 3 * self.s.poll_interval:
                await self._watch()
                if self._ctx is not None:
                    self._ctx.ref.send_nowait(Reconcile())
                self._last_snapshot = trio.current_time()
            await trio.sleep(self.s.poll_interval)

    async def _watch(self) -> None:
        """Ask the account's actor to send this group every snapshot of its open orders."""
        account = await self._account_view()
        if account is None or self._ctx is None or self.group is None:
            return
        with contextlib.suppress(ExchangeFailure):
            await self.s.accounts.ask(
                account,
                Watch(self.group_id, self._ctx.ref, self.group.symbol, wants_price(self.group)),
            )

    async def _refresh_balance(self) -> None:
        """A fill moved money: have the account actor refresh (and publish) its funds.

        Sent, not asked: the group's reply does not wait for the balance.
        """
        account = await self._account_view()
        if account is None:
            return
        ref = self.s.accounts.registry.lookup(("exchange_account", account.id))
        if ref is not None:
            with contextlib.suppress(ActorError):
                ref.send_nowait(Refresh())

    async def _account_view(self) -> Any:
        """The group's account (looked up once per incarnation)."""
        assert self.group is not None
        if self._account is None:
            self._account = await self.s.accounts.get(self.group.user_id, self.group.account_id)
        return self._account

    # -- messages -------------------------------------------------------------------------

    async def handle(self, message: Any) -> Any:
        group = self.group
        assert group is not None
        match message:
            case Start():
                unsent = [
                    o for o in group.orders if o.role == "entry" and o.status == "pending_submit"
                ]
                # Only the incarnation the trader started sends the entry: a restarted one
                # cannot know whether it went out, and reconciles it by client order id.
                if unsent and self._fresh:
                    self._fresh = False
                    await self._send_entry(unsent[0])
                return await self._started_reply()
            case Reconcile():
                await self._refresh({})
                await self._advance([])
                return self.describe()
            case OrdersSnapshot(_, orders, price):
                self._last_snapshot = trio.current_time()
                if group.status in TERMINAL:
                    return None
                if price is not None:
                    group.mark_price = price
                changed = await self._refresh(orders)
                if changed or (group.status == "active" and wants_price(group)):
                    await self._advance([])
                return None
            case Describe():
                return self.describe()
            case CancelGroup():
                return await self._cancel_group()
            case UpdateStop(price):
                return await self._update_stop(price)
            case UpdateTargets(targets):
                return await self._update_targets(targets)
            case SetBreakEven(enabled, trigger):
                return await self._set_break_even(enabled, trigger)
        return await super().handle(message)

    async def _send_entry(self, entry: Order) -> None:
        """Set the symbol's leverage (once per value, cached by the account), then send."""
        group = self.group
        assert group is not None
        account = await self._account_view()
        failure = await self.s.accounts.ask(account, EnsureLeverage(group.symbol, group.leverage))
        if isinstance(failure, ExchangeFailure):
            group.error = f"leverage could not be set: {failure.detail}"
            entry.status, entry.error = "rejected", group.error  # never sent
            return
        await self._submit(entry)

    async def _started_reply(self) -> dict[str, Any] | Refusal:
        """Reply as soon as the entry is acknowledged.

        The entry's intent is already durable (recorded with the group); what the exchange
        answered is saved by the Reconcile this sends itself, the next message in this
        mailbox, together with the protective orders it places. A crash before that save
        loses nothing: the restarted actor finds the entry by its client order id. A group
        that ended here (entry refused) is saved before the reply, since the actor stops.
        """
        group = self.group
        assert group is not None
        events: list[tuple[str, dict[str, Any]]] = [("trade_created", {"status": group.status})]
        ends_here = plan(group).status in TERMINAL or self._ctx is None
        await self._advance(events, protect=False, save=ends_here)
        if ends_here:
            refused = self._entry_refused
            if refused is not None and group.status == "failed":
                return Refusal(
                    429,
                    "exchange_rate_limited",
                    f"The exchange rate-limited the entry; nothing was placed. {refused.detail}",
                    retry_after=refused.retry_after,
                )
            return self.describe()
        assert self._ctx is not None
        self._ctx.ref.send_nowait(Reconcile())
        return self.describe()

    def describe(self) -> dict[str, Any]:
        assert self.group is not None
        return group_json(self.group)

    # -- exchange I/O ---------------------------------------------------------------------

    @property
    def venue(self) -> Venue:
        assert self.group is not None
        return venue_for(self.group.exchange)

    async def _with_client(self, fn: Any, *, read_only: bool) -> Any:
        """Run ``fn(client)`` on the group's account (raises ExchangeFailure)."""
        account = await self._account_view()
        if account is None:
            raise ExchangeFailure(409, "account_gone", "The group's exchange account was removed.")
        return await self.s.accounts.call(account, fn, read_only=read_only)

    async def _place(self, new: NewOrder) -> Order:
        """Record ``new`` as ``pending_submit``, then send it."""
        group = self.group
        assert group is not None
        now = self.s.clock.now()
        order = pending_order(new, now)
        order.id = await self.s.db.run(lambda c: store.record_intent_tx(c, group.id, order, now))
        group.orders.append(order)
        return await self._submit(order)

    async def _submit(self, order: Order) -> Order:
        """Send a recorded order; an ambiguous failure is resolved by client order id."""
        group = self.group
        assert group is not None
        spec = spec_of(group, order)
        reference = group.entry_price
        try:
            state = await self._with_client(
                lambda client: self.venue.place(client, spec, reference), read_only=False
            )
        except ExchangeFailure as failure:
            # Refusals: the exchange did not take the order (a 429 is refused before any
            # work is done); anything else may have been executed and is looked up.
            if failure.status in (401, 404, 409, 422, 429):
                order.status = "rejected"
                order.error = failure.detail
                if order.role == "entry":
                    group.error = failure.detail
                    self._entry_refused = failure if failure.status == 429 else None
                return order
            await self._lookup(order)  # ambiguous: find it by client order id
            return order
        self._apply(order, state)
        return order

    async def _lookup(self, order: Order) -> None:
        group = self.group
        assert group is not None
        try:
            found = await self._with_client(
                lambda client: self.venue.find_by_client_id(
                    client, group.symbol, order.client_order_id, order.is_trigger
                ),
                read_only=True,
            )
        except ExchangeFailure:
            return
        if found is not None:
            self._lookups.pop(order.id, None)
            self._apply(order, found)
            return
        count = self._lookups.get(order.id, 0) + 1
        self._lookups[order.id] = count
        if count >= LOOKUPS_BEFORE_NOT_FOUND:
            order.status = "not_found"  # never reached the exchange: safe to place anew
            self._lookups.pop(order.id, None)

    def _apply(self, order: Order, state: OrderState) -> None:
        order.exchange_order_id = state.exchange_order_id
        order.filled = max(order.filled, state.filled)
        if state.average_price is not None:
            order.average_price = state.average_price
        order.status = (
            state.status if state.status in ("open", "filled", "cancelled", "rejected") else "open"
        )

    async def _refresh(self, snapshot: dict[str, OrderState]) -> bool:
        """Bring live orders up to date; True when anything changed."""
        group = self.group
        assert group is not None
        changed = False
        for order in [o for o in group.orders if o.live]:
            before = (order.status, order.filled)
            if order.status == "pending_submit" or order.exchange_order_id is None:
                await self._lookup(order)
            elif order.exchange_order_id in snapshot and snapshot:
                self._apply(order, snapshot[order.exchange_order_id])
            else:
                try:
                    state = await self._with_client(
                        lambda client, o=order: self.venue.fetch(
                            client, group.symbol, o.exchange_order_id or "", o.is_trigger
                        ),
                        read_only=True,
                    )
                except ExchangeFailure as failure:
                    if failure.error == "order_not_found":
                        order.status = "cancelled"
                    continue
                self._apply(order, state)
            if order.filled > 0 and order.average_price is None:
                await self._fill_price(order)
            changed |= (order.status, order.filled) != before
        return changed

    async def _fill_price(self, order: Order) -> None:
        group = self.group
        assert group is not None
        since = int((order.created_at or self.s.clock.now()).timestamp() * 1000) - 60_000
        try:
            order.average_price = await self._with_client(
                lambda client: self.venue.average_fill_price(
                    client, group.symbol, order.exchange_order_id or "", since
                ),
                read_only=True,
            )
        except ExchangeFailure:
            return

    async def _cancel(self, order: Order) -> None:
        group = self.group
        assert group is not None
        if order.exchange_order_id is None:
            return
        try:
            await self._with_client(
                lambda client: self.venue.cancel(
                    client, group.symbol, order.exchange_order_id or "", order.is_trigger
                ),
                read_only=False,
            )
        except ExchangeFailure:
            return  # still open: the next reconcile tries again
        try:
            state = await self._with_client(
                lambda client: self.venue.fetch(
                    client, group.symbol, order.exchange_order_id or "", order.is_trigger
                ),
                read_only=True,
            )
            self._apply(order, state)
        except ExchangeFailure:
            order.status = "cancelled"
        if order.live:
            order.status = "cancelled"

    async def _advance(
        self, events: list[tuple[str, dict[str, Any]]], protect: bool = True, save: bool = True
    ) -> None:
        """Act on the plan until nothing is left to do; save; stop when terminal.

        With ``protect=False`` only the status is updated (no orders placed or cancelled);
        with ``save=False`` the events wait for the next save (the next ``_advance``).
        """
        group = self.group
        assert group is not None
        before = group.status
        for _ in range(MAX_PLAN_ROUNDS if protect else 1):
            step = plan(group)
            if not protect:
                group.status = step.status
                break
            events += list(step.events)
            if group.closing:
                for order in step.cancel:
                    await self._cancel(order)
                    events.append(("order_cancelled", _order_event(order)))
            for new in step.place:
                order = await self._place(new)
                events.append((f"{new.role}_placed", _order_event(order)))
                if order.role == "stop_loss" and order.status == "rejected":
                    # No stop can be placed (e.g. the market is already through it): the
                    # position must not stay unprotected, so it is closed at market.
                    group.closing = True
                    group.close_reason = "stop_rejected_emergency_exit"
                    events.append(("emergency_exit", {"reason": order.error or "stop refused"}))
                    break
            if not group.closing:
                for order in step.cancel:
                    await self._cancel(order)
                    events.append(("order_cancelled", _order_event(order)))
            group.status = step.status
            if not step.place and not step.cancel:
                break
        if group.status != before:
            events.append(("group_status_changed", {"from": before, "status": group.status}))
        if not save:
            self._unsaved.extend(events)
            return
        now = self.s.clock.now()
        events = [*self._unsaved, *events]
        await self.s.db.run(lambda c: store.save_group_tx(c, group, now, events))
        self._unsaved.clear()
        filled = sum((o.filled for o in group.orders), Decimal(0))
        if filled != self._filled_seen:
            self._filled_seen = filled
            await self._refresh_balance()
        if group.status in TERMINAL and self._ctx is not None:
            self._ctx.stop(f"group {group.status}")

    # -- commands -------------------------------------------------------------------------

    async def _cancel_group(self) -> Any:
        group = self.group
        assert group is not None
        if group.status in TERMINAL:
            return Refusal(409, "group_closed", f"The group is already {group.status}.")
        group.closing = True
        group.close_reason = "cancelled_by_user"
        await self._advance([("cancel_requested", {"status": group.status})])
        return self.describe()

    async def _set_break_even(self, enabled: bool, trigger: str) -> Any:
        """Toggle break-even; a price trigger must lie beyond the break-even stop, on the
        profit side, and makes the poller send the market's price."""
        group = self.group
        assert group is not None
        if group.status in TERMINAL or group.closing:
            return Refusal(409, "group_closed", f"The group is {group.status}.")
        level = break_even_level(trigger)
        if enabled and level is not None:
            entry = group.average_entry_price or group.entry_price
            floor = entry + entry * BREAK_EVEN_FEE_OFFSET * group.direction
            if (level <= floor) if group.side == "buy" else (level >= floor):
                where = "above" if group.side == "buy" else "below"
                return Refusal(
                    422,
                    "trigger_wrong_side",
                    f"A {group.side} group's break-even trigger must be {where} {floor}.",
                )
        group.break_even_enabled = enabled
        group.break_even_trigger = trigger
        await self._advance([("break_even_set", {"enabled": enabled, "trigger": trigger})])
        await self._watch()  # ask for (or stop asking for) the market's price
        return self.describe()

    async def _update_stop(self, price: Decimal) -> Any:
        group = self.group
        assert group is not None
        if group.status in TERMINAL or group.closing:
            return Refusal(409, "group_closed", f"The group is {group.status}.")
        group.stop_loss_price = price
        group.break_even_price = None
        await self._advance([("stop_loss_amended", {"stop_price": str(price)})])
        return self.describe()

    async def _update_targets(self, targets: tuple[tuple[Decimal, Decimal, str], ...]) -> Any:
        group = self.group
        assert group is not None
        if group.status in TERMINAL or group.closing:
            return Refusal(409, "group_closed", f"The group is {group.status}.")
        limit = group.position if group.status == "active" else group.quantity
        if sum((q for _, q, _ in targets), Decimal(0)) > limit:
            return Refusal(
                422, "targets_exceed_position", f"Target quantities exceed the position ({limit})."
            )
        start = max((t.idx for t in group.targets), default=-1) + 1
        group.targets = [Target(start + i, p, q, kind) for i, (p, q, kind) in enumerate(targets)]
        await self.s.db.run(lambda c: store.replace_targets_tx(c, group.id, group.targets))
        await self._advance(
            [
                (
                    "take_profit_amended",
                    {"targets": [{"price": str(p), "quantity": str(q)} for p, q, _ in targets]},
                )
            ]
        )
        return self.describe()


def _order_event(order: Order) -> dict[str, Any]:
    return {
        "role": order.role,
        "client_order_id": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "order_status": order.status,
        "quantity": str(order.quantity),
        "filled_quantity": str(order.filled),
    }


def group_actor_key(group_id: str) -> tuple[str, str]:
    return ("trade_group", group_id)
