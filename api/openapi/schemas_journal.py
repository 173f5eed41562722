"""Response schemas of the journal: trades, tags, entries, images and analytics."""

from __future__ import annotations

from .schemas_base import (
    ANY_OBJECT,
    BOOL,
    DATE,
    DECIMAL,
    INT,
    NUMBER,
    OPT_DECIMAL,
    OPT_INT,
    OPT_STR,
    OPT_UUID,
    STR,
    TIME,
    UUID,
    Schema,
    array,
    data_of,
    obj,
    ref,
)

TAG = obj({"id": UUID, "user_id": UUID, "name": STR, "color": OPT_STR})
TAGS = array(ref("Tag"))
TRADE = obj(
    {
        "id": UUID,
        "user_id": UUID,
        "exchange_account_id": OPT_UUID,
        "exchange": STR,
        "symbol": STR,
        "side": {"enum": ["LONG", "SHORT"]},
        "entry_price": DECIMAL,
        "exit_price": DECIMAL,
        "quantity": DECIMAL,
        "leverage": DECIMAL,
        "realized_pnl": DECIMAL,
        "realized_pnl_pct": DECIMAL,
        "fees": DECIMAL,
        "funding": OPT_DECIMAL,
        "net_pnl": DECIMAL,
        "stop_price": OPT_DECIMAL,
        "target_price": OPT_DECIMAL,
        "risk_amount": OPT_DECIMAL,
        "r_multiple": OPT_DECIMAL,
        "opened_at": TIME,
        "closed_at": TIME,
        "duration_secs": INT,
        "trade_group_id": OPT_UUID,
        "notes": OPT_STR,
        "source": STR,
        "exchange_fill_id": OPT_STR,
        "setup_tag": OPT_STR,
        "close_reason": OPT_STR,
        "fill_count": INT,
        "needs_reconciliation": BOOL,
        "status": STR,
        "created_at": TIME,
        "updated_at": TIME,
        "tags": TAGS,
    },
    doc="A closed trade in the journal.",
)
ENTRY = obj(
    {
        "id": UUID,
        "user_id": UUID,
        "trade_id": OPT_UUID,
        "entry_date": {"type": ["string", "null"], "format": "date"},
        "title": STR,
        "body": STR,
        "entry_type": {
            "enum": ["note", "pre-trade", "post-trade", "daily-review", "weekly-review"]
        },
        "created_at": TIME,
        "updated_at": TIME,
    }
)
TRADE_PAGE = obj(
    {
        "trades": array(ref("JournalTrade")),
        "total": OPT_INT,
        "page": OPT_INT,
        "limit": INT,
        "has_more": BOOL,
        "next_cursor": OPT_STR,
        "filter": ANY_OBJECT,
    }
)
TRADE_DETAIL = {"allOf": [ref("JournalTrade"), obj({"entries": array(ref("JournalEntry"))})]}
ENTRY_PAGE = obj({"entries": array(ref("JournalEntry")), "total": INT, "page": INT, "limit": INT})
IMAGE = obj(
    {
        "id": UUID,
        "url": STR,
        "file_name": OPT_STR,
        "file_size": INT,
        "mime_type": {"enum": ["image/png", "image/jpeg", "image/webp", "image/gif"]},
        "width": INT,
        "height": INT,
        "created_at": TIME,
    }
)
STORAGE = obj({"used_bytes": INT, "quota_bytes": INT, "remaining_bytes": INT, "image_count": INT})
UPLOAD_BODY = obj(
    {"file": {"type": "string", "contentMediaType": "application/octet-stream"}},
    doc="One image (PNG, JPEG, WEBP or GIF, at most 5 MiB) as the first file part; "
    "its field name is free (``file`` by convention).",
)

