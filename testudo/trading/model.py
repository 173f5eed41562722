"""A trade group's state and the pure planning of what should be on the exchange.

The group actor keeps a :class:`Group` (loaded from and saved to the database). After every
observation (an order's fill, a cancel, a command) it calls :func:`plan`, which compares what
is on the exchange with what the group needs and returns the orders to place, the orders to
cancel and the new status. Protective orders are always placed before the orders they replace
are cancelled, so a position is never left without a stop.

Statuses: ``pending`` (entry not filled) → ``active`` (position open, stop and targets on the
exchange) → ``stopped_out`` / ``took_profit`` / ``closed`` (after DELETE or an emergency
exit) / ``closed_externally`` (the position was closed outside Testudo) / ``cancelled`` (entry
never filled); ``failed`` (the exchange refused the entry); ``awaiting_reconciliation`` (an
order's fate is unknown and it is looked up by client order id, never resubmitted; or the
account's credentials were lost and the group waits for re-authorisation).

A close (``DELETE``, an emergency exit) never removes the stop before the position is flat:
the close is placed first, targets and an unfilled entry are cancelled, and the stop is
cancelled only once nothing is left to protect.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.money import text
from testudo.sides import reached

TERMINAL = frozenset(
    {"stopped_out", "took_profit", "cancelled", "closed", "closed_externally", "failed"}
)
LIVE_ORDER = frozenset({"pending_submit", "open"})
DONE_ORDER = frozenset({"filled", "cancelled", "rejected", "not_found"})
BREAK_EVEN_FEE_OFFSET = Decimal("0.001")  # two taker fees of 0.05 %: break-even after costs


@attrs.define
class Order:
    id: str
    role: str  # entry | stop_loss | take_profit | close
    target_idx: int | None
    seq: int
    client_order_id: str
    exchange_order_id: str | None
    side: str
    order_type: str
    price: Decimal | None
    trigger_price: Decimal | None
    quantity: Decimal
    reduce_only: bool
    status: str
    filled: Decimal = Decimal(0)
    average_price: Decimal | None = None
    error: str | None = None
    created_at: dt.datetime | None = None
    fee: Decimal | None = None  # fees paid by its fills so far (None: not read yet)

    @property
    def live(self) -> bool:
        return self.status in LIVE_ORDER

    @property
    def is_trigger(self) -> bool:
        return self.trigger_price is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "target_index": self.target_idx,
            "client_order_id": self.client_order_id,
            "exchange_order_id": self.exchange_order_id,
            "side": self.side,
            "type": self.order_type,
            "price": _t(self.price),
            "trigger_price": _t(self.trigger_price),
            "quantity": text(self.quantity),
            "reduce_only": self.reduce_only,
            "status": self.status,
            "filled_quantity": text(self.filled),
            "average_price": _t(self.average_price),
            "error": self.error,
        }


@attrs.define
class Target:
    idx: int
    price: Decimal
    quantity: Decimal
    order_type: str
    filled: Decimal = Decimal(0)
    error: str | None = None  # the venue refused it: it stays unplaced (the stop protects)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.idx,
            "price": text(self.price),
            "quantity": text(self.quantity),
            "order_type": self.order_type,
            "filled_quantity": text(self.filled),
            "error": self.error,
        }


@attrs.define
class Group:
    id: str
    user_id: str
    account_id: str
    exchange: str
    symbol: str
    side: str
    entry_type: str
    entry_price: Decimal
    quantity: Decimal
    stop_loss_price: Decimal | None
    leverage: Decimal
    tick_size: Decimal
    lot_size: Decimal
    risk_amount: Decimal | None
    status: str
    targets: list[Target]
    orders: list[Order]
    closing: bool = False
    break_even_enabled: bool = False
    break_even_trigger: str = "first_take_profit"
    break_even_price: Decimal | None = None
    break_even_triggered: bool = False
    mark_price: Decimal | None = None  # the market's last price as last observed (not stored)
    close_reason: str | None = None
    error: str | None = None
    setup_tag: str | None = None
    waiting: str | None = None  # why nothing can be sent now (credentials lost; not stored)
    external_exit: Decimal = Decimal(0)  # closed outside Testudo (seen on the exchange)
    funding: Decimal | None = None  # received while open (read when closed flat; not stored)

    @property
    def exit_side(self) -> str:
        return "sell" if self.side == "buy" else "buy"

    @property
    def direction(self) -> Decimal:
        return Decimal(1) if self.side == "buy" else Decimal(-1)

    def orders_of(self, role: str) -> list[Order]:
        return [o for o in self.orders if o.role == role]

    @property
    def entry_filled(self) -> Decimal:
        return sum((o.filled for o in self.orders_of("entry")), Decimal(0))

    @property
    def exit_filled(self) -> Decimal:
        return sum((o.filled for o in self.orders if o.role != "entry"), Decimal(0))

    @property
    def position(self) -> Decimal:
        return max(self.entry_filled - self.exit_filled - self.external_exit, Decimal(0))

    @property
    def average_entry_price(self) -> Decimal | None:
        return _average(self.orders_of("entry"))

    @property
    def entry_done(self) -> bool:
        """The entry will not fill any further (filled completely, or ended)."""
        entries = self.orders_of("entry")
        return bool(entries) and not any(o.live for o in entries)

    @property
    def stop_price_now(self) -> Decimal | None:
        if self.break_even_triggered and self.break_even_price is not None:
            return self.break_even_price
        return self.stop_loss_price

    @property
    def realized_pnl(self) -> Decimal:
        entry = self.average_entry_price
        if entry is None:
            return Decimal(0)
        total = Decimal(0)
        for order in self.orders:
            if order.role != "entry" and order.filled > 0 and order.average_price is not None:
                total += (order.average_price - entry) * order.filled * self.direction
        return total

    def target_filled(self, idx: int) -> Decimal:
        """How much of target ``idx`` has filled (from its orders' fills)."""
        return sum(
            (o.filled for o in self.orders if o.role == "take_profit" and o.target_idx == idx),
            Decimal(0),
        )

    def next_seq(self, role: str, target_idx: int | None = None) -> int:
        seqs = [o.seq for o in self.orders if o.role == role and o.target_idx == target_idx]
        return max(seqs, default=0) + 1


@attrs.frozen
class NewOrder:
    """An order the group should place: its role and the spec sent to the exchange."""

    role: str
    target_idx: int | None
    seq: int
    spec: OrderSpec


@attrs.frozen
class Plan:
    place: tuple[NewOrder, ...]
    cancel: tuple[Order, ...]
    status: str
    events: tuple[tuple[str, dict[str, Any]], ...] = ()


def _new(
    group: Group,
    role: str,
    quantity: Decimal,
    *,
    target: Target | None = None,
    trigger: Decimal | None = None,
    price: Decimal | None = None,
    order_type: str = "market",
    kind: str | None = None,
) -> NewOrder:
    idx = None if target is None else target.idx
    seq = group.next_seq(role, idx)
    cid = venue_for(group.exchange).client_order_id(group.id, role, seq, idx)
    spec = OrderSpec(
        cid,
        group.symbol,
        group.exit_side if role != "entry" else group.side,
        order_type,
        quantity,
        price=price,
        trigger_price=trigger,
        trigger_kind=kind,
        reduce_only=role != "entry",
    )
    return NewOrder(role, idx, seq, spec)


def entry_order(group: Group) -> NewOrder:
    price = group.entry_price if group.entry_type == "limit" else None
    seq = group.next_seq("entry")
    spec = OrderSpec(
        venue_for(group.exchange).client_order_id(group.id, "entry", seq),
        group.symbol,
        group.side,
        group.entry_type,
        group.quantity,
        price=price,
    )
    return NewOrder("entry", None, seq, spec)


def pending_order(new: NewOrder, now: dt.datetime) -> Order:
    """The order row for ``new`` before it is sent: ``pending_submit``, no exchange id yet."""
    spec = new.spec
    return Order(
        "",
        new.role,
        new.target_idx,
        new.seq,
        spec.client_order_id,
        None,
        spec.side,
        spec.order_type,
        spec.price,
        spec.trigger_price,
        spec.quantity,
        spec.reduce_only,
        "pending_submit",
        created_at=now,
    )


def spec_of(group: Group, order: Order, slippage: Decimal | None = None) -> OrderSpec:
    """The exchange order an already recorded order stands for (inverse of pending_order);
    a market order's price is bounded by ``slippage`` where the venue takes a bound."""
    kind = {"stop_loss": "stop_loss", "take_profit": "take_profit"}.get(order.role)
    return OrderSpec(
        order.client_order_id,
        group.symbol,
        order.side,
        order.order_type,
        order.quantity,
        price=order.price,
        trigger_price=order.trigger_price,
        trigger_kind=kind if order.trigger_price is not None else None,
        reduce_only=order.reduce_only,
        max_slippage=slippage,
    )


def target_quantities(group: Group) -> dict[int, Decimal]:
    """Each target's quantity, scaled down when the entry filled only partly and ended."""
    filled = group.entry_filled
    if filled >= group.quantity or not group.entry_done:
        return {t.idx: t.quantity for t in group.targets}
    scale = filled / group.quantity
    return {
        t.idx: (t.quantity * scale).quantize(group.lot_size, rounding=ROUND_DOWN)
        for t in group.targets
    }


def break_even_price(group: Group) -> Decimal | None:
    entry = group.average_entry_price
    if entry is None:
        return None
    offset = entry * BREAK_EVEN_FEE_OFFSET * group.direction
    return (entry + offset).quantize(group.tick_size, rounding=ROUND_HALF_UP)


def break_even_level(trigger: str) -> Decimal | None:
    """The price of a price trigger (``"52000"``); None for ``first_take_profit``."""
    if trigger == "first_take_profit":
        return None
    try:
        level = Decimal(trigger)
    except ArithmeticError:
        return None
    return level if level.is_finite() and level > 0 else None


def break_even_reached(group: Group) -> bool:
    """Whether the break-even trigger has happened: the first target filled, or the market
    traded at or beyond the trigger price (above it for a long, below for a short)."""
    level = break_even_level(group.break_even_trigger)
    if level is None:
        return any(group.target_filled(t.idx) > 0 for t in group.targets)
    mark = group.mark_price
    if mark is None:
        return False
    return reached(group.side, mark, level)


def wants_price(group: Group) -> bool:
    """Whether the group needs the market's price (a pending break-even price trigger)."""
    return (
        group.break_even_enabled
        and not group.break_even_triggered
        and break_even_level(group.break_even_trigger) is not None
    )


def plan(group: Group) -> Plan:
    """What to place and cancel now, and the group's status afterwards."""
    live = [o for o in group.orders if o.live]
    if group.status in TERMINAL:
        return Plan((), tuple(o for o in live if o.status == "open"), group.status)
    if any(o.status == "pending_submit" for o in live) or group.waiting is not None:
        # An order's fate is unknown: resolve it (by client order id) before anything else;
        # or nothing can be sent at all (credentials lost): wait, exit nothing.
        return Plan((), (), "awaiting_reconciliation")
    if group.closing:
        return _plan_closing(group, live)
    entry_filled = group.entry_filled
    if entry_filled == 0:
        if group.entry_done:
            rejected = all(o.status in ("rejected", "not_found") for o in group.orders_of("entry"))
            return Plan((), (), "failed" if rejected else "cancelled")
        return Plan((), (), "pending")
    position = group.position
    if position == 0:
        return Plan((), tuple(o for o in live if o.role != "entry"), _exit_status(group))
    events: list[tuple[str, dict[str, Any]]] = []
    if group.break_even_enabled and not group.break_even_triggered and break_even_reached(group):
        group.break_even_triggered = True
        group.break_even_price = break_even_price(group)
        events.append(("break_even_triggered", {"stop_price": _t(group.break_even_price)}))
    place: list[NewOrder] = []
    cancel: list[Order] = []
    stop = group.stop_price_now
    stops = [o for o in live if o.role == "stop_loss"]
    if stop is not None:
        keep = [o for o in stops if o.quantity == position and o.trigger_price == stop]
        if not keep:
            place.append(_new(group, "stop_loss", position, trigger=stop, kind="stop_loss"))
        cancel += [o for o in stops if o not in keep[:1]]
    else:
        cancel += stops
    if group.entry_done:
        wanted = target_quantities(group)
        budget = position
        for target in group.targets:
            if target.error is not None:
                continue  # refused by the venue: left unplaced, the stop still covers it
            remaining = min(wanted[target.idx] - group.target_filled(target.idx), budget)
            existing = [o for o in live if o.role == "take_profit" and o.target_idx == target.idx]
            if remaining <= 0:
                cancel += existing
                continue
            budget -= remaining
            keep = [o for o in existing if o.quantity == remaining and _serves(o, target)]
            if not keep:
                if target.order_type == "limit":
                    place.append(
                        _new(
                            group,
                            "take_profit",
                            remaining,
                            target=target,
                            price=target.price,
                            order_type="limit",
                        )
                    )
                else:
                    place.append(
                        _new(
                            group,
                            "take_profit",
                            remaining,
                            target=target,
                            trigger=target.price,
                            kind="take_profit",
                        )
                    )
            cancel += [o for o in existing if o not in keep[:1]]
        known = {t.idx for t in group.targets}
        cancel += [o for o in live if o.role == "take_profit" and o.target_idx not in known]
    return Plan(tuple(place), tuple(cancel), "active", tuple(events))


def _serves(order: Order, target: Target) -> bool:
    """Whether a resting order is the one ``target`` wants (a limit at its price, or a
    trigger at its price when the target is not a limit)."""
    if target.order_type == "limit":
        return order.trigger_price is None and order.price == target.price
    return order.trigger_price == target.price


def _plan_closing(group: Group, live: list[Order]) -> Plan:
    """Close: the close order first, the stop kept until the position is flat."""
    position = group.position
    closes = [o for o in live if o.role == "close"]
    if position > 0:
        cancel = tuple(o for o in live if o.role in ("entry", "take_profit"))
        if not closes and not any(o.role == "entry" for o in live):
            return Plan((_new(group, "close", position),), cancel, group.status)
        return Plan((), cancel, group.status)
    cancel = tuple(live)  # flat: nothing left to protect, every leftover goes
    if any(o.role == "entry" and o.status == "pending_submit" for o in live):
        return Plan((), cancel, group.status)
    if group.entry_filled == 0:
        return Plan((), cancel, "cancelled")
    if group.close_reason == "closed_externally":
        return Plan((), cancel, "closed_externally")
    return Plan((), cancel, _exit_status(group))


def _exit_status(group: Group) -> str:
    if any(o.filled > 0 for o in group.orders_of("stop_loss")):
        return "stopped_out"
    if any(o.filled > 0 for o in group.orders_of("close")):
        return "closed"
    return "took_profit"


def _average(orders: list[Order]) -> Decimal | None:
    quantity = sum((o.filled for o in orders if o.average_price is not None), Decimal(0))
    if quantity == 0:
        return None
    notional = sum(
        (o.filled * o.average_price for o in orders if o.average_price is not None), Decimal(0)
    )
    return notional / quantity


def _t(value: Decimal | None) -> str | None:
    return None if value is None else text(value)
