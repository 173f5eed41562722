"""``GET/PUT /api/v1/risk-config``: defaults, partial updates, validation, durability, isolation."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import httpx
import trio

from api.process import Running, run_service
from tests.auth.helpers import Wallet, sign_in
from tests.support import make_settings
from testudo.clock import ManualClock

PROBLEM = "application/problem+json"
URL = "/api/v1/risk-config"
DEFAULTS = {
    "account_risk_percent": "2",
    "max_risk_amount": None,
    "max_position_size": None,
    "max_leverage": "5",
    "daily_max_drawdown_percent": "5",
    "max_open_positions": 5,
    "require_stop_loss": True,
    "min_risk_reward_ratio": "1.5",
}


async def test_both_routes_need_credentials(http: httpx.AsyncClient) -> None:
    for response in (await http.get(URL), await http.put(URL, json={"max_leverage": 3})):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["error"] == "unauthorized"


async def test_a_new_user_gets_the_documented_defaults(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    response = await http.get(URL, headers=session.bearer())
    assert response.status_code == 200
    assert response.json() == DEFAULTS


async def test_put_is_a_partial_update_and_answers_the_merged_config(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    first = await http.put(
        URL,
        json={"max_risk_amount": 150.0, "account_risk_percent": "1.5"},
        headers=session.bearer(),
    )
    assert first.status_code == 200, first.text
    assert first.json() == {**DEFAULTS, "max_risk_amount": "150", "account_risk_percent": "1.5"}
    second = await http.put(
        URL,
        json={"max_leverage": 10, "max_position_size": "0.5", "require_stop_loss": False},
        headers=session.bearer(),
    )
    expected = {
        **DEFAULTS,
        "max_risk_amount": "150",
        "account_risk_percent": "1.5",
        "max_leverage": "10",
        "max_position_size": "0.5",
        "require_stop_loss": False,
    }
    assert second.json() == expected
    assert (await http.get(URL, headers=session.bearer())).json() == expected


async def test_null_clears_an_optional_cap(http: httpx.AsyncClient, clock: ManualClock) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    await http.put(
        URL, json={"max_risk_amount": "150", "max_position_size": "2"}, headers=session.bearer()
    )
    cleared = await http.put(URL, json={"max_risk_amount": None}, headers=session.bearer())
    assert cleared.status_code == 200
    assert cleared.json()["max_risk_amount"] is None
    assert cleared.json()["max_position_size"] == "2"


async def test_the_api_reference_example_body_is_accepted(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    body = {
        "account_risk_percent": 2.0,
        "max_risk_amount": 150.0,
        "max_position_size": 0.5,
        "max_leverage": 5,
        "daily_max_drawdown_percent": 5.0,
        "max_open_positions": 5,
        "require_stop_loss": True,
        "min_risk_reward_ratio": 1.5,
    }
    response = await http.put(URL, json=body, headers=session.bearer())
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "max_risk_amount": "150", "max_position_size": "0.5"}


async def test_every_bad_field_is_named_and_nothing_is_stored(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    await http.put(URL, json={"max_open_positions": 3}, headers=session.bearer())
    response = await http.put(
        URL,
        json={
            "account_risk_percent": "0",
            "max_risk_amount": -5,
            "max_position_size": "abc",
            "max_leverage": 126,
            "daily_max_drawdown_percent": 100.5,
            "max_open_positions": 2.5,
            "require_stop_loss": "yes",
            "min_risk_reward_ratio": None,
            "max_leverag": 3,
        },
        headers=session.bearer(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["error"] == "validation_error"
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [
        "account_risk_percent",
        "max_risk_amount",
        "max_position_size",
        "max_leverage",
        "daily_max_drawdown_percent",
        "max_open_positions",
        "require_stop_loss",
        "min_risk_reward_ratio",
        "max_leverag",
    ]
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["max_leverage"] == "must be at least 1 and at most 125"
    assert messages["account_risk_percent"] == "must be greater than 0 and at most 100"
    assert messages["max_leverag"] == "unknown field"
    assert "max_leverage" in problem["detail"]
    stored = (await http.get(URL, headers=session.bearer())).json()
    assert stored == {**DEFAULTS, "max_open_positions": 3}


async def test_bodies_that_are_not_objects(http: httpx.AsyncClient, clock: ManualClock) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    listed = await http.put(URL, json=[1, 2], headers=session.bearer())
    assert listed.status_code == 422
    assert listed.json()["errors"] == [{"field": "body", "message": "must be a JSON object"}]
    broken = await http.put(
        URL,
        content=b"{not json",
        headers={**session.bearer(), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "invalid_json"


async def test_users_do_not_see_each_other(http: httpx.AsyncClient, clock: ManualClock) -> None:
    alice = await sign_in(http, Wallet(), clock.now())
    bob = await sign_in(http, Wallet(), clock.now())
    await http.put(URL, json={"max_leverage": "20"}, headers=alice.bearer())
    await http.put(URL, json={"min_risk_reward_ratio": "3"}, headers=bob.bearer())
    alice_config = (await http.get(URL, headers=alice.bearer())).json()
    bob_config = (await http.get(URL, headers=bob.bearer())).json()
    assert alice_config == {**DEFAULTS, "max_leverage": "20"}
    assert bob_config == {**DEFAULTS, "min_risk_reward_ratio": "3"}


async def test_concurrent_partial_updates_keep_every_field(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    patches = [
        {"max_leverage": "7"},
        {"max_open_positions": 9},
        {"max_risk_amount": "75"},
        {"require_stop_loss": False},
        {"daily_max_drawdown_percent": "3"},
    ]
    statuses: list[int] = []

    async def put(patch: Any) -> None:
        statuses.append((await http.put(URL, json=patch, headers=session.bearer())).status_code)

    async with trio.open_nursery() as nursery:
        for patch in patches:
            nursery.start_soon(put, patch)
    assert statuses == [200] * len(patches)
    final = (await http.get(URL, headers=session.bearer())).json()
    assert final == {
        **DEFAULTS,
        "max_leverage": "7",
        "max_open_positions": 9,
        "max_risk_amount": "75",
        "require_stop_loss": False,
        "daily_max_drawdown_percent": "3",
    }


async def test_a_saved_config_survives_a_restart_of_the_service(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(db_url, tmp_path / "data")
    wallet = Wallet()
    async with trio.open_nursery() as nursery:
        first: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=first.http_url) as http:
            session = await sign_in(http, wallet, clock.now())
            saved = await http.put(
                URL, json={"max_risk_amount": "150", "max_leverage": 3}, headers=session.bearer()
            )
            assert saved.status_code == 200
        first.shutdown()
    clock.advance(2 * 24 * 3600)  # the original's cache row would have expired by now
    async with trio.open_nursery() as nursery:
        second: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=second.http_url) as http:
            again = await sign_in(http, wallet, clock.now())
            assert again.user["id"] == session.user["id"]
            kept = (await http.get(URL, headers=again.bearer())).json()
            assert kept == {**DEFAULTS, "max_risk_amount": "150", "max_leverage": "3"}
            other = await sign_in(http, Wallet(), clock.now())
            assert (await http.get(URL, headers=other.bearer())).json() == DEFAULTS
        second.shutdown()
