"""Response schemas of health, auth, exchanges, imports and the risk configuration."""

from __future__ import annotations

from .schemas_base import (
    ANY_OBJECT,
    BOOL,
    DECIMAL,
    INT,
    OPT_DECIMAL,
    OPT_STR,
    OPT_TIME,
    STR,
    TIME,
    UUID,
    Schema,
    array,
    obj,
    ref,
)

LIVENESS = obj({"status": {"const": "ok"}, "node": STR, "pid": INT})
READINESS = obj(
    {
        "status": {"enum": ["ready", "not_ready"]},
        "db": BOOL,
        "sidecar": BOOL,
        "listener": BOOL,
        "cluster": BOOL,
        "node": obj(
            {"name": STR, "id": STR, "pid": INT, "leases": INT, "takeovers": INT},
            doc="This node in the cluster: its leases and takeovers.",
        ),
        "failed": array(STR),
    },
    optional=("failed",),
)
SIDECAR = obj(
    {
        "status": {"enum": ["healthy", "degraded", "unreachable"]},
        "running": BOOL,
        "exchanges": array(
            obj({"exchange": STR, "reachable": BOOL}, doc="One exchange's reachability.")
        ),
    }
)

USER = obj({"id": UUID, "wallet_address": STR})
TOKENS = obj(
    {
        "access_token": STR,
        "refresh_token": STR,
        "token_type": {"const": "Bearer"},
        "expires_in": INT,
    }
)
SIGNED_IN = obj({"user": ref("User")})
TOKEN_PAIR = obj({"tokens": ref("Tokens"), "user": ref("User")})
ME = obj(
    {"user": ref("User"), "session": obj({"id": UUID, "kind": {"enum": ["web", "extension"]}})}
)
NONCE = obj({"nonce": {"type": "string", "pattern": "^[A-Za-z0-9]{32}$"}})
PAIRING = obj(
    {"code": {"type": "string", "pattern": "^[0-9]{6}$"}, "expires_at": TIME, "expires_in": INT}
)
PAIR_STATUS = obj({"paired": BOOL})
REVOKED = obj({"message": STR, "revoked_count": INT})

EXCHANGE = obj(
    {
        "id": STR,
        "name": STR,
        "ccxt_id": STR,
        "type": {"enum": ["cex", "dex"]},
        "auth_mode": {"enum": ["api_key", "agent_wallet"]},
        "description": STR,
        "required_credentials": array(STR),
        "optional_credentials": array(STR),
        "supported_features": array(STR),
        "settlement_asset": STR,
        "available": BOOL,
        "status": STR,
    }
)
ACCOUNT = obj(
    {
        "id": UUID,
        "exchange_name": STR,
        "account_name": OPT_STR,
        "auth_mode": {"enum": ["api_key", "agent_wallet"]},
        "api_key": {"type": ["string", "null"], "description": "masked: the last 4 characters"},
        "wallet_address": OPT_STR,
        "status": STR,
        "is_active": BOOL,
        "requires_reauthorization": BOOL,
        "permissions": ANY_OBJECT,
        "created_at": TIME,
        "last_used_at": OPT_TIME,
    }
)
NEW_ACCOUNT = {
    "allOf": [ref("ExchangeAccount"), obj({"import_job_id": {"type": ["string", "null"]}})]
}
ACCOUNT_TEST = obj(
    {
        "account_id": UUID,
        "exchange_name": STR,
        "status": STR,
        "message": STR,
        "latency_ms": {"type": ["number", "null"]},
        "tested_at": TIME,
    }
)
BALANCES = obj(
    {
        "account_id": UUID,
        "balances": array(obj({"asset": STR, "total": DECIMAL, "free": DECIMAL, "used": DECIMAL})),
        "fetched_at": TIME,
    }
)
POSITIONS = obj(
    {
        "account_id": UUID,
        "positions": array(ANY_OBJECT),
        "open_orders": array(ANY_OBJECT),
        "fetched_at": TIME,
    }
)
AGENT_INIT = obj({"account_id": UUID, "agent_address": STR, "status": STR})
AGENT_APPROVE_DATA = obj(
    {
        "agent_address": STR,
        "wallet_address": STR,
        "nonce": INT,
        "typed_data": obj(
            {"domain": ANY_OBJECT, "types": ANY_OBJECT, "primaryType": STR, "message": ANY_OBJECT},
            doc="EIP-712 typed data for eth_signTypedData_v4.",
        ),
    }
)
AGENT_RESULT = obj({"success": BOOL, "message": STR, "account_id": UUID, "agent_address": STR})
AGENT_REVOKED = {"allOf": [AGENT_RESULT, obj({"requires_reauthorization": BOOL})]}
SUPPORTED = obj({"exchanges": array(STR)})

IMPORT_JOB = obj(
    {
        "id": UUID,
        "job_id": UUID,
        "exchange_account_id": UUID,
        "exchange_name": OPT_STR,
        "account_name": OPT_STR,
        "status": {"enum": ["queued", "running", "completed", "failed"]},
        "reason": STR,
        "attempts": INT,
        "progress": ANY_OBJECT,
        "counters": ANY_OBJECT,
        "error": OPT_STR,
        "created_at": TIME,
        "started_at": OPT_TIME,
        "processed_at": OPT_TIME,
        "next_attempt_at": OPT_TIME,
    }
)
IMPORT_STARTED = {"allOf": [ref("ImportJob"), obj({"already_queued": BOOL})]}

RISK_CONFIG = obj(
    {
        "account_risk_percent": DECIMAL,
        "max_risk_amount": OPT_DECIMAL,
        "max_position_size": OPT_DECIMAL,
        "max_leverage": DECIMAL,
        "daily_max_drawdown_percent": DECIMAL,
        "max_open_positions": INT,
        "require_stop_loss": BOOL,
        "min_risk_reward_ratio": DECIMAL,
    }
)

COMPONENTS: dict[str, Schema] = {
    "User": USER,
    "Tokens": TOKENS,
    "Exchange": EXCHANGE,
    "ExchangeAccount": ACCOUNT,
    "ImportJob": IMPORT_JOB,
    "RiskConfig": RISK_CONFIG,
}
