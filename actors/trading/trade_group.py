"""The trade-group actor: owns one group's state machine and finishes every exchange operation.

HTTP handlers send it commands and await the reply; the actor's own scope completes the work
whether or not anyone still waits (docs/trading.md). Every order is recorded with its
client order id *before* the exchange call; an ambiguous failure (timeout, 5xx, crash) is
resolved by looking the order up by that id, never by sending it again. On start (including
after a crash or a restart of the service) the actor reloads the group from the database and
reconciles it with the exchange, so a position whose entry filled while Testudo was down gets
its stop and targets placed at once.

Fills are observed by the exchange-account actor (one poll per account) and delivered here as
:class:`~actors.exchanges.exchange_account.WatchReport`, with the account's positions; an
order that left the open set is fetched to learn whether it filled or was cancelled, a stop that
vanished is placed again, and a position that is flat on the exchange while the group still
holds it was closed outside Testudo: the group ends ``closed_externally`` and cancels its
leftovers.

A failed order call is answered by :func:`testudo.trading.protection.response_to`: retried
after a backoff (transient), looked up (unknown), waited out (credentials lost), or answered by
a documented alternative or an emergency exit (refused). The group's ``protection`` says at
every moment whether its position is covered and why not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs
import trio

from actors.exchanges.exchange_account import WatchReport
from actors.runtime.actor import Actor, ActorContext, Ask
from actors.trading.group_exchange import GroupAccounts, GroupExchange, sleep_then
from actors.trading.protection_board import BOARD
from testudo.db.database import Conn
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.failures import FailureKind
from testudo.exchanges.symbols import base_of
from testudo.exchanges.venues import OrderState
from testudo.problems import Problem
from testudo.sides import beyond, target_where
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
    wants_price,
)
from testudo.trading.order_events import Seen, order_updates, seen_of
from testudo.trading.protection import Response, backoff, protection_of, response_to
from testudo.trading.views import group_json

T = TypeVar("T")

LOOKUPS_BEFORE_NOT_FOUND = 3
MAX_PLAN_ROUNDS = 6
MAX_NOT_ACCEPTED = 3  # a protective order the venue never received this often is refused
DEFAULT_CLOSE_SLIPPAGE = Decimal("0.05")

Events = list[tuple[str, dict[str, Any]]]


GroupJson = dict[str, Any]
GroupReply = GroupJson | Problem  # a command's reply: the group as it is now, or a refusal


@attrs.frozen
class Start(Ask[GroupReply]):
    """Send the entry of a group just recorded (``pending_submit``, with the group); reply the
    group's JSON once the exchange acknowledged it."""


@attrs.frozen
class Reconcile(Ask[GroupJson]):
    """Refresh every live order from the exchange and act on the plan."""


@attrs.frozen
class Describe(Ask[GroupJson]):
    """Reply the group's JSON."""


@attrs.frozen
class CancelGroup(Ask[GroupReply]):
    """Close: the close order first, the stop kept until the position is flat."""


@attrs.frozen
class UpdateStop(Ask[GroupReply]):
    price: Decimal


@attrs.frozen
class UpdateTargets(Ask[GroupReply]):
    targets: tuple[tuple[Decimal, Decimal, str], ...]  # (price, quantity, order_type)


@attrs.frozen
class SetBreakEven(Ask[GroupReply]):
    enabled: bool
    trigger: str  # "first_take_profit" or a price


#: A command from outside (every one an ``ask``) and the account's watch reports (sent).
GroupCommand = (
    Start | Reconcile | Describe | CancelGroup | UpdateStop | UpdateTargets | SetBreakEven
)
GroupMessage = GroupCommand | WatchReport


@attrs.frozen
class GroupServices:
    db: Any
    accounts: GroupAccounts
    clock: Any
    poll_interval: float = 2.0
    close_slippage: Decimal = DEFAULT_CLOSE_SLIPPAGE
    #: The cluster's fence: a group's orders are recorded and saved only under its user's
    #: lease (None: a lone actor, as in the actor tests, writes without one).
    fence: OrderFence | None = None

    async def write(self, user_id: str, work: Callable[[Conn], T]) -> T:
        """One transaction of the group's writes, fenced by the user's lease."""
        if self.fence is None:
            result: T = await self.db.run(work)
            return result
        return await self.fence.fenced_run(user_id, work)


