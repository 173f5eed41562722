"""What each operation answers: its id, success status and body, and its own problems.

The problems every operation shares are added by ``api.openapi.document`` from what it is:
401/429 for a signed-in caller, 403 for a write that may ride on the cookie, 404 for a path
with an id, 400/422 for a body or query. Here are the ones particular to an operation.
"""

from __future__ import annotations

import attrs

from . import schemas_account as acc, schemas_journal as jn, schemas_trading as tr
from .schemas_base import DELETED, MESSAGE, Schema, ref

SESSION = "session"
PUBLIC = "public"
REFRESH_COOKIE = "refresh_cookie"
JSON = "application/json"
EXCHANGE = (409, 429, 502, 503)  # the venue refused, throttled, failed or was unreachable


@attrs.frozen
class Op:
    id: str
    body: Schema | None
    status: int = 200
    content: str = JSON
    problems: tuple[int, ...] = ()
    auth: str = SESSION
    summary: str | None = None
    also: tuple[tuple[int, Schema], ...] = ()  # other answers that are not problems


V1 = "/api/v1"


def _ops() -> dict[tuple[str, str], Op]:
    return {
        **_public_ops(),
        **_auth_ops(f"{V1}/auth"),
        **_exchange_ops(f"{V1}/exchanges"),
        **_trading_ops(f"{V1}/trades"),
        ("get", f"{V1}/risk-config"): Op("getRiskConfig", ref("RiskConfig")),
        ("put", f"{V1}/risk-config"): Op("updateRiskConfig", ref("RiskConfig"), problems=(400,)),
        **_journal_ops(f"{V1}/journal"),
        **_analytics_ops(f"{V1}/journal/analytics"),
    }


def _public_ops() -> dict[tuple[str, str], Op]:
    metrics = "text/plain"
    return {
        ("get", f"{V1}/health"): Op("getLiveness", acc.LIVENESS, auth=PUBLIC),
        ("get", f"{V1}/health/ready"): Op(
            "getReadiness", acc.READINESS, auth=PUBLIC, also=((503, acc.READINESS),)
        ),
        ("get", f"{V1}/health/sidecar"): Op("getSidecarHealth", acc.SIDECAR, auth=PUBLIC),
        ("get", f"{V1}/metrics"): Op("getMetrics", None, content=metrics, auth=PUBLIC),
        ("get", "/metrics"): Op("getMetricsAtRoot", None, content=metrics, auth=PUBLIC),
    }


def _auth_ops(auth: str) -> dict[tuple[str, str], Op]:
    return {
        ("get", f"{auth}/nonce"): Op("getNonce", acc.NONCE, problems=(429,), auth=PUBLIC),
        ("post", f"{auth}/verify-siwe"): Op(
            "verifySiwe", acc.SIGNED_IN, problems=(401, 429), auth=PUBLIC
        ),
        ("post", f"{auth}/refresh"): Op(
            "refreshWebSession", acc.SIGNED_IN, problems=(401, 403, 429), auth=REFRESH_COOKIE
        ),
        ("post", f"{auth}/extension-refresh"): Op(
            "refreshExtensionSession", acc.TOKEN_PAIR, problems=(401, 429), auth=PUBLIC
        ),
        ("post", f"{auth}/pair-extension"): Op("createPairingCode", acc.PAIRING),
        ("get", f"{auth}/pair-status"): Op("getPairingStatus", acc.PAIR_STATUS),
        ("post", f"{auth}/extension-pair"): Op(
            "claimPairingCode", acc.TOKEN_PAIR, problems=(401, 429), auth=PUBLIC
        ),
        ("get", f"{auth}/me"): Op("getMe", acc.ME),
        ("post", f"{auth}/logout"): Op("logout", MESSAGE),
        ("post", f"{auth}/revoke-all"): Op("revokeAllSessions", acc.REVOKED),
    }


def _exchange_ops(exchanges: str) -> dict[tuple[str, str], Op]:
    account = f"{exchanges}/accounts/{{account_id}}"
    agent = f"{exchanges}/agent-wallet"
    return {
        ("get", exchanges): Op("listExchanges", _list("exchanges", "Exchange")),
        ("get", f"{exchanges}/supported"): Op("listSupportedExchanges", acc.SUPPORTED),
        ("get", f"{exchanges}/accounts"): Op(
            "listExchangeAccounts", _list("accounts", "ExchangeAccount")
        ),
        ("post", f"{exchanges}/accounts"): Op(
            "addExchangeAccount", acc.NEW_ACCOUNT, 201, problems=EXCHANGE
        ),
        ("delete", account): Op("deleteExchangeAccount", None, 204),
        ("post", f"{account}/test"): Op("testExchangeAccount", acc.ACCOUNT_TEST, problems=EXCHANGE),
        ("get", f"{account}/balance"): Op("getAccountBalance", acc.BALANCES, problems=EXCHANGE),
        ("get", f"{account}/positions"): Op(
            "getAccountPositions", acc.POSITIONS, problems=EXCHANGE
        ),
        ("post", f"{agent}/init"): Op("initAgentWallet", acc.AGENT_INIT, 201),
        ("post", f"{agent}/approve-data"): Op(
            "getAgentApprovalData", acc.AGENT_APPROVE_DATA, problems=(400, 404, 409)
        ),
        ("post", f"{agent}/approve"): Op(
            "approveAgentWallet", acc.AGENT_RESULT, problems=(400, 404, *EXCHANGE)
        ),
        ("delete", f"{agent}/{{account_id}}/revoke"): Op(
            "revokeAgentWallet", acc.AGENT_REVOKED, problems=(400, 409)
        ),
    }