BREAKDOWN_ROW = {
    "trade_count": INT,
    "total_pnl": DECIMAL,
    "fees": DECIMAL,
    "win_rate": DECIMAL,
    "profit_factor": OPT_DECIMAL,
    "avg_r_multiple": OPT_DECIMAL,
    "expectancy": OPT_DECIMAL,
}
OVERVIEW = obj({"account": ANY_OBJECT, "performance": ANY_OBJECT, "risk": ANY_OBJECT})
EQUITY_CURVE = data_of(
    obj(
        {
            "date": DATE,
            "pnl": DECIMAL,
            "cumulative_pnl": DECIMAL,
            "peak": DECIMAL,
            "drawdown": DECIMAL,
            "drawdown_pct": OPT_DECIMAL,
            "trade_count": INT,
            "is_true_equity": BOOL,
        }
    ),
    starting_balance=OPT_DECIMAL,
)
DAILY_PNL = data_of(
    obj(
        {
            "date": DATE,
            "pnl": DECIMAL,
            "fees": DECIMAL,
            "trade_count": INT,
            "win_count": INT,
            "loss_count": INT,
        }
    )
)
SYMBOLS = data_of(obj({"symbol": STR, **BREAKDOWN_ROW}))
SETUPS = data_of(obj({"setup_tag": STR, **BREAKDOWN_ROW}))
DURATION_PROFIT = data_of(
    obj({"duration_secs": NUMBER, "pnl": DECIMAL, "symbol": STR}),
    buckets=array(
        obj(
            {
                "bucket": STR,
                "max_secs": OPT_INT,
                "trade_count": INT,
                "total_pnl": DECIMAL,
                "avg_pnl": DECIMAL,
                "win_rate": DECIMAL,
                "avg_r_multiple": OPT_DECIMAL,
            }
        )
    ),
    total=INT,
    truncated=BOOL,
)
RETURNS = data_of(
    obj({"bucket": STR, "lower_pct": NUMBER, "count": INT}),
    basis={"enum": ["trade", "daily"]},
    bucket_width_pct=NUMBER,
)
TIMES = data_of(
    obj(
        {
            "day_of_week": {"type": "integer", "minimum": 0, "maximum": 6},
            "hour": {"type": "integer", "minimum": 0, "maximum": 23},
            "trade_count": INT,
            "total_pnl": DECIMAL,
            "avg_pnl": DECIMAL,
            "win_rate": DECIMAL,
        }
    )
)
BREAK_EVEN = obj(
    {
        "tolerance_bps": INT,
        "trade_count": INT,
        "break_even_count": INT,
        "break_even_rate": DECIMAL,
        "net_pnl": DECIMAL,
        "fees": DECIMAL,
        "by_symbol": array(obj({"symbol": STR, "count": INT, "net_pnl": DECIMAL})),
    }
)
DECISIONS = obj(
    {
        "total": INT,
        "approved": INT,
        "rejected": INT,
        "approval_rate": OPT_DECIMAL,
        "rejected_by": array(ANY_OBJECT),
        "taken": array(ANY_OBJECT),
        "outcomes": ANY_OBJECT,
    }
)
FILTER_OPTIONS = obj(
    {
        "exchanges": array(STR),
        "symbols": array(obj({"symbol": STR, "count": INT})),
        "accounts": array(
            obj({"id": UUID, "exchange": STR, "account_name": OPT_STR, "count": INT})
        ),
        "sides": array(STR),
        "sources": array(STR),
        "setup_tags": array(ANY_OBJECT),
        "tags": array(ANY_OBJECT),
    }
)
BATCH = {
    "type": "object",
    "description": "One member per requested section (every section when none are named).",
    "properties": {
        "overview": ref("Overview"),
        "equity_curve": ref("EquityCurve"),
        "daily_pnl": ref("DailyPnl"),
        "symbol_breakdown": ref("SymbolBreakdown"),
        "setup_breakdown": ref("SetupBreakdown"),
        "duration_profit": ref("DurationProfit"),
        "return_distribution": ref("ReturnDistribution"),
        "time_distribution": ref("TimeDistribution"),
        "break_even": ref("BreakEvenAnalytics"),
        "decisions": ref("DecisionAnalytics"),
    },
}

COMPONENTS: dict[str, Schema] = {
    "Tag": TAG,
    "JournalTrade": TRADE,
    "JournalEntry": ENTRY,
    "Image": IMAGE,
    "Overview": OVERVIEW,
    "EquityCurve": EQUITY_CURVE,
    "DailyPnl": DAILY_PNL,
    "SymbolBreakdown": SYMBOLS,
    "SetupBreakdown": SETUPS,
    "DurationProfit": DURATION_PROFIT,
    "ReturnDistribution": RETURNS,
    "TimeDistribution": TIMES,
    "BreakEvenAnalytics": BREAK_EVEN,
    "DecisionAnalytics": DECISIONS,
}
