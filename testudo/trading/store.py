"""The SQL of trade groups: named queries and one-transaction units of work.

Every change of a group is saved together with its event-log rows and the ``order.<user_id>``
events for the live feed, in one transaction (``publish_event``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import psycopg

from testudo.db.database import Conn

from .model import TERMINAL, Group, Order, Target

GROUP_COLUMNS = """
id::text AS id, user_id::text AS user_id, exchange_account_id::text AS account_id, exchange,
symbol, side, entry_type, entry_price, quantity, stop_loss_price, leverage, tick_size, lot_size,
risk_amount, status, closing, break_even_enabled, break_even_trigger, break_even_price,
break_even_triggered, close_reason, error, setup_tag, external_exit"""
SELECT_GROUP = f"SELECT {GROUP_COLUMNS} FROM trade_groups WHERE id = %s"
SELECT_TARGETS = """
SELECT idx, price, quantity, order_type, filled_quantity AS filled, error FROM trade_targets
WHERE group_id = %s ORDER BY idx"""
ORDER_COLUMNS = """
id::text AS id, role, target_idx, seq, client_order_id, exchange_order_id, side, order_type,
price, trigger_price, quantity, reduce_only, status, filled_quantity AS filled, average_price,
error, created_at, fee"""
SELECT_ORDERS = (
    f"SELECT {ORDER_COLUMNS} FROM trade_orders WHERE group_id = %s ORDER BY created_at, seq"
)
INSERT_GROUP = """
INSERT INTO trade_groups (id, user_id, exchange_account_id, exchange, symbol, side, entry_type,
    entry_price, quantity, stop_loss_price, leverage, tick_size, lot_size, risk_amount, status,
    decision_id, idempotency_key, setup_tag, break_even_enabled, created_at, updated_at)
