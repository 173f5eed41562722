"""Sessions as actors: rotation, reuse detection, revocation, pairing, isolation, restarts."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import httpx
import trio

from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock

from .helpers import ACCESS_COOKIE, REFRESH_COOKIE, Wallet, cookies_of, pair_extension, sign_in

PROBLEM = "application/problem+json"


async def refresh_web(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/api/v1/auth/refresh", headers={"Cookie": f"{REFRESH_COOKIE}={token}"})


async def test_refresh_rotates_and_the_old_token_dies(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    clock.advance(60)
    first = await refresh_web(http, session.refresh)
    assert first.status_code == 200, first.text
    jar = cookies_of(first)
    new_refresh, new_access = jar["refresh_token"]["value"], jar["access_token"]["value"]
    assert new_refresh != session.refresh and new_access != session.access
    me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new_access}"})
    assert me.status_code == 200
    clock.advance(60)
    second = await refresh_web(http, new_refresh)
    assert second.status_code == 200


async def test_reuse_of_a_rotated_token_revokes_the_whole_family(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    rotated = await refresh_web(http, session.refresh)
    child = cookies_of(rotated)["refresh_token"]["value"]
    child_access = cookies_of(rotated)["access_token"]["value"]
    clock.advance(11)  # past the grace window
    stolen = await refresh_web(http, session.refresh)
    assert stolen.status_code == 401 and stolen.json()["error"] == "refresh_token_reused"
    # Every member of the family is dead now, and so are its access tokens.
    assert (await refresh_web(http, child)).json()["error"] == "session_revoked"
    me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {child_access}"})
    assert me.status_code == 401 and me.json()["error"] == "session_revoked"


async def test_concurrent_refreshes_in_the_grace_window_get_the_same_successor(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    results: list[httpx.Response] = []

    async def refresh() -> None:
        results.append(await refresh_web(http, session.refresh))

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(refresh)
    assert [r.status_code for r in results] == [200] * 10
    successors = {cookies_of(r)["refresh_token"]["value"] for r in results}
    assert len(successors) == 1
    clock.advance(5)
    late_tab = await refresh_web(http, session.refresh)
    assert cookies_of(late_tab)["refresh_token"]["value"] in successors
    assert (await refresh_web(http, successors.pop())).status_code == 200


async def test_refresh_needs_a_cookie_and_rejects_garbage(http: httpx.AsyncClient) -> None:
    assert (await http.post("/api/v1/auth/refresh")).status_code == 401
    garbage = await refresh_web(http, "not-a-token")
    assert garbage.status_code == 401 and garbage.headers["content-type"] == PROBLEM
    forged = await refresh_web(http, "550e8400-e29b-41d4-a716-446655440000.abc")
    assert forged.status_code == 401


async def test_logout_revokes_at_once_and_clears_cookies(
    http: httpx.AsyncClient, clock: ManualClock, service: Running
) -> None:
    revoked: list[str] = []

    async def hook(session_id: str) -> None:
        revoked.append(session_id)

    service.system.auth.on_revoked(hook)
    session = await sign_in(http, Wallet(), clock.now())
    out = await http.post("/api/v1/auth/logout", headers=session.bearer())
    assert out.status_code == 200 and out.json() == {"message": "Logged out"}
    assert cookies_of(out)["access_token"]["max-age"] == "0"
    me = await http.get("/api/v1/auth/me", headers=session.bearer())
    assert me.status_code == 401 and me.json()["error"] == "session_revoked"
    assert (await refresh_web(http, session.refresh)).status_code == 401
    assert len(revoked) >= 1


async def test_revoke_all_kills_every_outstanding_access_token_at_once(
    http: httpx.AsyncClient, clock: ManualClock, service: Running
) -> None:
    wallet = Wallet()
    sessions = [await sign_in(http, wallet, clock.now()) for _ in range(3)]
    extension = await pair_extension(http, sessions[0])
    ext_headers = {"Authorization": f"Bearer {extension['tokens']['access_token']}"}
    assert (await http.get("/api/v1/auth/me", headers=ext_headers)).status_code == 200
    other_user = await sign_in(http, Wallet(), clock.now())
    revoked: list[str] = []

    async def hook(session_id: str) -> None:
        revoked.append(session_id)

    service.system.auth.on_revoked(hook)
    response = await http.post("/api/v1/auth/revoke-all", headers=sessions[1].bearer())
    assert response.status_code == 200
    assert response.json() == {"message": "All sessions revoked", "revoked_count": 4}
    for session in sessions:
        me = await http.get("/api/v1/auth/me", headers=session.bearer())
        assert me.status_code == 401
        assert (await refresh_web(http, session.refresh)).status_code == 401
    assert (await http.get("/api/v1/auth/me", headers=ext_headers)).status_code == 401
    assert len(set(revoked)) == 4
    assert (await http.get("/api/v1/auth/me", headers=other_user.bearer())).status_code == 200


async def test_extension_pairing_flow(http: httpx.AsyncClient, clock: ManualClock) -> None:
    desk = await sign_in(http, Wallet(), clock.now())
    status = await http.get("/api/v1/auth/pair-status", headers=desk.bearer())
    assert status.json() == {"paired": False}
    paired = await pair_extension(http, desk)
    tokens = paired["tokens"]
    assert tokens["expires_in"] == 900 and paired["user"] == desk.user
    me = await http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["user"] == desk.user and me.json()["session"]["kind"] == "extension"
    assert (await http.get("/api/v1/auth/pair-status", headers=desk.bearer())).json() == {
        "paired": True
    }
    rotated = await http.post(
        "/api/v1/auth/extension-refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert rotated.json()["tokens"]["refresh_token"] != tokens["refresh_token"]
    # A web refresh cookie cannot be used on the extension endpoint, and vice versa.
    wrong_kind = await http.post(
        "/api/v1/auth/extension-refresh", json={"refresh_token": desk.refresh}
    )
    assert wrong_kind.status_code == 401
    clock.advance(301)
    assert (await http.get("/api/v1/auth/pair-status", headers=desk.bearer())).json() == {
        "paired": False
    }


async def test_pairing_code_is_single_use_and_expires(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    desk = await sign_in(http, Wallet(), clock.now())
    code = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    assert (await http.post("/api/v1/auth/extension-pair", json={"code": code})).status_code == 200
    again = await http.post("/api/v1/auth/extension-pair", json={"code": code})
    assert again.status_code == 401 and again.json()["error"] == "invalid_pairing_code"
    late = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    clock.advance(301)
    expired = await http.post("/api/v1/auth/extension-pair", json={"code": late})
    assert expired.status_code == 401


async def test_pairing_guesses_are_throttled_per_address_with_retry_after(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    desk = await sign_in(http, Wallet(), clock.now())
    code = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = []
    for _ in range(6):
        response = await http.post("/api/v1/auth/extension-pair", json={"code": wrong})
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429]
    assert response.json()["error"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 61
    # Even the right code is refused while this client is throttled; after the window the
    # code still works: one client's guesses never burn anyone's codes.
    assert (await http.post("/api/v1/auth/extension-pair", json={"code": code})).status_code == 429
    clock.advance(61)
    claimed = await http.post("/api/v1/auth/extension-pair", json={"code": code})
    assert claimed.status_code == 200


async def test_pairing_has_a_global_failure_budget(
    http: httpx.AsyncClient, clock: ManualClock, service: Running
) -> None:
    limit = service.system.auth.settings.pairing_global_failures_per_minute
    # Spread guesses over many client addresses, as a sprayer would.
    await service.system.db.run(
        lambda c: c.cursor().executemany(
            "INSERT INTO pairing_attempts (client_ip, at, succeeded) VALUES (%s, %s, false)",
            [(f"10.0.0.{i}", clock.now()) for i in range(limit)],
        )
    )
    response = await http.post("/api/v1/auth/extension-pair", json={"code": "123456"})
    assert response.status_code == 429 and "retry-after" in response.headers


async def test_malformed_pairing_code_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/auth/extension-pair", json={"code": "12ab"})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM


async def test_every_protected_endpoint_is_401_problem_without_credentials(
    http: httpx.AsyncClient, service: Running
) -> None:
    from api.app import create_app

    app = create_app(service.system)
    protected = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_testudo_auth", False):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                protected.append((method, rule.rule))
    assert ("GET", "/api/v1/auth/me") in protected and len(protected) >= 5
    for method, path in protected:
        url = re.sub(r"<[^>]+>", "00000000-0000-0000-0000-000000000001", path)
        response = await http.request(method, url)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["error"] == "unauthorized"
        assert "bearer" in response.headers["www-authenticate"].lower()


async def test_invalid_tokens_are_limited_per_token_never_per_address(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    statuses = []
    for _ in range(11):
        response = await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer stale"})
        statuses.append(response.status_code)
    assert statuses == [401] * 10 + [429]
    assert response.json()["error"] == "rate_limited" and "retry-after" in response.headers
    # Others behind the same address: their own bad token is a 401, a valid one is served.
    other = await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer other"})
    assert other.status_code == 401
    assert (await http.get("/api/v1/auth/me", headers=session.bearer())).status_code == 200
    clock.advance(900)
    again = await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer stale"})
    assert again.status_code == 401


async def test_a_token_of_user_a_reads_only_user_a(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    a, b = await sign_in(http, Wallet(), clock.now()), await sign_in(http, Wallet(), clock.now())
    assert (await http.get("/api/v1/auth/me", headers=a.bearer())).json()["user"] == a.user
    assert (await http.get("/api/v1/auth/me", headers=b.bearer())).json()["user"] == b.user
    # A's refresh token cannot be turned into B's session.
    swapped = b.refresh.split(".")[0] + "." + a.refresh.split(".")[1]
    assert (await refresh_web(http, swapped)).status_code == 401


async def test_bearer_wins_over_cookie(http: httpx.AsyncClient, clock: ManualClock) -> None:
    a, b = await sign_in(http, Wallet(), clock.now()), await sign_in(http, Wallet(), clock.now())
    both = {"Authorization": f"Bearer {a.access}", "Cookie": f"{ACCESS_COOKIE}={b.access}"}
    assert (await http.get("/api/v1/auth/me", headers=both)).json()["user"] == a.user


async def test_cross_site_cookie_requests_are_refused(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    evil = await http.post(
        "/api/v1/auth/logout", headers={**session.cookie_header(), "Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and evil.json()["error"] == "cross_site_request"
    cross = await http.post(
        "/api/v1/auth/logout", headers={**session.cookie_header(), "Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    fine = await http.post(
        "/api/v1/auth/logout", headers={**session.cookie_header(), "Origin": "https://desk.example"}
    )
    assert fine.status_code == 200


async def test_access_tokens_expire_after_fifteen_minutes(
    http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    clock.advance(900 + 31)
    me = await http.get("/api/v1/auth/me", headers=session.bearer())
    assert me.status_code == 401 and me.json()["error"] == "invalid_token"
    assert (await refresh_web(http, session.refresh)).status_code == 200


async def test_sessions_survive_a_restart_of_the_service(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(db_url, tmp_path / "data")
    async with trio.open_nursery() as nursery:
        first: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=first.http_url) as http:
            kept = await sign_in(http, Wallet(), clock.now())
            gone = await sign_in(http, Wallet(), clock.now())
            await http.post("/api/v1/auth/logout", headers=gone.bearer())
        first.shutdown()
    async with trio.open_nursery() as nursery:
        second: Running = await nursery.start(
            functools.partial(run_service, settings, handle_signals=False, clock=clock)
        )
        async with httpx.AsyncClient(base_url=second.http_url) as http:
            assert (await http.get("/api/v1/auth/me", headers=kept.bearer())).status_code == 200
            assert (await refresh_web(http, kept.refresh)).status_code == 200
            assert (await http.get("/api/v1/auth/me", headers=gone.bearer())).status_code == 401
        second.shutdown()
