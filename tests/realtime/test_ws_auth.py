"""Who may subscribe to a private channel: tokens at the upgrade, AUTH, owners only."""

from __future__ import annotations

import httpx

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock

from .support import connect, request, subscribe, user_channel

UNAUTHORIZED, FORBIDDEN, INVALID_REQUEST, INVALID_VALUE = 7, 8, 2, 1


async def test_private_channels_are_refused_without_a_token(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    async with connect(service.ws_url) as ws:
        answer = await subscribe(ws, user_channel(session), "ticker.BTC_USDT")
        assert answer["error"]["code"] == UNAUTHORIZED and answer["id"] == 1
        # all or nothing: the public channel of the same request was not subscribed either
        listed = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert listed == {"result": [], "id": 2}


async def test_another_users_channel_is_forbidden_whatever_the_token_source(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    alice = await sign_in(http, Wallet(), clock.now())
    bob = await sign_in(http, Wallet(), clock.now())
    async with connect(service.ws_url, bob.bearer()) as ws:
        forbidden = await subscribe(ws, user_channel(alice))
        assert forbidden["error"]["code"] == FORBIDDEN
        assert "another user" in forbidden["error"]["msg"]
        assert await subscribe(ws, user_channel(bob), user_channel(bob, "balance"), id=2) == {
            "result": None,
            "id": 2,
        }
    async with connect(service.ws_url) as ws:
        authed = await request(ws, {"method": "AUTH", "params": [bob.access], "id": 1})
        assert authed == {"result": {"user_id": bob.user["id"]}, "id": 1}
        assert (await subscribe(ws, user_channel(alice), id=2))["error"]["code"] == FORBIDDEN
        switch = await request(ws, {"method": "AUTH", "params": [alice.access], "id": 3})
        assert switch["error"]["code"] == INVALID_REQUEST
    async with connect(service.ws_url, bob.cookie_header()) as ws:
        assert (await subscribe(ws, user_channel(alice)))["error"]["code"] == FORBIDDEN
        assert await subscribe(ws, user_channel(bob), id=2) == {"result": None, "id": 2}


async def test_bad_tokens_and_cross_site_cookies_leave_the_connection_anonymous(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    alice = await sign_in(http, Wallet(), clock.now())
    channel = user_channel(alice)
    async with connect(service.ws_url, {"Authorization": "Bearer not-a-jwt"}) as ws:
        answer = await subscribe(ws, channel)
        assert answer["error"]["code"] == UNAUTHORIZED and "invalid" in answer["error"]["msg"]
        assert await subscribe(ws, "ticker.BTC_USDT", id=2) == {"result": None, "id": 2}
        bad = await request(ws, {"method": "AUTH", "params": ["nope"], "id": 3})
        assert bad["error"]["code"] == UNAUTHORIZED
        arity = await request(ws, {"method": "AUTH", "params": [], "id": 4})
        assert arity["error"]["code"] == INVALID_VALUE
    evil = {**alice.cookie_header(), "Origin": "https://evil.example"}
    async with connect(service.ws_url, evil) as ws:
        answer = await subscribe(ws, channel)
        assert answer["error"]["code"] == UNAUTHORIZED and "origin" in answer["error"]["msg"]
    desk = {**alice.cookie_header(), "Origin": "https://desk.example"}
    async with connect(service.ws_url, desk) as ws:
        assert await subscribe(ws, channel) == {"result": None, "id": 1}
