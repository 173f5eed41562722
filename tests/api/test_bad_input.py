"""Garbage in, 4xx problem+json out: every JSON write route, with and without credentials."""

from __future__ import annotations

import re

import httpx

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock

PROBLEM = "application/problem+json"
BODIES: list[object] = [
    None,
    [],
    "text",
    12,
    {},
    {"symbol": "BTC_USDT", "side": "buy", "entry_price": "NaN", "quantity": "1e400"},
    {"symbol": "BTC_USDT", "side": "buy", "entry_price": "-5", "quantity": "Infinity"},
    {"price": "1e-400", "take_profit": [{"price": None}], "enabled": "yes"},
    {"account_risk_percent": "abc", "max_leverage": 1e308, "max_open_positions": -1},
    {"code": "12345678901234567890", "refresh_token": "x" * 5000},
    {"message": "\u0000" * 10, "signature": "0x" + "zz" * 65},
    {"exchange_name": "binance", "api_key": "\u2603" * 3, "secret": ["not", "a", "string"]},
]


async def test_no_json_write_route_answers_5xx(
    http: httpx.AsyncClient, service: Running, clock: ManualClock
) -> None:
    from api.app import create_app

    app = create_app(service.system)
    session = await sign_in(http, Wallet(), clock.now())
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            if "upload" in rule.rule or rule.rule.startswith("/_"):
                continue
            routes.append(
                (method, re.sub(r"<[^>]+>", "00000000-0000-0000-0000-000000000002", rule.rule))
            )
    assert len(routes) >= 15
    for method, path in routes:
        for headers in ({}, session.bearer()):
            for body in BODIES:
                response = await http.request(method, path, json=body, headers=headers)
                assert response.status_code < 500, (method, path, body, response.text)
                if response.status_code >= 400:
                    assert response.headers["content-type"] == PROBLEM, (method, path, body)
            for content in (b'{"unterminated', b"\xff\xfe\xfd", b'{"a": 1e99999}'):
                raw = await http.request(
                    method,
                    path,
                    content=content,
                    headers={**headers, "Content-Type": "application/json"},
                )
                assert raw.status_code < 500, (method, path, content, raw.text)