class OrderFence(Protocol):
    """What a group needs of the cluster: its writes made only while its node owns it."""

    async def fenced_run(self, user_id: str, work: Callable[[Conn], T]) -> T: ...


@attrs.frozen
class Placed:
    """An order just sent, and the failure when the exchange did not take it."""

    order: Order
    failure: ExchangeFailure | None = None


class TradeGroupActor(Actor[GroupMessage]):
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
        self._account = account
        self._ctx: ActorContext[GroupMessage] | None = None
        self._x: GroupExchange | None = None
        self._lookups: dict[str, int] = {}
        self._not_accepted: dict[str, int] = {}  # role -> orders in a row never received
        self._holds: dict[str, float] = {}  # role -> trio time before which nothing is sent
        self._attempts: dict[str, int] = {}  # role -> failed attempts in a row (backoff)
        self._slots_freed = False
        self._last_report = 0.0
        self._filled_seen = Decimal(0)
        self._unsaved: Events = []  # events not yet saved
        self._urgent = False  # the account polls fast for this group
        self._moved_at = trio.current_time()  # when a fill last moved the group's position
        self._entry_refused: ExchangeFailure | None = None  # a 429 on the entry
        self._seen: dict[str, Seen] = {}  # order id -> the state its last order_update told
        self._expired: set[str] = set()  # orders the exchange ended (time in force)
        self._fee_at: dict[str, Decimal] = {}  # order id -> the filled quantity its fee covers

    # -- lifecycle ----------------------------------------------------------------------

    async def started(self, ctx: ActorContext[GroupMessage]) -> None:
        self._ctx = ctx
        if self.group is None:
            self.group = await self.s.db.run(lambda c: store.load_group_tx(c, self.group_id))
        if self.group is None:
            raise LookupError(f"trade group {self.group_id} does not exist")
        self._x = GroupExchange(self.s.accounts, self.group, self._account)
        self._seen = {o.id: seen_of(o) for o in self.group.orders}
        self._fee_at = {o.id: o.filled for o in self.group.orders if o.fee is not None}
        if self.group.status in TERMINAL:
            ctx.stop("terminal")
            return
        if self._fresh:
            # Watched from its first moment; Start reconciles it after the entry's answer.
            self._last_report = trio.current_time()
            ctx.nursery.start_soon(self._watch)
        ctx.nursery.start_soon(self._watchdog)
        if self.group.orders and not self._fresh:  # rehydrated: reconcile at once
            ctx.ref.send_nowait(Reconcile())

    async def stopping(self) -> None:
        BOARD.forget(self.group_id)
        if self.group is not None:
            self._unsaved += order_updates(self.group.orders, self._seen, frozenset(self._expired))
        if self.group is not None and self._unsaved:
            events = list(self._unsaved)
            group, now = self.group, self.s.clock.now()
            with contextlib.suppress(Exception):  # the restarted actor reconciles anyway
                await self.s.write(
                    group.user_id, lambda c: store.save_group_tx(c, group, now, events)
                )
        if self._x is not None:
            await self._x.unwatch()

    @property
    def x(self) -> GroupExchange:
        assert self._x is not None
        return self._x

    async def _watchdog(self) -> None:
        """(Re)register with the account's poller; reconcile directly if watch reports stop."""
        while True:
            if trio.current_time() - self._last_report > 3 * self.s.poll_interval:
                await self._watch()
                if self._ctx is not None:
                    self._ctx.ref.send_nowait(Reconcile())
                self._last_report = trio.current_time()
            await trio.sleep(self.s.poll_interval)

    async def _watch(self) -> None:
        if self._ctx is not None and self.group is not None:
            self._urgent = self._wants_haste()
            await self.x.watch(self._ctx.ref, wants_price(self.group), self._urgent)

    def _wants_haste(self) -> bool:
        """Poll fast while the entry may fill any moment or the position lacks its stop."""
        group = self.group
        assert group is not None
        waiting_fill = any(o.live for o in group.orders_of("entry"))
        return waiting_fill or protection_of(group).state == "unprotected"

    # -- messages -------------------------------------------------------------------------

    async def handle(self, message: GroupMessage) -> GroupReply | None:
        group = self.group
        assert group is not None
        match message:
            case Start():
                return message.reply(await self._start())
            case Reconcile():
                if group.status not in TERMINAL:
                    await self._refresh({})
                    await self._advance([])
                return message.reply(self.describe())
            case WatchReport():
                await self._on_report(message)
                return None
            case Describe():
                return message.reply(self.describe())
            case CancelGroup():
                return message.reply(await self._cancel_group())
            case UpdateStop(price):
                return message.reply(await self._update_stop(price))
            case UpdateTargets(targets):
                return message.reply(await self._update_targets(targets))
            case SetBreakEven(enabled, trigger):
                return message.reply(await self._set_break_even(enabled, trigger))
        self.unhandled(message)

    async def _on_report(self, report: WatchReport) -> None:
        group = self.group
        assert group is not None
        self._last_report = trio.current_time()
        if group.status in TERMINAL:
            return
        if report.price is not None:
            group.mark_price = report.price
        if report.orders is None:  # a heartbeat: no position moved, orders not read
            if group.status == "active" and wants_price(group):
                await self._advance([])
            return
        changed = await self._refresh(report.orders)
        events: Events = []
        # A position read before the group's own position last moved (an entry that filled
        # between the positions and the orders) says nothing about the group: only a flat
        # account read afterwards means the position was closed outside Testudo.
        if report.positions is not None and report.positions_at > self._moved_at:
            net = report.positions.get(base_of(group.symbol), Decimal(0))
            changed |= self._closed_outside(net, events)
        if changed or events or (group.status == "active" and wants_price(group)):
            await self._advance(events)

    def _closed_outside(self, net: Decimal, events: Events) -> bool:
        """The account is flat in the group's symbol while the group, its orders refreshed,
        still holds a position: it was closed outside Testudo (by hand, a liquidation)."""
        group = self.group
        assert group is not None
        if net != 0 or group.position == 0 or not group.entry_done:
            return False
        if any(o.status == "pending_submit" for o in group.orders):
            return False  # an order of ours may explain it: resolve that first
        events.append(("closed_externally", {"quantity": str(group.position)}))
        group.external_exit += group.position
        group.closing = True
        group.close_reason = "closed_externally"
        return True

    async def _start(self) -> GroupReply:
        group = self.group
        assert group is not None
        unsent = [o for o in group.orders if o.role == "entry" and o.status == "pending_submit"]
        # Only the incarnation the trader started sends the entry: a restarted one
        # cannot know whether it went out, and reconciles it by client order id.
        if unsent and self._fresh:
            self._fresh = False
            await self._send_entry(unsent[0])
        return await self._started_reply()

    async def _send_entry(self, entry: Order) -> None:
        """Set the symbol's leverage (once per value, cached by the account), then send."""
        group = self.group
        assert group is not None
        failure = await self.x.ensure_leverage()
        if failure is not None:
            group.error = f"leverage could not be set: {failure.detail}"
            entry.status, entry.error = "rejected", group.error  # never sent
            return
        placed = await self._submit(entry)
        if placed.failure is not None:
            await self._respond(placed, [])

    async def _started_reply(self) -> GroupReply:
        """Reply as soon as the entry is acknowledged.

        The entry's intent is already durable (recorded with the group); what the exchange
        answered is saved by the Reconcile this sends itself, the next message in this
        mailbox, together with the protective orders it places. A crash before that save
        loses nothing: the restarted actor finds the entry by its client order id. A group
        that ended here (entry refused) is saved before the reply, since the actor stops.
        """
        group = self.group
        assert group is not None
        events: Events = [("trade_created", {"status": group.status})]
        ends_here = plan(group).status in TERMINAL or self._ctx is None
        await self._advance(events, protect=False, save=ends_here)
        if ends_here:
            refused = self._entry_refused
            if refused is not None and group.status == "failed":
                return Problem(
                    "exchange_rate_limited",
                    f"The exchange rate-limited the entry; nothing was placed. {refused.detail}",
                    retry_after=refused.retry_after,
                )
            return self.describe()
        assert self._ctx is not None
        self._ctx.ref.send_nowait(Reconcile())
        return self.describe()

    def describe(self) -> GroupJson:
        assert self.group is not None
        return group_json(self.group)

    # -- placing orders -----------------------------------------------------------------

    async def _place(self, new: NewOrder) -> Placed:
        """Record ``new`` as ``pending_submit``, then send it."""
        group = self.group
        assert group is not None
        now = self.s.clock.now()
        order = pending_order(new, now)
        order.id = await self.s.write(
            group.user_id, lambda c: store.record_intent_tx(c, group.id, order, now)
        )
        group.orders.append(order)
        return await self._submit(order)

    async def _submit(self, order: Order) -> Placed:
        """Send a recorded order (a market order priced from the mark where the venue needs
        a price); an ambiguous failure is looked up by client order id at once."""
        try:
            reference = await self._reference(order)
            state = await self.x.place(order, reference, self.s.close_slippage)
        except ExchangeFailure as failure:
            if failure.kind is not FailureKind.UNKNOWN:
                order.status, order.error = "rejected", failure.detail  # never on the exchange
            else:
                await self._lookup(order)
            return Placed(order, failure)
        self._apply(order, state)
        self._attempts.pop(order.role, None)
        self._not_accepted.pop(order.role, None)
        return Placed(order)

    async def _reference(self, order: Order) -> Decimal | None:
        """The price a market order is bounded around: the entry's decision price, or for a
        close the market's price *now* (never the old entry price)."""
        if order.order_type != "market" or order.trigger_price is not None:
            return None
        if not self.x.venue.market_needs_price:
            return None
        assert self.group is not None
        if order.role == "entry":
            return self.group.entry_price
        return await self.x.mark()

    async def _respond(self, placed: Placed, events: Events) -> bool:
        """Act on a failed order call; True when the current plan round must stop."""
        group = self.group
        failure = placed.failure
        assert group is not None and failure is not None
        order = placed.order
        response = response_to(order.role, failure.kind, failure.reason, self._slots_freed)
        if response is Response.CHECK_POSITION:
            response = await self._position_check(order.role)
        detail = {"role": order.role, "reason": failure.reason, "code": failure.code}
        match response:
            case Response.LOOKUP:
                return False
            case Response.RETRY | Response.REPRICE:
                delay = self._hold(order.role, failure.retry_after)
                group.error = f"{order.role} not placed ({failure.detail}); retry in {delay:g}s"
                events.append(("order_retry", {**detail, "delay_s": delay}))
            case Response.WAIT_FOR_AUTH:
                group.waiting = f"the exchange no longer accepts the account: {failure.detail}"
                events.append(("credentials_lost", detail))
            case Response.FAIL_GROUP:
                group.error = failure.detail
                self._entry_refused = failure if failure.error == "rate_limited" else None
            case Response.EMERGENCY_EXIT:
                self._emergency_exit(failure, events)
            case Response.FREE_STOP_SLOTS:
                await self._free_stop_slots(events)
            case Response.TARGET_AS_LIMIT | Response.TARGET_REFUSED:
                self._target_refused(order, failure, response, events)
            case Response.CHECK_POSITION:  # flat: closed outside Testudo
                self._closed_outside(Decimal(0), events)
        return True

    def _hold(self, role: str, retry_after: int | None) -> float:
        """Send nothing of ``role`` for a backoff; wake up to try again."""
        attempt = self._attempts.get(role, 0) + 1
        self._attempts[role] = attempt
        delay = backoff(attempt, retry_after)
        self._holds[role] = trio.current_time() + delay
        if self._ctx is not None:
            self._ctx.nursery.start_soon(sleep_then, delay, self._ctx.ref, Reconcile())
        return delay

    def _held(self, role: str) -> bool:
        return trio.current_time() < self._holds.get(role, 0.0)

    def _emergency_exit(self, failure: ExchangeFailure, events: Events) -> None:
        """No stop can rest on the exchange: close the position at market, now."""
        group = self.group
        assert group is not None
        group.closing = True
        group.close_reason = "stop_rejected_emergency_exit"
        group.error = f"the stop was refused: {failure.detail}"
        events.append(
            (
                "emergency_exit",
                {"reason": failure.reason, "code": failure.code, "detail": failure.detail},
            )
        )

    async def _free_stop_slots(self, events: Events) -> None:
        """The venue's maximum of conditional orders is reached: the group's trigger
        take-profits give their slots to the stop and rest as plain limit orders instead."""
        group = self.group
        assert group is not None
        self._slots_freed = True
        for target in group.targets:
            target.order_type = "limit"
        for order in [o for o in group.orders if o.live and o.role == "take_profit"]:
            if order.is_trigger:
                await self._cancel(order)
        events.append(("stop_slots_freed", {"targets": "limit"}))

    def _target_refused(
        self, order: Order, failure: ExchangeFailure, response: Response, events: Events
    ) -> None:
        group = self.group
        assert group is not None
        target = next((t for t in group.targets if t.idx == order.target_idx), None)
        if target is None:
            return
        if response is Response.TARGET_AS_LIMIT and target.order_type != "limit":
            target.order_type = "limit"
            events.append(("take_profit_as_limit", {"index": target.idx, "reason": failure.reason}))
            return
        target.error = failure.detail
        events.append(("take_profit_refused", {"index": target.idx, "reason": failure.reason}))

    async def _position_check(self, role: str) -> Response:
        """A reduce-only order was refused: flat means the position was closed outside
        Testudo; otherwise the role's usual answer to a refusal."""
        try:
            flat = await self.x.net_position() == 0
        except ExchangeFailure:
            flat = False
        if flat:
            return Response.CHECK_POSITION
        if role == "stop_loss":
            return Response.EMERGENCY_EXIT
        return Response.TARGET_REFUSED if role == "take_profit" else Response.REPRICE

    # -- reading orders -------------------------------------------------------------------

    async def _lookup(self, order: Order) -> ExchangeFailure | None:
        try:
            found = await self.x.find(order)
        except ExchangeFailure as failure:
            return failure
        if found is not None:
            self._lookups.pop(order.id, None)
            self._apply(order, found)
            return None
        count = self._lookups.get(order.id, 0) + 1
        self._lookups[order.id] = count
        if count >= LOOKUPS_BEFORE_NOT_FOUND:
            order.status = "not_found"  # never reached the exchange: safe to place anew
            self._lookups.pop(order.id, None)
            self._not_accepted[order.role] = self._not_accepted.get(order.role, 0) + 1
        return None

    def _apply(self, order: Order, state: OrderState) -> None:
        order.exchange_order_id = state.exchange_order_id
        if state.expired:
            self._expired.add(order.id)
        if state.filled > order.filled:
            self._moved_at = trio.current_time()
        order.filled = max(order.filled, state.filled)
        if state.average_price is not None:
            order.average_price = state.average_price
        order.status = (
            state.status if state.status in ("open", "filled", "cancelled", "rejected") else "open"
        )

    async def _refresh(self, orders: dict[str, OrderState]) -> bool:
        """Bring live orders up to date; True when anything changed. Reading orders again
        also tells whether the account's credentials work (``group.waiting``)."""
        group = self.group
        assert group is not None
        changed = False
        lost: ExchangeFailure | None = None
        for order in [o for o in group.orders if o.live]:
            before = (order.status, order.filled)
            failure: ExchangeFailure | None = None
            if order.status == "pending_submit" or order.exchange_order_id is None:
                failure = await self._lookup(order)
            elif orders and order.exchange_order_id in orders:
                self._apply(order, orders[order.exchange_order_id])
            else:
                try:
                    self._apply(order, await self.x.fetch(order))
                except ExchangeFailure as error:
                    failure = error
                    if error.error == "order_not_found":
                        order.status = "cancelled"
            if failure is not None:
                lost = failure if failure.kind is FailureKind.AUTH_LOST else lost
                continue
            if order.filled > 0 and order.average_price is None:
                await self._fill_price(order)
            changed |= (order.status, order.filled) != before
        was_waiting = group.waiting
        group.waiting = (
            None if lost is None else f"the exchange no longer accepts the account: {lost.detail}"
        )
        return changed or was_waiting != group.waiting

    async def _fill_price(self, order: Order) -> None:
        since = int((order.created_at or self.s.clock.now()).timestamp() * 1000) - 60_000
        with contextlib.suppress(ExchangeFailure):
            order.average_price = await self.x.average_price(order, since)

    async def _cancel(self, order: Order) -> None:
        if order.exchange_order_id is None:
            return
        try:
            await self.x.cancel(order)
        except ExchangeFailure:
            return  # still open: the next reconcile tries again
        try:
            self._apply(order, await self.x.fetch(order))
        except ExchangeFailure:
            order.status = "cancelled"
        if order.live:
            order.status = "cancelled"

    # -- acting on the plan -----------------------------------------------------------------

    async def _advance(self, events: Events, protect: bool = True, save: bool = True) -> None:
        """Act on the plan until nothing is left to do; save; stop when terminal.

        With ``protect=False`` only the status is updated (no orders placed or cancelled);
        with ``save=False`` the events wait for the next save (the next ``_advance``).
        """
        group = self.group
        assert group is not None
        before = group.status
        # A fill just applied may have exposed the position: measured from now, even when the
        # stop is placed in this same step.
        BOARD.report(group.id, group.exchange, protection_of(group).state)
        for _ in range(MAX_PLAN_ROUNDS if protect else 1):
            step = plan(group)
            if not protect:
                group.status = step.status
                break
            events += list(step.events)
            acted = await self._act(step.place, step.cancel, events)
            group.status = step.status
            if not acted:
                break
        if group.status != before:
            events.append(("group_status_changed", {"from": before, "status": group.status}))
        if save:
            await self._save(events)
        else:
            self._unsaved.extend(events)

    async def _act(
        self, place: tuple[NewOrder, ...], cancel: tuple[Order, ...], events: Events
    ) -> bool:
        """Place (protective orders first), then cancel what they replace; while closing,
        cancel first (targets, an unfilled entry) and keep the stop. True when anything was
        sent."""
        group = self.group
        assert group is not None
        acted = False
        if group.closing:
            acted |= await self._cancel_all(cancel, events)
        for new in place:
            if self._held(new.role):
                continue
            acted = True
            placed = await self._place(new)
            events.append((f"{new.role}_placed", _order_event(placed.order)))
            if placed.failure is not None and await self._respond(placed, events):
                return True
            if self._not_accepted.get(new.role, 0) >= MAX_NOT_ACCEPTED:
                self._give_up_on(new.role, events)
                return True
        if not group.closing:
            acted |= await self._cancel_all(cancel, events)
        return acted

    async def _cancel_all(self, orders: tuple[Order, ...], events: Events) -> bool:
        for order in orders:
            if order.exchange_order_id is None and order.status != "pending_submit":
                order.status = "cancelled"  # never on the exchange
                continue
            await self._cancel(order)
            events.append(("order_cancelled", _order_event(order)))
        return bool(orders)

    def _give_up_on(self, role: str, events: Events) -> None:
        """The venue never received this role's order, several times over: a refusal."""
        self._not_accepted.pop(role, None)
        failure = ExchangeFailure(
            "not_accepted",
            f"the exchange never received the {role} after {MAX_NOT_ACCEPTED} attempts",
            kind=FailureKind.REFUSED,
            reason="not_accepted",
        )
        if role == "stop_loss":
            self._emergency_exit(failure, events)

    async def _save(self, events: Events) -> None:
        group = self.group
        assert group is not None
        await self._read_fees()
        now = self.s.clock.now()
        await self._read_funding(now)
        events = [*self._unsaved, *events]
        events += order_updates(group.orders, self._seen, frozenset(self._expired))
        await self.s.write(group.user_id, lambda c: store.save_group_tx(c, group, now, events))
        self._unsaved.clear()
        BOARD.report(group.id, group.exchange, protection_of(group).state)
        if group.status not in TERMINAL and self._wants_haste() != self._urgent:
            await self._watch()
        filled = sum((o.filled for o in group.orders), Decimal(0))
        if filled != self._filled_seen:
            self._filled_seen = filled
            await self.x.refresh_balance()
        if group.status in TERMINAL and self._ctx is not None:
            self._ctx.stop(f"group {group.status}")

    async def _read_fees(self) -> None:
        """Read the fees of orders that filled further since their fee was last read (a
        failure leaves them for the next save; a later import fills in what is missing)."""
        group = self.group
        assert group is not None
        if group.waiting is not None:
            return  # the account's credentials are lost: nothing is sent until re-approved
        due = [
            o
            for o in group.orders
            if o.filled > 0 and o.exchange_order_id and self._fee_at.get(o.id) != o.filled
        ]
        if not due:
            return
        start = min(o.created_at or self.s.clock.now() for o in due)
        since = int(start.timestamp() * 1000) - 60_000
        try:
            fees = await self.x.order_fees(due, since)
        except ExchangeFailure:
            return
        for order in due:
            fee = fees.get(order.exchange_order_id or "")
            if fee is not None:
                order.fee = fee
                self._fee_at[order.id] = order.filled

    async def _read_funding(self, now: dt.datetime) -> None:
        """A group closed flat reads the funding its position received or paid while open:
        every payment of the symbol since its entry was placed, up to the exchange's present
        (the position is flat now, so no later payment is its). A failure leaves it unread:
        the next import of the account reads it."""
        group = self.group
        assert group is not None
        flat = group.status in TERMINAL and group.entry_filled > 0 and group.position == 0
        if not flat or group.funding is not None or group.waiting is not None:
            return
        entries = [o.created_at for o in group.orders_of("entry") if o.created_at is not None]
        since = int(min(entries, default=now).timestamp() * 1000)
        try:
            group.funding = await self.x.funding(since)
        except ExchangeFailure:
            return

    # -- commands -------------------------------------------------------------------------

    def _closed(self) -> Problem | None:
        group = self.group
        assert group is not None
        if group.status in TERMINAL or group.closing:
            return Problem("group_closed", f"The group is {group.status}.")
        return None

    async def _cancel_group(self) -> GroupReply:
        group = self.group
        assert group is not None
        if group.status in TERMINAL:
            return Problem("group_closed", f"The group is already {group.status}.")
        group.closing = True
        group.close_reason = "cancelled_by_user"
        await self._advance([("cancel_requested", {"status": group.status})])
        return self.describe()

    async def _set_break_even(self, enabled: bool, trigger: str) -> GroupReply:
        """Toggle break-even; a price trigger must lie beyond the break-even stop, on the
        profit side, and makes the poller send the market's price."""
        group = self.group
        assert group is not None
        if (refused := self._closed()) is not None:
            return refused
        level = break_even_level(trigger)
        if enabled and level is not None:
            entry = group.average_entry_price or group.entry_price
            floor = entry + entry * BREAK_EVEN_FEE_OFFSET * group.direction
            if not beyond(group.side, level, floor):
                where = target_where(group.side)
                return Problem(
                    "trigger_wrong_side",
                    f"A {group.side} group's break-even trigger must be {where} {floor}.",
                )
        group.break_even_enabled = enabled
        group.break_even_trigger = trigger
        await self._advance([("break_even_set", {"enabled": enabled, "trigger": trigger})])
        await self._watch()  # ask for (or stop asking for) the market's price
        return self.describe()

    async def _update_stop(self, price: Decimal) -> GroupReply:
        group = self.group
        assert group is not None
        if (refused := self._closed()) is not None:
            return refused
        group.stop_loss_price = price
        group.break_even_price = None
        await self._advance([("stop_loss_amended", {"stop_price": str(price)})])
        return self.describe()

    async def _update_targets(
        self, targets: tuple[tuple[Decimal, Decimal, str], ...]
    ) -> GroupReply:
        group = self.group
        assert group is not None
        if (refused := self._closed()) is not None:
            return refused
        limit = group.position if group.status == "active" else group.quantity
        if sum((q for _, q, _ in targets), Decimal(0)) > limit:
            return Problem(
                "targets_exceed_position", f"Target quantities exceed the position ({limit})."
            )
        start = max((t.idx for t in group.targets), default=-1) + 1
        group.targets = [Target(start + i, p, q, kind) for i, (p, q, kind) in enumerate(targets)]
        await self.s.write(
            group.user_id, lambda c: store.replace_targets_tx(c, group.id, group.targets)
        )
        amended = [{"price": str(p), "quantity": str(q)} for p, q, _ in targets]
        await self._advance([("take_profit_amended", {"targets": amended})])
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
