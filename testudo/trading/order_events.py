"""``order_update`` events: one per change of an order's state, whatever the order's role.

The trade-group actor remembers, per order, the state it last published (:class:`Seen`); at
every save it publishes an ``order_update`` for each order whose state differs from that
(:func:`order_updates`). An order that was never sent (``pending_submit``) has no state
worth publishing yet.

Statuses: ``placed`` (resting, nothing filled), ``partially_filled``, ``filled``,
``cancelled`` (by Testudo or by hand; possibly after partial fills), ``expired`` (ended by
the exchange), ``rejected`` (refused, or never received by the exchange).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from testudo.money import text

from .model import Order

RANK = {
    "partially_filled": 0,
    "filled": 0,
    "placed": 1,
    "cancelled": 2,
    "expired": 2,
    "rejected": 2,
}


@attrs.frozen
class Seen:
    status: str | None
    filled: Decimal


def status_of(order: Order, expired: bool = False) -> str | None:
    """The event status of an order (None while it was not sent)."""
    match order.status:
        case "open":
            return "partially_filled" if order.filled > 0 else "placed"
        case "filled":
            return "filled"
        case "cancelled":
            return "expired" if expired else "cancelled"
        case "rejected" | "not_found":
            return "rejected"
    return None


def seen_of(order: Order, expired: bool = False) -> Seen:
    return Seen(status_of(order, expired), order.filled)


def order_update(order: Order, status: str) -> dict[str, Any]:
    """The event's payload (the group id and symbol are added by the store)."""
    return {
        "status": status,
        "order_id": order.id,
        "role": order.role,
        "target_index": order.target_idx,
        "client_order_id": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "side": order.side,
        "type": order.order_type,
        "price": _t(order.price),
        "trigger_price": _t(order.trigger_price),
        "quantity": text(order.quantity),
        "filled_quantity": text(order.filled),
        "average_price": _t(order.average_price),
        "fee": _t(order.fee),
        "error": order.error,
    }


def order_updates(
    orders: Iterable[Order], seen: dict[str, Seen], expired: frozenset[str] = frozenset()
) -> list[tuple[str, dict[str, Any]]]:
    """The ``order_update`` events of every order whose state changed since ``seen`` (which
    is updated to the new states), in causal order: fills first, then the orders placed in
    answer, then the ones that ended (a stop resized after a target's fill: the fill, the
    new stop, the old stop's cancel)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for order in orders:
        now = seen_of(order, order.id in expired)
        if now.status is None or seen.get(order.id) == now:
            continue
        seen[order.id] = now
        out.append(("order_update", order_update(order, now.status)))
    return sorted(out, key=lambda event: RANK[event[1]["status"]])


def _t(value: Decimal | None) -> str | None:
    return None if value is None else text(value)