VALUES (%(id)s, %(user_id)s, %(account_id)s, %(exchange)s, %(symbol)s, %(side)s, %(entry_type)s,
    %(entry_price)s, %(quantity)s, %(stop_loss_price)s, %(leverage)s, %(tick_size)s,
    %(lot_size)s, %(risk_amount)s, 'pending', %(decision_id)s, %(idempotency_key)s,
    %(setup_tag)s, %(break_even_enabled)s, %(now)s, %(now)s)"""
INSERT_TARGET = """
INSERT INTO trade_targets (group_id, idx, price, quantity, order_type)
VALUES (%s, %s, %s, %s, %s)"""
USER_LIVE_CLIENT_IDS = """
SELECT o.client_order_id FROM trade_orders o JOIN trade_groups g ON g.id = o.group_id
WHERE g.user_id = %s AND g.status IN ('pending', 'active', 'awaiting_reconciliation')"""
DELETE_TARGETS = "DELETE FROM trade_targets WHERE group_id = %s"
INSERT_ORDER = """
INSERT INTO trade_orders (id, group_id, role, target_idx, seq, client_order_id, side,
    order_type, price, trigger_price, quantity, reduce_only, status, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending_submit', %s, %s)"""
UPDATE_ORDER = """
UPDATE trade_orders SET exchange_order_id = %s, status = %s, filled_quantity = %s,
    average_price = %s, error = %s, fee = %s, updated_at = %s
WHERE id = %s"""
UPDATE_TARGET_FILLED = (
    "UPDATE trade_targets SET filled_quantity = %s, error = %s, order_type = %s"
    " WHERE group_id = %s AND idx = %s"
)
UPDATE_GROUP = """
UPDATE trade_groups SET status = %(status)s, closing = %(closing)s,
    stop_loss_price = %(stop_loss_price)s, break_even_enabled = %(break_even_enabled)s,
    break_even_trigger = %(break_even_trigger)s, break_even_price = %(break_even_price)s,
    break_even_triggered = %(break_even_triggered)s, filled_quantity = %(filled)s,
    average_entry_price = %(average)s, position_quantity = %(position)s,
    realized_pnl = %(realized)s, close_reason = %(close_reason)s, error = %(error)s,
    external_exit = %(external_exit)s, updated_at = %(now)s,
    closed_at = CASE WHEN %(terminal)s AND closed_at IS NULL THEN %(now)s ELSE closed_at END
WHERE id = %(id)s"""
NEXT_EVENT_SEQ = (
    "SELECT coalesce(max(seq), 0) + 1 AS seq FROM trade_group_events WHERE group_id = %s"
)
INSERT_EVENT = """
INSERT INTO trade_group_events (group_id, seq, event_type, payload, created_at)
VALUES (%s, %s, %s, %s, %s)"""
PUBLISH = "SELECT publish_event(%s, %s::jsonb)"
SELECT_EVENTS = """
SELECT seq, event_type, payload, created_at FROM trade_group_events WHERE group_id = %s
ORDER BY seq"""
LIVE_GROUP_IDS = """
SELECT id::text AS id, user_id::text AS user_id FROM trade_groups
WHERE status IN ('pending', 'active', 'awaiting_reconciliation')"""
USER_LIVE_GROUPS = """
SELECT id::text AS id, symbol, status FROM trade_groups
WHERE user_id = %s AND status IN ('pending', 'active', 'awaiting_reconciliation')
ORDER BY created_at DESC"""
GROUP_STATUS = "SELECT status FROM trade_groups WHERE id = %s"
OWNED_GROUP = "SELECT id::text AS id FROM trade_groups WHERE id = %s AND user_id = %s"
SELECT_DECISION_BY_ID = """
SELECT id::text AS id, approved, limiting_constraint, position_size, risk_amount, checks,
       warnings, inputs, answer, created_at
FROM risk_decisions WHERE id = %s"""
SELECT_DECISION = """
SELECT id::text AS id, approved, limiting_constraint, position_size, risk_amount, checks,
       warnings, inputs, answer, created_at
FROM risk_decisions WHERE id = (SELECT decision_id FROM trade_groups WHERE id = %s)"""
ACCOUNT_LIVE_CLIENT_IDS = """
SELECT o.client_order_id FROM trade_orders o JOIN trade_groups g ON g.id = o.group_id
WHERE g.exchange_account_id = %s AND g.status IN ('pending', 'active', 'awaiting_reconciliation')"""
TODAY_REALIZED = """
SELECT coalesce(sum(realized_pnl), 0) AS pnl FROM trade_groups
WHERE exchange_account_id = %s AND closed_at >= %s"""


def load_group_tx(conn: Conn, group_id: str) -> Group | None:
    row = conn.execute(SELECT_GROUP, (group_id,)).fetchone()
    if row is None:
        return None
    targets = [Target(**t) for t in conn.execute(SELECT_TARGETS, (group_id,)).fetchall()]
    orders = [Order(**o) for o in conn.execute(SELECT_ORDERS, (group_id,)).fetchall()]
    return Group(**row, targets=targets, orders=orders)


def insert_group_tx(conn: Conn, values: dict[str, Any], targets: list[Target]) -> None:
    conn.execute(INSERT_GROUP, values)
    for target in targets:
        conn.execute(
            INSERT_TARGET,
            (values["id"], target.idx, target.price, target.quantity, target.order_type),
        )


def replace_targets_tx(conn: Conn, group_id: str, targets: list[Target]) -> None:
    conn.execute(DELETE_TARGETS, (group_id,))
    for target in targets:
        conn.execute(
            INSERT_TARGET, (group_id, target.idx, target.price, target.quantity, target.order_type)
        )


def record_intent_tx(conn: Conn, group_id: str, order: Order, now: dt.datetime) -> str:
    """Write the order with status ``pending_submit`` before it is sent; return its row id.

    The id is made here, so nothing is read back (the insert can be pipelined).
    """
    order_id = str(uuid.uuid4())
    conn.execute(
        INSERT_ORDER,
        (
            order_id,
            group_id,
            order.role,
            order.target_idx,
            order.seq,
            order.client_order_id,
            order.side,
            order.order_type,
            order.price,
            order.trigger_price,
            order.quantity,
            order.reduce_only,
            now,
            now,
        ),
    )
    return order_id


def save_group_tx(
    conn: Conn, group: Group, now: dt.datetime, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """Save the group, its orders and targets, and append + publish its events."""
    for order in group.orders:
        conn.execute(
            UPDATE_ORDER,
            (
                order.exchange_order_id,
                order.status,
                order.filled,
                order.average_price,
                order.error,
                order.fee,
                now,
                order.id,
            ),
        )
    fills: dict[int, Decimal] = {}
    for order in group.orders_of("take_profit"):
        if order.target_idx is not None:
            fills[order.target_idx] = fills.get(order.target_idx, Decimal(0)) + order.filled
    for target in group.targets:
        target.filled = fills.get(target.idx, Decimal(0))
        conn.execute(
            UPDATE_TARGET_FILLED,
            (target.filled, target.error, target.order_type, group.id, target.idx),
        )
    conn.execute(
        UPDATE_GROUP,
        {
            "id": group.id,
            "status": group.status,
            "closing": group.closing,
            "stop_loss_price": group.stop_loss_price,
            "break_even_enabled": group.break_even_enabled,
            "break_even_trigger": group.break_even_trigger,
            "break_even_price": group.break_even_price,
            "break_even_triggered": group.break_even_triggered,
            "filled": group.entry_filled,
            "average": group.average_entry_price,
            "position": group.position,
            "realized": group.realized_pnl,
            "close_reason": group.close_reason,
            "error": group.error,
            "external_exit": group.external_exit,
            "now": now,
            "terminal": group.status in TERMINAL,
        },
    )
    append_events_tx(conn, group, now, events)
    if group.status in TERMINAL and group.entry_filled > 0 and group.position == 0:
        record_in_journal_tx(conn, group, now)


def record_in_journal_tx(conn: Conn, group: Group, now: dt.datetime) -> None:
    """A group closed flat becomes one journal trade with its stop and planned risk (exact R)."""
    from testudo.journal.linking import GroupClose, record_closed_group

    exits = [
        o
        for o in group.orders
        if o.role != "entry" and o.filled > 0 and o.average_price is not None
    ]
    quantity = sum((o.filled for o in exits), Decimal(0))
    entry = group.average_entry_price
    if not exits or quantity == 0 or entry is None:
        return
    exit_price = (
        sum((o.filled * (o.average_price or Decimal(0)) for o in exits), Decimal(0)) / quantity
    )
    entries = group.orders_of("entry")
    opened = min((o.created_at for o in entries if o.created_at is not None), default=now)
    record_closed_group(
        conn,
        GroupClose(
            user_id=group.user_id,
            trade_group_id=group.id,
            exchange_account_id=group.account_id,
            exchange=group.exchange,
            symbol=group.symbol,
            side=group.side,
            entry_price=entry,
            exit_price=exit_price,
            quantity=quantity,
            fees=sum((o.fee or Decimal(0) for o in group.orders), Decimal(0)),
            opened_at=opened,
            closed_at=now,
            funding=group.funding,
            stop_price=group.stop_loss_price,
            risk_amount=group.risk_amount,
            target_price=group.targets[0].price if group.targets else None,
            leverage=group.leverage,
            setup_tag=group.setup_tag,
            close_reason=_close_reason(group),
            order_ids=[o.exchange_order_id for o in group.orders if o.exchange_order_id],
            client_order_ids=[o.client_order_id for o in group.orders],
        ),
    )


def _close_reason(group: Group) -> str:
    """The journal's close reason: a stop hit after break-even is a break-even exit."""
    if group.status == "stopped_out" and group.break_even_triggered:
        return "break_even_stop"
    return group.close_reason or group.status


def append_events_tx(
    conn: Conn, group: Group, now: dt.datetime, events: list[tuple[str, dict[str, Any]]]
) -> None:
    if not events:
        return
    row = conn.execute(NEXT_EVENT_SEQ, (group.id,)).fetchone()
    assert row is not None
    seq = int(row["seq"])
    for kind, payload in events:
        conn.execute(INSERT_EVENT, (group.id, seq, kind, json.dumps(payload), now))
        message = {
            "e": kind,
            "group_id": group.id,
            "s": group.symbol,
            "status": payload.get("status", group.status),
            **payload,
        }
        conn.execute(PUBLISH, (f"order.{group.user_id}", json.dumps(message)))
        seq += 1


def events_tx(conn: Conn, group_id: str) -> list[dict[str, Any]]:
    return list(conn.execute(SELECT_EVENTS, (group_id,)).fetchall())


def unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.errors.UniqueViolation)
