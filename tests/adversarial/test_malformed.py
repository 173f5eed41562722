"""Malformed input is a 4xx problem, never a 500: NUL characters, deep nesting, odd tokens."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.realtime.support import connect, request
from testudo.clock import ManualClock
from testudo.exchanges.errors import failure_from

from .rawhttp import RawConnection, request_head

PROBLEM = "application/problem+json"
NUL = "a\x00b"
TRADE_ID = "00000000-0000-0000-0000-00000000000b"

BODY_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/v1/journal/entries", {"title": NUL, "body": "x"}, "title"),
    ("POST", "/api/v1/journal/entries", {"title": "t", "body": NUL}, "body"),
    ("PATCH", f"/api/v1/journal/trades/{TRADE_ID}/notes", {"notes": NUL}, "notes"),
    ("POST", "/api/v1/trades", {"symbol": "BTC_USDT", "idempotency_key": NUL}, "idempotency_key"),
    ("POST", "/api/v1/trades/import", {"exchange_name": NUL}, "exchange_name"),
    ("POST", "/api/v1/journal/tags", {"name": NUL}, "name"),
    ("POST", "/api/v1/exchanges/accounts", {"exchange_name": "binance", NUL: 1}, NUL),
    ("POST", "/api/v1/journal/analytics/batch", {"filter": {"symbol": NUL}}, "filter.symbol"),
]
FILTERS = ["exchange", "account", "symbol", "side", "source", "setup_tag", "tags", "tag"]
FILTER_ROUTES = [
    "/api/v1/journal/trades",
    "/api/v1/journal/trades.csv",
    "/api/v1/journal/analytics/overview",
    "/api/v1/journal/analytics/filter-options",
    "/api/v1/journal/entries",
]


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


async def test_nul_in_any_json_string_is_422_naming_the_field(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    for method, path, body, field in BODY_CASES:
        response = await http.request(method, path, json=body, headers=session.bearer())
        problem = _problem(response, 422)
        assert problem["error"] == "validation_error"
        assert [e["field"] for e in problem["errors"]] == [field], path


async def test_nul_in_a_query_parameter_or_the_path_is_refused(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    for path in FILTER_ROUTES:
        for name in [*FILTERS, "date_from", "cursor", "sort", "trade_id", "entry_type"]:
            response = await http.get(path, params={name: NUL}, headers=session.bearer())
            problem = _problem(response, 422)
            assert problem["errors"][0]["field"] == name, (path, name)
    in_path = await http.get("/api/v1/trades/%00", headers=session.bearer())
    assert _problem(in_path, 400)["error"] == "bad_request"


async def test_the_csv_export_refuses_before_streaming(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    bad = await http.get(
        "/api/v1/journal/trades.csv", params={"symbol": NUL}, headers=session.bearer()
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    good = await http.get("/api/v1/journal/trades.csv", headers=session.bearer())
    assert good.status_code == 200 and good.text.startswith("id,closed_at")


async def test_nul_in_a_header_is_a_400(service: Running) -> None:
    conn = await RawConnection.open(service.http_url)
    try:
        await conn.send(request_head("GET", "/api/v1/health", {"Idempotency-Key": NUL}))
        answer = await conn.response()
        assert answer is not None and answer.status == 400
    finally:
        await conn.aclose()


def _nested(depth: int) -> bytes:
    return b'{"title": ' + b"[" * depth + b"]" * depth + b', "body": "x"}'


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
async def test_deeply_nested_json_is_a_400_on_rest(
    http: httpx.AsyncClient, clock: ManualClock, depth: int
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    for path in ("/api/v1/journal/entries", "/api/v1/risk-config", "/api/v1/trades"):
        method = "PUT" if "risk" in path else "POST"
        response = await http.request(
            method,
            path,
            content=_nested(depth),
            headers={**session.bearer(), "Content-Type": "application/json"},
        )
        assert _problem(response, 400)["error"] == "json_too_deep", (path, depth)
    shallow = await http.post(
        "/api/v1/journal/entries",
        content=_nested(30),
        headers={**session.bearer(), "Content-Type": "application/json"},
    )
    assert _problem(shallow, 422)["error"] == "validation_error"  # a list is not a title


async def test_deeply_nested_json_is_an_error_frame_on_the_websocket(service: Running) -> None:
    async with connect(service.ws_url) as ws:
        for depth in (33, 20_000):
            text = '{"method": "SUBSCRIBE", "params": ' + "[" * depth + "]" * depth + "}"
            answer = await request(ws, text)
            assert answer["error"]["code"] == 3 and "deeper" in answer["error"]["msg"]
        still_open = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 9})
        assert still_open == {"result": [], "id": 9}


@pytest.mark.parametrize(
    "claims", [{"sid": "not-a-uuid"}, {"sub": "'; DROP TABLE users"}, {"sid": 12}, {"sid": None}]
)
async def test_a_signed_token_with_odd_ids_is_401(
    http: httpx.AsyncClient, service: Running, clock: ManualClock, claims: dict[str, Any]
) -> None:
    settings = service.system.auth.settings
    now = int(clock.now().timestamp())
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "00000000-0000-0000-0000-000000000001",
        "sid": "00000000-0000-0000-0000-000000000002",
        "typ": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        **claims,
    }
    token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    response = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert _problem(response, 401)["error"] == "invalid_token"


GATEWAY_MESSAGES = [
    "binance GET http://10.20.30.40:8090/binanceusdm/fapi/v2/balance?timestamp=1&signature=ab"
    " 503 Service Unavailable",
    "HTTPConnectionPool(host='gateway.internal', port=8090): Max retries exceeded with url:"
    " /binanceusdm/fapi/v2/balance (Caused by NewConnectionError('refused'))",
    "binance POST https://[fd00::1]:9443/secret-prefix/fapi/v1/order 502",
]


@pytest.mark.parametrize("message", GATEWAY_MESSAGES)
def test_exchange_failures_never_echo_where_the_request_went(message: str) -> None:
    import ccxt

    for error in (ccxt.NetworkError, ccxt.ExchangeError, ccxt.ExchangeNotAvailable):
        detail = failure_from(error(message), "binance").detail
        for internal in ("10.20.30.40", "8090", "gateway.internal", "fd00", "secret-prefix", "://"):
            assert internal not in detail, (detail, internal)
        assert detail.startswith("binance: ")


def test_import_job_errors_never_echo_where_the_request_went() -> None:
    import datetime as dt

    from api.imports import job_json

    now = dt.datetime.now(dt.UTC)
    row = {
        "id": "j",
        "account_id": "a",
        "state": "failed",
        "reason": "manual",
        "attempts": 3,
        "progress": {},
        "counters": {},
        "error": "ConnectionError: HTTPConnectionPool(host='10.20.30.40', port=8090): Max retries"
        " exceeded with url: /binance/api/v3/myTrades?signature=ab",
        "created_at": now,
        "started_at": now,
        "finished_at": now,
        "run_after": now,
    }
    error = job_json(row)["error"]
    assert error.startswith("ConnectionError: HTTPConnectionPool(")
    for internal in ("10.20.30.40", "8090", "myTrades", "signature"):
        assert internal not in error
