"""Sessions under attack: refresh misuse, reuse, cross-site cookies, SIWE scheme and high-s."""

from __future__ import annotations

import httpx

from tests.auth.helpers import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    Wallet,
    cookies_of,
    pair_extension,
    sign_in,
)
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_check import SECP256K1_N
from testudo.clock import ManualClock

PROBLEM = "application/problem+json"


async def refresh_web(http: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/refresh", headers={"Cookie": f"{REFRESH_COOKIE}={token}", **headers}
    )


async def test_a_refresh_token_at_the_wrong_endpoint_is_refused_before_rotation(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    desk = await sign_in(http, Wallet(), clock.now())
    extension = (await pair_extension(http, desk))["tokens"]["refresh_token"]
    clock.advance(60)  # past the grace window: a consumed token would now count as reuse
    wrong_web = await refresh_web(http, extension)
    assert wrong_web.status_code == 401 and wrong_web.json()["error"] == "invalid_token"
    wrong_ext = await http.post(
        "/api/v1/auth/extension-refresh", json={"refresh_token": desk.refresh}
    )
    assert wrong_ext.status_code == 401 and wrong_ext.json()["error"] == "invalid_token"
    clock.advance(60)
    # Neither token was consumed: each real client still refreshes.
    assert (await refresh_web(http, desk.refresh)).status_code == 200
    own = await http.post("/api/v1/auth/extension-refresh", json={"refresh_token": extension})
    assert own.status_code == 200, own.text


async def test_grace_covers_only_the_newest_used_token(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    first = cookies_of(await refresh_web(http, session.refresh))["refresh_token"]["value"]
    # Within the grace window the parent of an unused successor gets that same successor.
    twin = await refresh_web(http, session.refresh)
    assert cookies_of(twin)["refresh_token"]["value"] == first
    second = await refresh_web(http, first)
    assert second.status_code == 200
    # Two rotations old, still inside the window: reuse, the family is revoked.
    stale = await refresh_web(http, session.refresh)
    assert stale.status_code == 401 and stale.json()["error"] == "refresh_token_reused"
    newest = cookies_of(second)["refresh_token"]["value"]
    assert (await refresh_web(http, newest)).json()["error"] == "session_revoked"


async def test_cookie_writes_need_the_same_origin(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    cookie = {"Cookie": f"{ACCESS_COOKIE}={session.access}"}
    for headers in (
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://sibling.testudo.test"},
    ):
        response = await http.post("/api/v1/auth/logout", headers={**cookie, **headers})
        assert response.status_code == 403, headers
        assert response.json()["error"] == "cross_site_request"
        refresh = await refresh_web(http, session.refresh, **headers)
        assert refresh.status_code == 403, headers
    # Nothing was rotated or revoked by the refused requests.
    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": "https://desk.testudo.test"}
    assert (await refresh_web(http, session.refresh, **same_origin)).status_code == 200


def test_host_prefixed_cookies_only_where_the_deployment_allows_them() -> None:
    secure = AuthSettings("d", "https://d")
    assert (secure.access_cookie, secure.refresh_cookie) == (
        "__Host-access_token",
        "__Host-refresh_token",
    )
    assert secure.refresh_cookie_path == "/"
    for plain in (
        AuthSettings("d", "http://d", cookie_secure=False),
        AuthSettings("d", "https://d", cookie_domain="example.com"),
    ):
        assert (plain.access_cookie, plain.refresh_cookie) == ("access_token", "refresh_token")
        assert plain.refresh_cookie_path == "/api/v1/auth"


async def _nonce(http: httpx.AsyncClient) -> str:
    return str((await http.get("/api/v1/auth/nonce")).json()["nonce"])


async def test_the_message_scheme_must_match(http: httpx.AsyncClient, clock: ManualClock) -> None:
    wallet = Wallet()
    for scheme, status in (("http", 401), ("wss", 401), ("https", 200)):
        text = wallet.message(await _nonce(http), clock.now(), scheme=scheme)
        response = await http.post(
            "/api/v1/auth/verify-siwe", json={"message": text, "signature": wallet.sign(text)}
        )
        assert response.status_code == status, (scheme, response.text)
        if status == 401:
            assert response.json()["error"] == "scheme_mismatch"


def _high_s_twin(signature: str) -> str:
    """The other valid signature of the same message: (r, n - s) with the parity flipped."""
    raw = bytes.fromhex(signature.removeprefix("0x"))
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    twin = (SECP256K1_N - s).to_bytes(32, "big")
    return "0x" + (r + twin + bytes([55 - v if v in (27, 28) else 1 - v])).hex()


async def test_high_s_signatures_are_refused(http: httpx.AsyncClient, clock: ManualClock) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    wallet = Wallet()
    text = wallet.message(await _nonce(http), clock.now())
    twin = _high_s_twin(wallet.sign(text))
    # The library alone accepts it: the twin recovers the same address.
    assert Account.recover_message(encode_defunct(text=text), signature=twin) == wallet.address
    response = await http.post(
        "/api/v1/auth/verify-siwe", json={"message": text, "signature": twin}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    assert response.headers["content-type"] == PROBLEM
    good = await http.post(
        "/api/v1/auth/verify-siwe", json={"message": text, "signature": wallet.sign(text)}
    )
    assert good.status_code == 200  # the nonce was not consumed by the refused twin


async def test_expired_tokens_behind_one_address_never_lock_out_a_valid_one(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    """Before: 10 bad tokens from an address got every token from it 429 for 15 minutes."""
    stale = [await sign_in(http, Wallet(), clock.now()) for _ in range(12)]
    clock.advance(900 + 31)  # every one of those access tokens has expired
    fresh = await sign_in(http, Wallet(), clock.now())
    for session in stale:  # a dozen users behind one NAT, each with an expired token
        response = await http.get("/api/v1/auth/me", headers=session.bearer())
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert (await http.get("/api/v1/auth/me", headers=fresh.bearer())).status_code == 200
    for _ in range(30):  # one client hammering with garbage changes nothing for the others
        await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer garbage"})
    assert (await http.get("/api/v1/auth/me", headers=fresh.bearer())).status_code == 200
