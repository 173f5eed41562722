"""Sign-in with Ethereum: real keys, real EIP-4361 messages, every rejection path."""

from __future__ import annotations

import datetime as dt

import httpx
import trio

from api.process import Running
from tests.conftest import SIWE_DOMAIN, SIWE_URI
from testudo.clock import ManualClock

from .helpers import Wallet, cookies_of, iso, sign_in

PROBLEM = "application/problem+json"


async def nonce(http: httpx.AsyncClient) -> str:
    response = await http.get("/api/v1/auth/nonce")
    assert response.status_code == 200
    value = response.json()["nonce"]
    assert len(value) == 32 and value.isalnum()
    return str(value)


async def verify(
    http: httpx.AsyncClient, wallet: Wallet, text: str, signature: str | None = None
) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/verify-siwe",
        json={"message": text, "signature": signature or wallet.sign(text)},
    )


async def test_web_sign_in_sets_strict_http_only_cookies_and_creates_the_user(
    http: httpx.AsyncClient, clock: ManualClock, service: Running
) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now())
    response = await verify(http, wallet, text)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["wallet_address"] == wallet.address.lower()
    jar = cookies_of(response)
    for name in ("access_token", "refresh_token"):
        raw = jar[name]["raw"].lower()
        assert "httponly" in raw and "secure" in raw and "samesite=strict" in raw
        # __Host-: the browser keeps it only when Secure, Path=/ and without Domain
        assert jar[name]["name"] == f"__Host-{name}" and "domain" not in jar[name]
        assert jar[name]["path"] == "/"
    assert jar["access_token"]["max-age"] == "900"
    assert jar["refresh_token"]["max-age"] == str(7 * 24 * 3600)
    me = await http.get(
        "/api/v1/auth/me",
        headers={"Cookie": f"__Host-access_token={jar['access_token']['value']}"},
    )
    assert me.status_code == 200
    assert me.json()["user"] == user
    rows = await service.system.db.fetch_all("SELECT wallet_address FROM users")
    assert rows == [{"wallet_address": wallet.address.lower()}]


async def test_second_sign_in_reuses_the_user(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    first = await sign_in(http, wallet, clock.now())
    second = await sign_in(http, wallet, clock.now())
    assert first.user == second.user and first.access != second.access


async def test_lower_case_address_is_accepted(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now(), address=wallet.address.lower())
    response = await verify(http, wallet, text)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["wallet_address"] == wallet.address.lower()


async def expect_401(response: httpx.Response, error: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == error


async def test_wrong_domain(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now(), domain="evil.example")
    response = await verify(http, wallet, text)
    await expect_401(response, "domain_mismatch")
    assert response.json()["detail"] == (  # names what was expected
        f"The message is for another domain: this service expects {SIWE_DOMAIN!r}."
    )


async def test_wrong_uri(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now(), uri="https://evil.example")
    response = await verify(http, wallet, text)
    await expect_401(response, "uri_mismatch")
    assert response.json()["detail"] == (
        f"The message is for another URI: this service expects {SIWE_URI!r}."
    )


async def test_wrong_chain(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now(), chain_id=137)
    await expect_401(await verify(http, wallet, text), "chain_not_allowed")
    other_allowed = wallet.message(await nonce(http), clock.now(), chain_id=10)
    assert (await verify(http, wallet, other_allowed)).status_code == 200


async def test_expired_message(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(
        await nonce(http), clock.now(), expiration_time=iso(clock.now() - dt.timedelta(seconds=1))
    )
    await expect_401(await verify(http, wallet, text), "message_expired")


async def test_not_yet_valid_message(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(
        await nonce(http), clock.now(), not_before=iso(clock.now() + dt.timedelta(minutes=5))
    )
    await expect_401(await verify(http, wallet, text), "message_not_yet_valid")


async def test_future_issued_at(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now() + dt.timedelta(minutes=10))
    await expect_401(await verify(http, wallet, text), "issued_in_future")


async def test_reused_nonce(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now())
    assert (await verify(http, wallet, text)).status_code == 200
    await expect_401(await verify(http, wallet, text), "invalid_nonce")


async def test_unknown_nonce(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message("abcdefgh12345678abcdefgh12345678", clock.now())
    await expect_401(await verify(http, wallet, text), "invalid_nonce")


async def test_expired_nonce(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    value = await nonce(http)
    clock.advance(301)
    text = wallet.message(value, clock.now())
    await expect_401(await verify(http, wallet, text), "invalid_nonce")


async def test_tampered_signature(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet, other = Wallet(), Wallet()
    text = wallet.message(await nonce(http), clock.now())
    await expect_401(await verify(http, wallet, text, other.sign(text)), "invalid_signature")
    good = wallet.sign(text)
    flipped = good[:10] + ("0" if good[10] != "0" else "1") + good[11:]
    response = await verify(http, wallet, text, flipped)
    assert response.status_code in (400, 401) and response.headers["content-type"] == PROBLEM


async def test_tampered_message(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now())
    signature = wallet.sign(text)
    tampered = text.replace("Sign in to Testudo", "Sign in to Testudo!")
    await expect_401(await verify(http, wallet, tampered, signature), "invalid_signature")


async def test_malformed_inputs_are_4xx_problems(http: httpx.AsyncClient) -> None:
    garbage = await http.post(
        "/api/v1/auth/verify-siwe", json={"message": "hello", "signature": "0x00"}
    )
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_message"
    missing = await http.post("/api/v1/auth/verify-siwe", json={"message": "x"})
    assert missing.status_code == 422 and missing.json()["error"] == "validation_error"
    assert missing.json()["errors"][0]["field"] == "signature"
    not_json = await http.post(
        "/api/v1/auth/verify-siwe",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_json"
    too_big = await http.post(
        "/api/v1/auth/verify-siwe",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.json()["error"] == "payload_too_large"
    for response in (garbage, missing, not_json, too_big):
        assert response.headers["content-type"] == PROBLEM


async def test_fifty_concurrent_uses_of_one_message_create_one_session(
    http: httpx.AsyncClient, clock: ManualClock, service: Running
) -> None:
    wallet = Wallet()
    text = wallet.message(await nonce(http), clock.now())
    signature = wallet.sign(text)
    statuses: list[int] = []

    async def attempt() -> None:
        statuses.append((await verify(http, wallet, text, signature)).status_code)

    async with trio.open_nursery() as nursery:
        for _ in range(50):
            nursery.start_soon(attempt)
    assert sorted(statuses) == [200] + [401] * 49
    sessions = await service.system.db.fetch_one("SELECT count(*) AS n FROM sessions")
    assert sessions == {"n": 1}
