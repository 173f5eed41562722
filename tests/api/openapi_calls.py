"""A tour of the whole HTTP API through the real service, recording every answer.

The tour signs in through real SIWE, adds a simulated Binance account and a Hyperliquid agent
wallet, trades, journals, tags, uploads and analyses, then walks some error paths. Each call is
kept as a :class:`Call` (operation = method and path template) so that a test can hold every
answer against what ``/openapi.json`` declares for that operation and status.
"""

from __future__ import annotations

import io
from typing import Any

import attrs
import httpx
import trio
from PIL import Image

from tests.auth.helpers import REFRESH_COOKIE, Wallet, WebSession, cookies_of
from tests.exchanges.test_agent_wallet import sign_typed
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

API = "/api/v1"
MISSING = "00000000-0000-4000-8000-000000000000"


@attrs.frozen
class Call:
    method: str
    template: str
    status: int
    content_type: str
    body: Any


@attrs.define
class Tour:
    """An HTTP client that records each answer under its operation's path template."""

    http: httpx.AsyncClient
    headers: dict[str, str] = attrs.Factory(dict)
    extension: str = ""
    cookie: str = ""
    calls: list[Call] = attrs.Factory(list)

    async def call(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        ids: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        path = template.format(**(ids or {}))
        response = await self.http.request(
            method, path, headers=headers if headers is not None else self.headers, **kwargs
        )
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        kind = response.headers.get("content-type", "").split(";")[0]
        body: Any = response.json() if kind.endswith("json") else response.content
        self.calls.append(Call(method.lower(), template, response.status_code, kind, body))
        return response

    def operations(self) -> set[tuple[str, str]]:
        return {(c.method, c.template) for c in self.calls}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


async def public_part(tour: Tour) -> None:
    await tour.call("GET", f"{API}/health", 200)
    await tour.call("GET", f"{API}/health/ready", 200)
    await tour.call("GET", f"{API}/health/sidecar", 200)
    await tour.call("GET", f"{API}/metrics", 200)
    await tour.call("GET", "/metrics", 200)
    await tour.call("GET", f"{API}/auth/nonce", 200)


async def auth_part(tour: Tour, wallet: Wallet, clock: ManualClock) -> WebSession:
    nonce = (await tour.call("GET", f"{API}/auth/nonce", 200)).json()["nonce"]
    text = wallet.message(nonce, clock.now())
    signed = {"message": text, "signature": wallet.sign(text)}
    response = await tour.call("POST", f"{API}/auth/verify-siwe", 200, json=signed)
    jar = cookies_of(response)
    session = WebSession(
        jar["access_token"]["value"], jar["refresh_token"]["value"], response.json()["user"]
    )
    tour.headers = session.bearer()
    await tour.call("GET", f"{API}/auth/me", 200)
    code = (await tour.call("POST", f"{API}/auth/pair-extension", 200)).json()["code"]
    await tour.call("GET", f"{API}/auth/pair-status", 200)
    paired = await tour.call("POST", f"{API}/auth/extension-pair", 200, json={"code": code})
    tour.extension = paired.json()["tokens"]["access_token"]
    refresh = paired.json()["tokens"]["refresh_token"]
    body = {"refresh_token": refresh}
    await tour.call("POST", f"{API}/auth/extension-refresh", 200, json=body)
    cookie = {"Cookie": f"{REFRESH_COOKIE}={session.refresh}", "Sec-Fetch-Site": "same-origin"}
    refreshed = await tour.call("POST", f"{API}/auth/refresh", 200, headers=cookie)
    jar = cookies_of(refreshed)
    session = WebSession(jar["access_token"]["value"], jar["refresh_token"]["value"], session.user)
    tour.headers = session.bearer()
    tour.cookie = session.cookie_header()["Cookie"]
    return session


async def exchanges_part(tour: Tour, sim: SimClient) -> str:
    await tour.call("GET", f"{API}/exchanges", 200)
    await tour.call("GET", f"{API}/exchanges/supported", 200)
    account = await sim.create_account("10000")
    added = await tour.call(
        "POST",
        f"{API}/exchanges/accounts",
        201,
        json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
    )
    account_id = str(added.json()["id"])
    ids = {"account_id": account_id}
    await tour.call("GET", f"{API}/exchanges/accounts", 200)
    await tour.call("POST", API + "/exchanges/accounts/{account_id}/test", 200, ids=ids)
    await tour.call("GET", API + "/exchanges/accounts/{account_id}/balance", 200, ids=ids)
    await tour.call("GET", API + "/exchanges/accounts/{account_id}/positions", 200, ids=ids)
    return account_id


async def agent_wallet_part(tour: Tour, sim: SimClient) -> None:
    owner = await sim.create_account("5000")
    init = await tour.call(
        "POST",
        f"{API}/exchanges/agent-wallet/init",
        201,
        json={"wallet_address": owner.wallet_address},
    )
    account_id = init.json()["account_id"]
    data = (
        await tour.call(
            "POST",
            f"{API}/exchanges/agent-wallet/approve-data",
            200,
            json={"account_id": account_id},
        )
    ).json()
    signature = sign_typed(data["typed_data"], owner.wallet_private_key)
    await tour.call(
        "POST",
        f"{API}/exchanges/agent-wallet/approve",
        200,
        json={"account_id": account_id, "signature": signature, "nonce": data["nonce"]},
    )
    ids = {"account_id": account_id}
    await tour.call("DELETE", API + "/exchanges/agent-wallet/{account_id}/revoke", 200, ids=ids)


async def trades_part(tour: Tour, account_id: str) -> None:
    body = {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.01",
        "stop_loss_price": "49000",
        "take_profit": [{"price": "53000"}],
        "leverage": 2,
        "exchange_account_id": account_id,
    }
    created = await tour.call("POST", f"{API}/trades", 201, json=body)
    ids = {"group_id": str(created.json()["id"])}
    group = API + "/trades/{group_id}"
    await wait_active(tour, ids["group_id"])
    await tour.call("GET", f"{API}/trades", 200)
    await tour.call("GET", group, 200, ids=ids)
    await tour.call("PUT", group + "/sl", 200, ids=ids, json={"price": "48500"})
    targets = {"take_profit": [{"price": "54000"}]}
    await tour.call("PUT", group + "/tp", 200, ids=ids, json=targets)
    await tour.call("PUT", group + "/breakeven", 200, ids=ids, json={"enabled": True})
    await tour.call("POST", f"{API}/trades/cleanup", 200)
    await tour.call("DELETE", group, 200, ids=ids)
    await tour.call("GET", API + "/trades/{group_id}", 404, ids={"group_id": MISSING})
    await tour.call("POST", f"{API}/trades", 422, json={**body, "side": "up"})


async def wait_active(tour: Tour, group_id: str) -> None:
    with trio.fail_after(30):
        while True:
            got = await tour.http.get(f"{API}/trades/{group_id}", headers=tour.headers)
            if got.json().get("status") == "active":
                return
            await trio.sleep(0.1)


async def journal_part(tour: Tour, trade_id: str) -> None:
    journal = f"{API}/journal"
    trade = {"trade_id": trade_id}
    listed = await tour.call("GET", f"{journal}/trades", 200)
    assert listed.json()["total"] >= 1
    await tour.call("GET", journal + "/trades/{trade_id}", 200, ids=trade)
    await tour.call(
        "PATCH", journal + "/trades/{trade_id}/notes", 200, ids=trade, json={"notes": "ok"}
    )
    tag = (
        await tour.call(
            "POST", f"{journal}/tags", 201, json={"name": "breakout", "color": "#22c55e"}
        )
    ).json()
    await tour.call("POST", f"{journal}/tags", 409, json={"name": "Breakout"})
    ids = {"tag_id": tag["id"], **trade}
    await tour.call("GET", f"{journal}/tags", 200)
    await tour.call("PUT", journal + "/tags/{tag_id}", 200, ids=ids, json={"color": None})
    await tour.call(
        "POST", journal + "/trades/{trade_id}/tags", 200, ids=trade, json={"tag_id": tag["id"]}
    )
    await tour.call("GET", f"{journal}/trades.csv", 200)
    await tour.call("DELETE", journal + "/trades/{trade_id}/tags/{tag_id}", 200, ids=ids)
    await tour.call("DELETE", journal + "/tags/{tag_id}", 200, ids=ids)
    await tour.call("DELETE", journal + "/tags/{tag_id}", 404, ids=ids)
    await entries_part(tour, trade_id)
    await storage_part(tour)


async def entries_part(tour: Tour, trade_id: str) -> None:
    entries = f"{API}/journal/entries"
    body = {"title": "Plan", "body": "Wait for the retest.", "trade_id": trade_id}
    entry = (await tour.call("POST", entries, 201, json=body)).json()
    ids = {"entry_id": entry["id"]}
    await tour.call("GET", entries, 200)
    await tour.call("GET", entries + "/{entry_id}", 200, ids=ids)
    update = {"title": "Plan B", "body": "Skip it.", "entry_type": "post-trade"}
    await tour.call("PUT", entries + "/{entry_id}", 200, ids=ids, json=update)
    await tour.call("DELETE", entries + "/{entry_id}", 200, ids=ids)
    await tour.call("GET", entries + "/{entry_id}", 404, ids=ids)
    await tour.call("POST", entries, 422, json={"title": "x"})


async def storage_part(tour: Tour) -> None:
    journal = f"{API}/journal"
    files = {"file": ("chart.png", png(), "image/png")}
    image = (await tour.call("POST", f"{journal}/upload", 201, files=files)).json()
    ids = {"image_id": image["id"]}
    await tour.call("GET", f"{journal}/storage", 200)
    await tour.call("GET", journal + "/images/{image_id}", 200, ids=ids)
    await tour.call("DELETE", journal + "/images/{image_id}", 200, ids=ids)
    await tour.call("GET", journal + "/images/{image_id}", 404, ids=ids)
    text = {"file": ("notes.txt", b"not an image", "text/plain")}
    await tour.call("POST", f"{journal}/upload", 415, files=text)


ANALYTICS = (
    "overview",
    "equity-curve",
    "daily-pnl",
    "symbol-breakdown",
    "setup-breakdown",
    "duration-profit",
    "return-distribution",
    "time-distribution",
    "break-even",
    "decisions",
    "filter-options",
)


async def analytics_part(tour: Tour) -> None:
    base = f"{API}/journal/analytics"
    for name in ANALYTICS:
        await tour.call("GET", f"{base}/{name}", 200)
    await tour.call("GET", f"{base}/return-distribution", 200, params={"basis": "daily"})
    await tour.call("POST", f"{base}/batch", 200, json={})
    await tour.call("GET", f"{base}/overview", 422, params={"date_from": "yesterday"})


async def rest_part(tour: Tour, account_id: str) -> None:
    await tour.call("GET", f"{API}/risk-config", 200)
    await tour.call("PUT", f"{API}/risk-config", 200, json={"max_open_positions": 4})
    await tour.call("PUT", f"{API}/risk-config", 422, json={"max_leverage": "-1"})
    body = {"exchange_account_id": account_id}
    await tour.call("POST", f"{API}/trades/import", 202, json=body)
    await tour.call("GET", f"{API}/trades/import/status", 200)
    await tour.call("POST", f"{API}/trades/import", 404, json={"exchange_account_id": MISSING})


async def closing_part(tour: Tour, account_id: str) -> None:
    ids = {"account_id": account_id}
    await tour.call("DELETE", API + "/exchanges/accounts/{account_id}", 204, ids=ids)
    await tour.call("DELETE", API + "/exchanges/accounts/{account_id}", 404, ids=ids)
    await tour.call("GET", f"{API}/auth/me", 401, headers={})
    cross = {"Cookie": tour.cookie, "Origin": "https://evil.example"}
    await tour.call("POST", f"{API}/auth/logout", 403, headers=cross)
    extension = {"Authorization": f"Bearer {tour.extension}"}
    await tour.call("POST", f"{API}/auth/logout", 200, headers=extension)
    await tour.call("POST", f"{API}/auth/revoke-all", 200)
    await tour.call("GET", f"{API}/auth/me", 401)