def _trading_ops(trades: str) -> dict[tuple[str, str], Op]:
    group = f"{trades}/{{group_id}}"
    return {
        ("post", trades): Op("createTrade", tr.CREATED_GROUP, 201, problems=(400, 404, *EXCHANGE)),
        ("get", trades): Op("listTradeGroups", tr.GROUP_LIST),
        ("post", f"{trades}/cleanup"): Op("cleanupOrders", tr.CLEANUP, problems=EXCHANGE),
        ("get", group): Op("getTradeGroup", tr.GROUP_DETAIL),
        ("delete", group): Op("cancelTradeGroup", ref("TradeGroup"), problems=EXCHANGE),
        ("put", f"{group}/sl"): Op("updateStopLoss", ref("TradeGroup"), problems=EXCHANGE),
        ("put", f"{group}/tp"): Op("updateTakeProfits", ref("TradeGroup"), problems=EXCHANGE),
        ("put", f"{group}/breakeven"): Op("setBreakEven", ref("TradeGroup"), problems=(409,)),
        ("post", f"{trades}/import"): Op(
            "startImport", acc.IMPORT_STARTED, 202, problems=(404, 409)
        ),
        ("get", f"{trades}/import/status"): Op(
            "listImportJobs", {"type": "array", "items": ref("ImportJob")}
        ),
    }


def _journal_ops(journal: str) -> dict[tuple[str, str], Op]:
    trade = f"{journal}/trades/{{trade_id}}"
    entry = f"{journal}/entries/{{entry_id}}"
    tag = f"{journal}/tags/{{tag_id}}"
    image = f"{journal}/images/{{image_id}}"
    images = "image/*"
    return {
        ("get", f"{journal}/trades"): Op("listJournalTrades", jn.TRADE_PAGE, problems=(400,)),
        ("get", f"{journal}/trades.csv"): Op("exportJournalCsv", None, content="text/csv"),
        ("get", trade): Op("getJournalTrade", jn.TRADE_DETAIL),
        ("patch", f"{trade}/notes"): Op("updateTradeNotes", ref("JournalTrade")),
        ("post", f"{trade}/tags"): Op("addTradeTags", jn.TAGS),
        ("delete", f"{trade}/tags/{{tag_id}}"): Op("removeTradeTag", DELETED),
        ("get", f"{journal}/entries"): Op("listJournalEntries", jn.ENTRY_PAGE),
        ("post", f"{journal}/entries"): Op(
            "createJournalEntry", ref("JournalEntry"), 201, problems=(404,)
        ),
        ("get", entry): Op("getJournalEntry", ref("JournalEntry"), summary="One journal entry."),
        ("put", entry): Op("updateJournalEntry", ref("JournalEntry")),
        ("delete", entry): Op("deleteJournalEntry", DELETED, summary="Delete a journal entry."),
        ("get", f"{journal}/tags"): Op("listTags", jn.TAGS),
        ("post", f"{journal}/tags"): Op("createTag", ref("Tag"), 201, problems=(409,)),
        ("put", tag): Op("updateTag", ref("Tag"), problems=(409,)),
        ("delete", tag): Op("deleteTag", DELETED),
        ("post", f"{journal}/upload"): Op(
            "uploadImage", ref("Image"), 201, problems=(400, 413, 415, 503)
        ),
        ("get", f"{journal}/storage"): Op("getStorageUsage", jn.STORAGE, problems=(503,)),
        ("get", image): Op("getImage", None, content=images, problems=(503,)),
        ("delete", image): Op("deleteImage", DELETED, problems=(503,)),
    }


def _analytics_ops(analytics: str) -> dict[tuple[str, str], Op]:
    sections = {
        "overview": ("getAnalyticsOverview", "Overview"),
        "equity-curve": ("getEquityCurve", "EquityCurve"),
        "daily-pnl": ("getDailyPnl", "DailyPnl"),
        "symbol-breakdown": ("getSymbolBreakdown", "SymbolBreakdown"),
        "setup-breakdown": ("getSetupBreakdown", "SetupBreakdown"),
        "duration-profit": ("getDurationProfit", "DurationProfit"),
        "return-distribution": ("getReturnDistribution", "ReturnDistribution"),
        "time-distribution": ("getTimeDistribution", "TimeDistribution"),
        "break-even": ("getBreakEvenAnalytics", "BreakEvenAnalytics"),
        "decisions": ("getDecisionAnalytics", "DecisionAnalytics"),
    }
    ops = {
        ("get", f"{analytics}/{path}"): Op(op_id, ref(name))
        for path, (op_id, name) in sections.items()
    }
    ops[("get", f"{analytics}/filter-options")] = Op("getFilterOptions", jn.FILTER_OPTIONS)
    ops[("post", f"{analytics}/batch")] = Op("getAnalyticsBatch", jn.BATCH)
    return ops


def _list(member: str, item: str) -> Schema:
    return {
        "type": "object",
        "properties": {member: {"type": "array", "items": ref(item)}},
        "required": [member],
    }


OPERATIONS: dict[tuple[str, str], Op] = _ops()
COMPONENTS: dict[str, Schema] = {**acc.COMPONENTS, **tr.COMPONENTS, **jn.COMPONENTS}
