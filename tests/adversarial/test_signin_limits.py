"""Sign-in costs little and is rate-limited; client addresses come only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from tests.auth.helpers import Wallet
from tests.support import make_settings, running_service
from testudo.auth import siwe_check
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_shape import check_shape, max_length
from testudo.clock import ManualClock
from testudo.net import client_address, parse_networks
from testudo.problems import Problem

SETTINGS = AuthSettings("desk.testudo.test", "https://desk.testudo.test")


@pytest.fixture
async def limited(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The service with its default sign-in limits, behind a trusted proxy on loopback."""
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        signin_per_client_per_minute=10,
        signin_per_second=20,
        trusted_proxies=parse_networks("127.0.0.0/8"),
    )
    async with (
        running_service(nursery, settings, clock) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=30) as http,
    ):
        yield http


_TEMPLATE = Wallet().message("a" * 32, ManualClock().now())


def _hostile(length: int) -> str:
    return _TEMPLATE.replace("Sign in to Testudo", "x" * length)


def test_hostile_messages_never_reach_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Spy:
        @staticmethod
        def from_message(message: str) -> None:
            calls.append(message)
            raise ValueError("spy")

    monkeypatch.setattr(siwe_check._siwe(), "SiweMessage", Spy)
    signature = "0x" + "11" * 65
    now = ManualClock().now()
    for message in (
        _hostile(4000),
        "a" * 4096,
        _hostile(129),  # a statement longer than any desk needs
        _hostile(10).replace("URI: https://desk.testudo.test", "URI: https://" + "a" * 300),
        _hostile(10) + "\nResources:\n" + "\n".join(f"- https://r/{i}" for i in range(2)),
        _hostile(10).replace("Nonce: " + "a" * 32, "Nonce: a-b"),
    ):
        rejection = siwe_check.check_siwe(message, signature, SETTINGS, now)
        assert isinstance(rejection, Problem)
    assert calls == []
    assert check_shape(_hostile(10), signature, SETTINGS) is None  # a real message passes
    assert 700 < max_length(SETTINGS) < 900


async def test_sign_in_attempts_are_limited_per_client(
    limited: httpx.AsyncClient, clock: ManualClock
) -> None:
    body = {"message": _hostile(10), "signature": "0x" + "11" * 65}
    headers = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [
        (await limited.post("/api/v1/auth/verify-siwe", json=body, headers=headers)).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    refused = await limited.post("/api/v1/auth/verify-siwe", json=body, headers=headers)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["error"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    # Another client behind the same proxy is not affected.
    other = await limited.post(
        "/api/v1/auth/verify-siwe", json=body, headers={"X-Forwarded-For": "203.0.113.8"}
    )
    assert other.status_code == 401
    clock.advance(60)
    again = await limited.post("/api/v1/auth/verify-siwe", json=body, headers=headers)
    assert again.status_code == 401


async def test_sign_in_has_a_global_budget(limited: httpx.AsyncClient, clock: ManualClock) -> None:
    body = {"message": _hostile(10), "signature": "0x" + "11" * 65}
    statuses = []
    for i in range(21):
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}
        response = await limited.post("/api/v1/auth/verify-siwe", json=body, headers=headers)
        statuses.append(response.status_code)
    assert statuses == [401] * 20 + [429]
    clock.advance(1)
    fresh = await limited.post(
        "/api/v1/auth/verify-siwe", json=body, headers={"X-Forwarded-For": "198.51.100.99"}
    )
    assert fresh.status_code == 401


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    trusted = parse_networks("10.0.0.0/8, ::1")
    assert client_address("192.0.2.1", ["203.0.113.5"], trusted) == "192.0.2.1"
    assert client_address("10.1.1.1", ["203.0.113.5"], trusted) == "203.0.113.5"
    # Read from the right: the spoofed left-most entry is ignored.
    assert client_address("10.1.1.1", ["6.6.6.6, 203.0.113.5, 10.2.2.2"], trusted) == (
        "203.0.113.5"
    )
    assert client_address("::1", ["not-an-ip"], trusted) == "::1"
    assert client_address("10.1.1.1", [], trusted) == "10.1.1.1"
    assert client_address("10.1.1.1", ["203.0.113.5"], ()) == "10.1.1.1"
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, bogus")
    assert parse_networks("192.168.1.7") == (ipaddress.ip_network("192.168.1.7/32"),)
