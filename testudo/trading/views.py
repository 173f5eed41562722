"""The JSON shape of a trade group (``GET /trades/{id}`` and every command's reply)."""

from __future__ import annotations

from typing import Any

from testudo.money import text

from .model import Group
from .protection import protection_of


def _t(value: Any) -> str | None:
    return None if value is None else text(value)


def group_json(group: Group) -> dict[str, Any]:
    entries = group.orders_of("entry")
    stops = [o for o in group.orders_of("stop_loss") if o.live]
    return {
        "id": group.id,
        "exchange_account_id": group.account_id,
        "exchange": group.exchange,
        "symbol": group.symbol,
        "side": group.side,
        "status": group.status,
        "entry_type": group.entry_type,
        "entry_price": text(group.entry_price),
        "quantity": text(group.quantity),
        "leverage": text(group.leverage),
        "stop_loss_price": _t(group.stop_price_now),
        "requested_stop_loss_price": _t(group.stop_loss_price),
        "risk_amount": _t(group.risk_amount),
        "filled_quantity": text(group.entry_filled),
        "average_entry_price": _t(group.average_entry_price),
        "position_quantity": text(group.position),
        "realized_pnl": text(group.realized_pnl),
        "take_profit": [t.to_json() for t in group.targets],
        "break_even": {
            "enabled": group.break_even_enabled,
            "trigger": group.break_even_trigger,
            "triggered": group.break_even_triggered,
            "stop_price": _t(group.break_even_price),
        },
        "entry_order_id": entries[-1].exchange_order_id if entries else None,
        "stop_loss_order_id": stops[-1].exchange_order_id if stops else None,
        "orders": [o.to_json() for o in group.orders],
        "closing": group.closing,
        "close_reason": group.close_reason,
        "error": group.error,
        "protection": protection_of(group).to_json(),
    }


def decision_json(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row["id"],
        "approved": row["approved"],
        "limiting_constraint": row["limiting_constraint"],
        "position_size": None if row["position_size"] is None else str(row["position_size"]),
        "risk_amount": None if row["risk_amount"] is None else str(row["risk_amount"]),
        "checks": row["checks"],
        "warnings": row["warnings"],
        "inputs": row["inputs"],
        "created_at": row["created_at"].isoformat(),
    }


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "event_type": row["event_type"],
        "payload": row["payload"],
        "created_at": row["created_at"].isoformat(),
    }
