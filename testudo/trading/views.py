"""The JSON shape of a trade group (``GET /trades/{id}`` and every command's reply)."""

from __future__ import annotations

import datetime as dt
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


def decision_body(
    decision_id: str, answer: dict[str, Any], inputs: Any, created_at: dt.datetime | None
) -> dict[str, Any]:
    """The decision object: its id and time, what the Decision Loop answered (``approved``,
    ``quantity``, prices, ``targets``, ``sizing``, ``checks``, ``failed``, ``warnings``), the
    sizing's ``limiting_constraint``, ``position_size`` and ``risk_amount``, and its inputs."""
    sizing = answer.get("sizing") or {}
    return {
        "id": decision_id,
        **answer,
        "limiting_constraint": sizing.get("limiting_constraint"),
        "position_size": sizing.get("quantity"),
        "risk_amount": sizing.get("risk_amount"),
        "inputs": inputs,
        "created_at": None if created_at is None else created_at.isoformat(),
    }


def decision_json(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A recorded decision as :func:`decision_body` (a decision recorded before its answer
    was kept has only the figures its row holds)."""
    if row is None:
        return None
    answer = row.get("answer")
    if answer is None:
        checks = row["checks"] or []
        answer = {
            "approved": row["approved"],
            "sizing": None
            if row["position_size"] is None
            else {
                "quantity": str(row["position_size"]),
                "risk_amount": None if row["risk_amount"] is None else str(row["risk_amount"]),
                "limiting_constraint": row["limiting_constraint"],
            },
            "checks": checks,
            "failed": [c for c in checks if not c.get("passed")],
            "warnings": row["warnings"] or [],
        }
    return decision_body(row["id"], answer, row["inputs"], row["created_at"])


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "event_type": row["event_type"],
        "payload": row["payload"],
        "created_at": row["created_at"].isoformat(),
    }
