"""The venue modules read an account's funding payments with the real ccxt clients against
the simulator, page after page, exactly: Binance's income (1000 a page), Hyperliquid's
userFunding (500), OKX's account bills (100, newest first, by bill id), Bybit's funding
executions (7-day windows, 100 a page by cursor) and WOO X's funding-fee history (500 a page
by page number)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tests.sim.support import call
from testudo.exchanges.venues import venue_for
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.funding import HOUR_MS
from testudo.sim.model import OrderKind, OrderRequest, Side

VENUES = ["binance", "hyperliquid", "okx", "bybit", "woo"]


def held_with_payments(sim: SimClient, account: SimAccount, venue: str, count: int) -> list[D]:
    """Open a 0.02 BTC long on ``venue`` and pay ``count`` past hourly funding times."""
    engine = sim.simulator.engines[venue]
    engine.place(
        account.account_id,
        OrderRequest(symbol="BTC_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D("0.02")),
    )
    start = (sim.simulator.now() // HOUR_MS - count - 1) * HOUR_MS
    return [p.amount for i in range(count) for p in engine.pay_funding(start + i * HOUR_MS)]


def client_of(sim: SimClient, venue: str, account: SimAccount) -> Any:
    client: Any = getattr(sim, venue)(account)
    return client


@pytest.mark.parametrize("venue", VENUES)
async def test_funding_read_across_pages(sim: SimClient, venue: str) -> None:
    account = await sim.create_account("10000")
    amounts = held_with_payments(sim, account, venue, 1203)
    client = client_of(sim, venue, account)
    read_all = venue_for(venue).funding_payments
    now = sim.simulator.now()
    read = await call(read_all, client, "BTC_USDT", 0, now)
    assert [a for _, a in read] == amounts and sum(a for _, a in read) < 0  # a long pays
    times = [t for t, _ in read]
    assert times == sorted(times)
    # A span takes only its own payments (both ends included); no end: up to now.
    assert await call(read_all, client, "BTC_USDT", times[10], times[19]) == read[10:20]
    assert await call(read_all, client, "BTC_USDT", times[-5]) == read[-5:]
    assert await call(read_all, client, "ETH_USDT", 0) == []


@pytest.mark.parametrize("venue", VENUES)
async def test_a_short_receives_a_positive_rate(sim: SimClient, venue: str) -> None:
    account = await sim.create_account("10000")
    engine = sim.simulator.engines[venue]
    engine.place(
        account.account_id,
        OrderRequest(symbol="BTC_USDT", side=Side.SELL, kind=OrderKind.MARKET, qty=D("0.02")),
    )
    [payment] = engine.pay_funding()
    assert payment.amount > 0
    read = await call(
        venue_for(venue).funding_payments, client_of(sim, venue, account), "BTC_USDT", 0
    )
    assert read == [(payment.time_ms, payment.amount)]
