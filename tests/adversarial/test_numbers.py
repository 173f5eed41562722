"""Decimals from clients: plain ASCII within the documented bounds, or 422 naming the field.

Every hostile number is refused at the edge: no trader actor is even started for it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock
from testudo.numbers import NotPlainDecimal, parse_plain_decimal

HOSTILE: list[Any] = [
    "1e400",
    "1E+1000000",
    "9" * 5000,
    "0." + "1" * 5000,
    1e308,
    -1e308,
    "١٢٣",
    "1_000",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1,5",
    "",
    " ",
    ".",
    "+",
    "1.2.3",
    "1\x00",
    "\u00a0 5",
    "1" * 19,
    "0.0000000000000000001",
    True,
    [1],
    {"a": 1},
]
RAW_HOSTILE = [b"1e308", b"NaN", b"Infinity", b"-Infinity", b"1" + b"0" * 400]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:24])
def test_hostile_numbers_are_not_plain_decimals(value: Any) -> None:
    with pytest.raises(NotPlainDecimal):
        parse_plain_decimal(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50000.5", "50000.5"),
        (" 0.015 ", "0.015"),
        (".5", "0.5"),
        ("-2", "-2"),
        ("1" * 18, "1" * 18),
        ("0." + "0" * 17 + "1", "1E-18"),
        ("000123.4500000000000000000000", "123.45"),
        (12, "12"),
        (0.1, "0.1"),
        (2.5e-7, "2.5E-7"),
    ],
)
def test_plain_decimals_are_accepted(value: Any, expected: str) -> None:
    assert parse_plain_decimal(value) == Decimal(expected)


def _trade(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": "50000",
        "quantity": "0.1",
        "stop_loss_price": "49000",
    }
    body.update(fields)
    return body


FIELD_CASES: list[tuple[str, str, str, Any]] = [
    ("POST", "/api/v1/trades", "entry_price", lambda v: _trade(entry_price=v)),
    ("POST", "/api/v1/trades", "quantity", lambda v: _trade(quantity=v)),
    ("POST", "/api/v1/trades", "stop_loss_price", lambda v: _trade(stop_loss_price=v)),
    ("POST", "/api/v1/trades", "leverage", lambda v: _trade(leverage=v)),
    (
        "POST",
        "/api/v1/trades",
        "take_profit.0.price",
        lambda v: _trade(take_profit=[{"price": v}]),
    ),
    (
        "POST",
        "/api/v1/trades",
        "take_profit_targets.0.percent_to_close",
        lambda v: _trade(take_profit_targets=[{"price": "51000", "percent_to_close": v}]),
    ),
    ("PUT", "/api/v1/trades/{gid}/sl", "price", lambda v: {"price": v}),
    (
        "PUT",
        "/api/v1/trades/{gid}/tp",
        "take_profit.0.quantity",
        lambda v: {"take_profit": [{"price": "51000", "quantity": v}]},
    ),
    ("PUT", "/api/v1/trades/{gid}/breakeven", "trigger", lambda v: {"enabled": True, "trigger": v}),
    ("PUT", "/api/v1/risk-config", "max_risk_amount", lambda v: {"max_risk_amount": v}),
    ("PUT", "/api/v1/risk-config", "max_leverage", lambda v: {"max_leverage": v}),
]
GID = "00000000-0000-0000-0000-00000000000a"


async def test_every_decimal_field_refuses_hostile_numbers_at_the_edge(
    http: httpx.AsyncClient, service: Running, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    for method, template, field, build in FIELD_CASES:
        path = template.format(gid=GID)
        for value in HOSTILE:
            if field == "trigger" and (not isinstance(value, str) or value == ""):
                continue  # a string field ("" means first_take_profit); others: type error
            response = await http.request(method, path, json=build(value), headers=session.bearer())
            assert response.status_code == 422, (path, field, value, response.text)
            body = response.json()
            assert body["error"] == "validation_error"
            assert field in [e["field"] for e in body["errors"]], (path, value, body)
        for raw in RAW_HOSTILE:
            text = json.dumps(build("__N__")).replace('"__N__"', raw.decode())
            response = await http.request(
                method,
                path,
                content=text.encode(),
                headers={**session.bearer(), "Content-Type": "application/json"},
            )
            assert response.status_code in (400, 422), (path, field, raw, response.text)
    assert not [k for k in service.system.registry.running() if k[0] in ("trader", "trade_group")]
    config = (await http.get("/api/v1/risk-config", headers=session.bearer())).json()
    assert config["max_risk_amount"] is None and config["max_leverage"] == "5"
