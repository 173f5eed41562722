"""RFC 9457 problem details: the one error shape of the whole API, and the one table of statuses.

Below this package a failure is a :class:`~testudo.problems.Problem` (a machine code, a detail,
extra members; no HTTP status). Here, and only here, a code becomes a status (:data:`STATUS`)
and a problem becomes ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail``, the ``error`` code, then extension members (``request_id`` always, ``errors`` for
validation failures...). Handlers raise a :class:`Problem`; when the edge adds a header of its
own (a bearer challenge, closing the connection) they raise an :class:`EdgeAnswer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import attrs
from quart import Response, json

from testudo.problems import Problem, problem

__all__ = [
    "PROBLEM_JSON",
    "STATUS",
    "TYPE_BASE",
    "Answer",
    "EdgeAnswer",
    "Problem",
    "answer_of",
    "problem",
    "problem_body",
    "problem_response",
    "status_of",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://testudo.dev/problems/"

#: The HTTP status of every problem code (a problem marked ``malformed`` is a 400 whatever its
#: code). ``tests/api/test_problem_codes.py`` checks that every code the packages raise is here.
STATUS: Mapping[str, int] = {
    # the request itself
    "bad_request": 400,
    "invalid_json": 400,
    "json_too_deep": 400,
    "invalid_message": 400,
    "invalid_cursor": 400,
    "invalid_idempotency_key": 400,
    "invalid_auth_mode": 400,
    "invalid_wallet_address": 400,
    "no_file": 400,
    "validation_error": 422,
    # who is asking
    "unauthorized": 401,
    "invalid_token": 401,
    "invalid_nonce": 401,
    "invalid_pairing_code": 401,
    "invalid_signature": 401,
    "session_revoked": 401,
    "refresh_token_reused": 401,
    "chain_not_allowed": 401,
    "domain_mismatch": 401,
    "scheme_mismatch": 401,
    "uri_mismatch": 401,
    "issued_in_future": 401,
    "message_expired": 401,
    "message_not_yet_valid": 401,
    "message_too_old": 401,
    "wrong_signer": 401,
    "invalid_credentials": 401,
    "cross_site_request": 403,
    # what the request is about
    "not_found": 404,
    "order_not_found": 404,
    "account_gone": 409,
    "account_inactive": 409,
    "accounts_changed": 409,
    "already_approved": 409,
    "group_closed": 409,
    "idempotency_in_progress": 409,
    "not_active": 409,
    "refresh_in_progress": 409,
    "tag_exists": 409,
    "quota_exceeded": 413,
    "too_large": 413,
    "invalid_type": 415,
    "bad_symbol": 422,
    "entry_rejected": 422,
    "exchange_account_required": 422,
    "exchange_unavailable": 422,
    "hedge_mode_unsupported": 422,
    "idempotency_key_reused": 422,
    "insufficient_funds": 422,
    "invalid_order": 422,
    "no_exchange_account": 422,
    "risk_rejected": 422,
    "stop_wrong_side": 422,
    "target_wrong_side": 422,
    "targets_exceed_position": 422,
    "trigger_wrong_side": 422,
    "unknown_exchange": 422,
    "use_agent_wallet": 422,
    "withdrawal_permission": 422,
    "rate_limited": 429,
    "exchange_rate_limited": 429,
    # our side or the exchange's
    "internal_error": 500,
    "approval_failed": 502,
    "exchange_error": 502,
    "exchange_unreachable": 502,
    "not_accepted": 502,
    "account_unavailable": 503,
    "temporarily_unavailable": 503,
    "unavailable": 503,
    "not_owner": 503,
    "node_unavailable": 503,
    "owner_unreachable": 503,
    "lease_lost": 503,
}


def status_of(found: Problem) -> int:
    """The HTTP status a problem is answered with."""
    if found.malformed:
        return 400
    return STATUS.get(found.error, 500)


@attrs.frozen
class Answer:
    """An HTTP answer built before it is sent: status, body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.Factory(dict)


@attrs.frozen
class EdgeAnswer(Exception):
    """A problem answered with headers the edge adds (``WWW-Authenticate``, ``Connection``)."""

    problem: Problem
    headers: Mapping[str, str]


def problem_body(status: int, error: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON members of a problem response."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "error": error,
    }
    body.update(extra)
    return body


def problem_response(
    status: int,
    error: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A ready ``application/problem+json`` response."""
    response = Response(
        json.dumps(problem_body(status, error, detail, **extra)),
        status=status,
        content_type=PROBLEM_JSON,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def answer_of(found: Problem) -> Answer:
    """The answer a trade request gets for ``found`` (the same for a duplicate, which
    replays the outcome kept with its idempotency key): no request id, ``Retry-After`` when
    the problem says when."""
    status = status_of(found)
    headers = {} if found.retry_after is None else {"Retry-After": str(found.retry_after)}
    return Answer(status, problem_body(status, found.error, found.detail, **found.extra), headers)
