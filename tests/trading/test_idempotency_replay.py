"""A duplicate answers byte for byte what the first request was answered: the trader keeps
the outcome with the key and the API turns the stored outcome into the same HTTP answer."""

from __future__ import annotations

import httpx

from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .helpers import binance_trader, market_body

KEPT = ("content-type", "idempotency-key", "retry-after")


def _answer(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    return (
        response.status_code,
        response.content,
        {name: response.headers[name] for name in KEPT if name in response.headers},
    )


async def test_created_and_rejected_replay_byte_for_byte(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(market_body(), **{"Idempotency-Key": "k-created"})
    assert created.status_code == 201, created.text
    await sim.set_price("BTC_USDT", "51000", freeze=True)  # the group moves on; not the answer
    assert _answer(await trader.post(market_body(), **{"Idempotency-Key": "k-created"})) == (
        _answer(created)
    )
    risky = market_body(stop_loss_price="25000")
    rejected = await trader.post(risky, **{"Idempotency-Key": "k-rejected"})
    assert rejected.status_code == 422 and rejected.json()["error"] == "risk_rejected"
    assert _answer(await trader.post(risky, **{"Idempotency-Key": "k-rejected"})) == (
        _answer(rejected)
    )
