"""Early answers on keep-alive connections: the next request is served, or the connection closes.

Each case sends the headers of a request that carries a body, the body a few milliseconds later
(so the answer is decided before the body has arrived), then a second request on the same
connection. Before api/keepalive.py the second request was never answered and the socket stayed
open for good.
"""

from __future__ import annotations

import httpx
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock

from .rawhttp import RawConnection, request_head

BODY = b'{"code": "123456", "symbol": "BTC_USDT"}'
JSON = {"Content-Type": "application/json", "Content-Length": str(len(BODY))}
SECOND = request_head("GET", "/api/v1/health", {})

CASES = {
    401: ("POST", "/api/v1/trades", JSON),
    404: ("POST", "/api/v1/no-such-route", JSON),
    405: ("PUT", "/api/v1/health", JSON),
    422: ("POST", "/api/v1/auth/extension-pair", {**JSON, "Content-Type": "text/plain"}),
}


async def _early_answer_then_next(
    base_url: str, method: str, path: str, headers: dict[str, str]
) -> tuple[int, int | None]:
    conn = await RawConnection.open(base_url)
    try:
        assert await conn.send(request_head(method, path, headers))
        await trio.sleep(0.02)
        assert await conn.send(BODY)
        assert await conn.send(SECOND)
        first = await conn.response()
        assert first is not None
        second = await conn.response()
        return first.status, None if second is None else second.status
    finally:
        await conn.aclose()


@pytest.mark.parametrize("status", sorted(CASES))
async def test_the_next_request_is_served_after_an_early_answer(
    service: Running, status: int
) -> None:
    method, path, headers = CASES[status]
    assert await _early_answer_then_next(service.http_url, method, path, headers) == (status, 200)


async def test_after_an_early_403_the_next_request_is_served(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    headers = {**JSON, **session.cookie_header(), "Origin": "https://evil.example"}
    answers = await _early_answer_then_next(
        service.http_url, "POST", "/api/v1/auth/logout", headers
    )
    assert answers == (403, 200)


async def test_a_413_before_the_body_closes_the_connection(service: Running) -> None:
    conn = await RawConnection.open(service.http_url)
    try:
        headers = {"Content-Type": "application/json", "Content-Length": str(2 * 1024 * 1024)}
        assert await conn.send(request_head("POST", "/api/v1/auth/verify-siwe", headers))
        await trio.sleep(0.02)
        first = await conn.response()
        assert first is not None and first.status == 413
        assert first.headers.get("connection", "").lower() == "close"
        await conn.send(b"x" * 65536 + SECOND)  # the server may already have closed: fine
        assert await conn.at_eof()
    finally:
        await conn.aclose()


async def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(
    nursery: trio.Nursery,
) -> None:
    """Hypercorn re-arms its idle timer in the bookkeeping that quart-trio used to cancel."""
    from hypercorn.config import Config
    from hypercorn.trio import serve
    from quart_trio import QuartTrio

    from api.keepalive import KeepAliveGuard

    app = QuartTrio("bare")

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.keep_alive_timeout = 0.2
    urls: list[str] = await nursery.start(serve, KeepAliveGuard(app), config)  # type: ignore[arg-type]
    conn = await RawConnection.open(urls[0])
    try:
        assert await conn.send(request_head("GET", "/", {}))
        answer = await conn.response()
        assert answer is not None and answer.status == 200
        assert await conn.at_eof()  # closed by the server's idle timer, not by us
    finally:
        await conn.aclose()
