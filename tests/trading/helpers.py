"""Helpers of the trade tests: a user with a simulated Binance account, and waiting on groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import httpx
import trio

from tests.auth.helpers import Wallet, WebSession, sign_in
from testudo.clock import ManualClock
from testudo.sim.client import SimAccount, SimClient


@attrs.define
class Trader:
    http: httpx.AsyncClient
    session: WebSession
    account: SimAccount
    account_id: str

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.http.post(
            "/api/v1/trades", json=body, headers={**self.session.bearer(), **headers}
        )

    async def group(self, group_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/trades/{group_id}", headers=self.session.bearer())
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def wait(
        self, group_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """Poll the group until ``predicate`` holds (``timeout`` only guards against hangs)."""
        body: dict[str, Any] = {}
        with trio.move_on_after(timeout):
            while True:
                body = await self.group(group_id)
                if predicate(body):
                    return body
                await trio.sleep(0.1)
        raise AssertionError(f"the group never reached the expected state: {body}")


def market_body(**extra: Any) -> dict[str, Any]:
    """A valid market long of 0.01 BTC_USDT at about 50000 (stop 49000, one target)."""
    return {
        "symbol": "BTC_USDT",
        "side": "buy",
        "order_type": "market",
        "quantity": "0.01",
        "stop_loss_price": "49000",
        "take_profit": [{"price": "53000"}],
        "leverage": 2,
        **extra,
    }


def live_orders(body: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [o for o in body["orders"] if o["role"] == role and o["status"] == "open"]


async def binance_trader(
    http: httpx.AsyncClient, sim: SimClient, clock: ManualClock, balance: str = "10000"
) -> Trader:
    session = await sign_in(http, Wallet(), clock.now())
    account = await sim.create_account(balance)
    response = await http.post(
        "/api/v1/exchanges/accounts",
        headers=session.bearer(),
        json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
    )
    assert response.status_code == 201, response.text
    return Trader(http, session, account, response.json()["id"])


async def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    """Poll ``predicate`` (state another process or actor changes) until it holds."""
    with trio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 (polling state we are not notified of)
            await trio.sleep(0.05)
