"""``GET /exchanges/accounts/{id}/positions``: each position with what protects it (pure).

Built from the account's book (positions and open orders, regular and conditional) and the
live trade groups' orders: every position lists its protective orders (reduce-only orders on
the other side, stops included) and the group that owns it; every open order says which group
and role it belongs to, if any. ``protected`` is true when a reduce-only stop for at least the
whole position rests on the exchange.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from testudo.money import text

from .book import Book
from .symbols import base_of
from .venues import OrderState, Position


@attrs.frozen
class Owner:
    """A live group's order: which group, and its role there."""

    group_id: str
    role: str
    symbol: str


def _t(value: Decimal | None) -> str | None:
    return None if value is None else text(value)


def order_json(order: OrderState, owners: Mapping[str, Owner]) -> dict[str, Any]:
    owner = owners.get(order.client_order_id or "")
    return {
        "id": order.exchange_order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.order_type,
        "price": _t(order.price),
        "stop_price": _t(order.trigger_price),
        "amount": _t(order.quantity),
        "filled": text(order.filled),
        "reduce_only": order.reduce_only,
        "conditional": order.is_trigger,
        "group_id": None if owner is None else owner.group_id,
        "role": None if owner is None else owner.role,
    }


def _closes(order: OrderState, position: Position) -> bool:
    """Whether ``order`` works against ``position`` (reduce-only, the opposite side)."""
    closing_side = "sell" if position.side == "long" else "buy"
    same_market = order.symbol is not None and base_of(order.symbol) == base_of(position.symbol)
    return same_market and order.reduce_only and order.side == closing_side


def _is_stop(order: OrderState, position: Position, owners: Mapping[str, Owner]) -> bool:
    """A conditional order that fires against the position: a group's stop, or one of the
    trader's own whose trigger lies on the losing side of the mark."""
    owner = owners.get(order.client_order_id or "")
    if owner is not None:
        return owner.role == "stop_loss"
    reference = position.mark_price or position.entry_price
    if order.trigger_price is None or reference is None:
        return False
    if position.side == "long":
        return order.trigger_price < reference
    return order.trigger_price > reference


def position_json(
    position: Position, orders: Iterable[OrderState], owners: Mapping[str, Owner]
) -> dict[str, Any]:
    protective = [o for o in orders if _closes(o, position)]
    stops = [
        o
        for o in protective
        if _is_stop(o, position, owners)
        and o.quantity is not None
        and o.quantity >= position.quantity
    ]
    groups = sorted(
        {o.group_id for o in owners.values() if base_of(o.symbol) == base_of(position.symbol)}
    )
    return {
        "symbol": position.symbol,
        "side": position.side,
        "contracts": text(position.quantity),
        "quantity": text(position.quantity),
        "entry_price": _t(position.entry_price),
        "mark_price": _t(position.mark_price),
        "unrealized_pnl": _t(position.unrealized_pnl),
        "leverage": _t(position.leverage),
        "liquidation_price": _t(position.liquidation_price),
        "group_id": groups[0] if len(groups) == 1 else None,
        "group_ids": groups,
        "protected": bool(stops),
        "protective_orders": [order_json(o, owners) for o in protective],
    }


def positions_json(book: Book, owners: Mapping[str, Owner]) -> dict[str, Any]:
    return {
        "positions": [position_json(p, book.orders, owners) for p in book.positions],
        "open_orders": [order_json(o, owners) for o in book.orders],
    }
