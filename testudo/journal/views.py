"""JSON shapes of journal rows: money and ratios as strings, times as RFC 3339 UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from testudo.money import wire


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def tag_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "user_id": str(row["user_id"]),
        "name": row["name"],
        "color": row["color"],
    }


TRADE_MONEY = (
    "entry_price",
    "exit_price",
    "quantity",
    "leverage",
    "realized_pnl",
    "realized_pnl_pct",
    "fees",
    "funding",
    "net_pnl",
    "stop_price",
    "target_price",
    "risk_amount",
    "r_multiple",
)


def trade_json(row: Mapping[str, Any], tags: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A journal trade as the API answers it (side always upper case)."""
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "user_id": str(row["user_id"]),
        "exchange_account_id": _str(row["exchange_account_id"]),
        "exchange": row["exchange"],
        "symbol": row["symbol"],
        "side": str(row["side"]).upper(),
    }
    for name in TRADE_MONEY:
        value: Decimal | None = row[name]
        out[name] = wire(value)
    out.update(
        {
            "opened_at": iso(row["opened_at"]),
            "closed_at": iso(row["closed_at"]),
            "duration_secs": row["duration_secs"],
            "trade_group_id": _str(row["trade_group_id"]),
            "notes": row["notes"],
            "source": row["source"],
            "exchange_fill_id": row["exchange_fill_id"],
            "setup_tag": row["setup_tag"],
            "close_reason": row["close_reason"],
            "fill_count": row["fill_count"],
            "needs_reconciliation": False,
            "status": "final",
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "tags": [tag_json(t) for t in tags],
        }
    )
    return out


def entry_json(row: Mapping[str, Any]) -> dict[str, Any]:
    entry_date: dt.date | None = row["entry_date"]
    return {
        "id": str(row["id"]),
        "user_id": str(row["user_id"]),
        "trade_id": _str(row["trade_id"]),
        "entry_date": entry_date.isoformat() if entry_date else None,
        "title": row["title"],
        "body": row["body"],
        "entry_type": row["entry_type"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def image_json(row: Mapping[str, Any]) -> dict[str, Any]:
    image_id = str(row["id"])
    return {
        "id": image_id,
        "url": f"/api/v1/journal/images/{image_id}",
        "file_name": row["file_name"],
        "file_size": row["file_size"],
        "mime_type": row["mime_type"],
        "width": row["width"],
        "height": row["height"],
        "created_at": iso(row["created_at"]),
    }
