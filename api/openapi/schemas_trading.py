"""Response schemas of trade groups: orders, targets, the decision and the event log."""

from __future__ import annotations

from .schemas_base import (
    ANY_OBJECT,
    BOOL,
    DECIMAL,
    INT,
    OPT_DECIMAL,
    OPT_INT,
    OPT_STR,
    STR,
    UUID,
    Schema,
    array,
    obj,
    ref,
)

ORDER = obj(
    {
        "role": {"enum": ["entry", "stop_loss", "take_profit", "close"]},
        "target_index": OPT_INT,
        "client_order_id": STR,
        "exchange_order_id": OPT_STR,
        "side": {"enum": ["buy", "sell"]},
        "type": STR,
        "price": OPT_DECIMAL,
        "trigger_price": OPT_DECIMAL,
        "quantity": DECIMAL,
        "reduce_only": BOOL,
        "status": STR,
        "filled_quantity": DECIMAL,
        "average_price": OPT_DECIMAL,
        "error": OPT_STR,
    },
    doc="One order of a group (entry, stop, take-profit or closing order).",
)
TARGET = obj(
    {
        "index": INT,
        "price": DECIMAL,
        "quantity": DECIMAL,
        "order_type": {"enum": ["limit", "market"]},
        "filled_quantity": DECIMAL,
        "error": OPT_STR,
    }
)
CHECK = obj(
    {"code": STR, "passed": BOOL, "message": STR, "actual": OPT_STR, "limit": OPT_STR},
    doc="One check of the Decision Loop.",
)
DECISION = obj(
    {"approved": BOOL, "checks": array(ref("DecisionCheck"))},
    doc="The Decision Loop's verdict: every check, sizing and warnings.",
)
EVENT = obj({"seq": INT, "event_type": STR, "payload": ANY_OBJECT, "created_at": STR})
GROUP = obj(
    {
        "id": UUID,
        "exchange_account_id": UUID,
        "exchange": STR,
        "symbol": STR,
        "side": {"enum": ["buy", "sell"]},
        "status": STR,
        "entry_type": {"enum": ["limit", "market"]},
        "entry_price": DECIMAL,
        "quantity": DECIMAL,
        "leverage": DECIMAL,
        "stop_loss_price": OPT_DECIMAL,
        "requested_stop_loss_price": OPT_DECIMAL,
        "risk_amount": OPT_DECIMAL,
        "filled_quantity": DECIMAL,
        "average_entry_price": OPT_DECIMAL,
        "position_quantity": DECIMAL,
        "realized_pnl": DECIMAL,
        "take_profit": array(ref("TakeProfitTarget")),
        "break_even": obj(
            {"enabled": BOOL, "trigger": STR, "triggered": BOOL, "stop_price": OPT_DECIMAL}
        ),
        "entry_order_id": OPT_STR,
        "stop_loss_order_id": OPT_STR,
        "orders": array(ref("Order")),
        "closing": BOOL,
        "close_reason": OPT_STR,
        "error": OPT_STR,
        "protection": obj({"state": STR, "reason": OPT_STR}),
    },
    doc="A trade group: entry, stop and targets managed together.",
)
CREATED_GROUP = {
    "allOf": [
        ref("TradeGroup"),
        obj({"decision": ref("Decision"), "decision_id": UUID, "warnings": array(STR)}),
    ]
}
GROUP_DETAIL = {
    "allOf": [
        ref("TradeGroup"),
        obj(
            {
                "decision": {"anyOf": [ref("Decision"), {"type": "null"}]},
                "events": array(ref("GroupEvent")),
            }
        ),
    ]
}
GROUP_LIST = obj({"trades": array(ref("TradeGroup"))})
CLEANUP = obj(
    {"cancelled_orders": array(ANY_OBJECT), "reconciled_groups": array(UUID), "cancelled": INT}
)

COMPONENTS: dict[str, Schema] = {
    "Order": ORDER,
    "TakeProfitTarget": TARGET,
    "DecisionCheck": CHECK,
    "Decision": DECISION,
    "GroupEvent": EVENT,
    "TradeGroup": GROUP,
}
