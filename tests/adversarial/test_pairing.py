"""Pairing guesses: budgets per client and per code, no global burn, guessing stays hopeless."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from tests.auth.helpers import Wallet, sign_in
from tests.support import make_settings, running_service
from testudo.auth.settings import AuthSettings
from testudo.clock import ManualClock
from testudo.net import parse_networks

CLAIM = "/api/v1/auth/extension-pair"


@pytest.fixture
async def proxied(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"), trusted_proxies=parse_networks("127.0.0.1")
    )
    async with (
        running_service(nursery, settings, clock) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=30) as http,
    ):
        yield http


async def _code(http: httpx.AsyncClient, clock: ManualClock) -> tuple[str, dict[str, str]]:
    desk = await sign_in(http, Wallet(), clock.now())
    code = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    return str(code), desk.bearer()


def _wrong(code: str, i: int) -> str:
    return f"{(int(code) + 1 + i) % 1_000_000:06d}"


async def test_one_client_cannot_burn_anyones_codes(
    proxied: httpx.AsyncClient, clock: ManualClock
) -> None:
    code, _ = await _code(proxied, clock)
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    statuses = []
    for minute in range(6):  # as fast as its budget allows, for longer than the code lives
        for i in range(6):
            response = await proxied.post(
                CLAIM, json={"code": _wrong(code, minute * 6 + i)}, headers=attacker
            )
            statuses.append(response.status_code)
        clock.advance(50 if minute < 5 else 0)
    # 5 a minute, 20 an hour: never the 30 failures that would burn the code
    assert statuses.count(401) <= 20 and set(statuses) == {401, 429}
    user = {"X-Forwarded-For": "198.51.100.1"}
    assert (await proxied.post(CLAIM, json={"code": code}, headers=user)).status_code == 200


async def test_a_code_burns_after_its_own_budget_of_failures(
    proxied: httpx.AsyncClient, clock: ManualClock
) -> None:
    code, _ = await _code(proxied, clock)
    budget = AuthSettings("d", "https://d").pairing_max_failures_per_code
    for i in range(budget):  # a distributed sprayer: one guess per address
        headers = {"X-Forwarded-For": f"10.9.{i // 200}.{i % 200}"}
        response = await proxied.post(CLAIM, json={"code": _wrong(code, i)}, headers=headers)
        assert response.status_code == 401
    burned = await proxied.post(CLAIM, json={"code": code}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert burned.status_code == 401
    fresh, _ = await _code(proxied, clock)  # codes made afterwards are not affected
    ok = await proxied.post(CLAIM, json={"code": fresh}, headers={"X-Forwarded-For": "1.2.3.4"})
    assert ok.status_code == 200


def test_guessing_a_live_code_stays_infeasible() -> None:
    """The bound docs/auth.md states: each code sees at most its budget of failed guesses."""
    settings = AuthSettings("d", "https://d")
    space = 1_000_000
    per_code = settings.pairing_max_failures_per_code
    lifetime_minutes = settings.pairing_ttl / 60
    assert settings.pairing_ip_failures_per_minute * lifetime_minutes < per_code
    assert settings.pairing_ip_failures_per_hour < per_code  # one client alone never burns
    assert (per_code + 1) / space <= 3.1e-5  # chance that a given code is ever taken by guessing
