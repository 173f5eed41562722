"""The venue modules read an account's funding payments with the real ccxt clients against
the simulator, page after page (Binance 1000 a page, Hyperliquid 500), exactly."""

from __future__ import annotations

from decimal import Decimal as D

from tests.sim.support import call
from testudo.exchanges.venues import venue_for
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.funding import HOUR_MS
from testudo.sim.model import OrderKind, OrderRequest, Side


def held_with_payments(sim: SimClient, account: SimAccount, venue: str, count: int) -> list[D]:
    """Open a 0.02 BTC long on ``venue`` and pay ``count`` past hourly funding times."""
    engine = sim.simulator.engines[venue]
    engine.place(
        account.account_id,
        OrderRequest(symbol="BTC_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D("0.02")),
    )
    start = (sim.simulator.now() // HOUR_MS - count - 1) * HOUR_MS
    return [p.amount for i in range(count) for p in engine.pay_funding(start + i * HOUR_MS)]


async def test_binance_funding_read_across_pages(sim: SimClient) -> None:
    exchange = "binance"
    account = await sim.create_account("10000")
    amounts = held_with_payments(sim, account, "binance", 1203)
    now = sim.simulator.now()
    read = await call(
        venue_for(exchange).funding_payments, sim.binance(account), "BTC_USDT", 0, now
    )
    assert [a for _, a in read] == amounts and sum(a for _, a in read) < 0
    times = [t for t, _ in read]
    assert times == sorted(times)
    # A span takes only its own payments (both ends included).
    some = await call(
        venue_for(exchange).funding_payments,
        sim.binance(account),
        "BTC_USDT",
        times[10],
        times[19],
    )
    assert some == read[10:20]
    assert (
        await call(venue_for(exchange).funding_payments, sim.binance(account), "ETH_USDT", 0) == []
    )


async def test_hyperliquid_funding_read_across_pages(sim: SimClient) -> None:
    account = await sim.create_account("10000")
    amounts = held_with_payments(sim, account, "hyperliquid", 1201)
    client = sim.hyperliquid(account)
    read = await call(venue_for("hyperliquid").funding_payments, client, "BTC_USDT", 0)
    assert [a for _, a in read] == amounts


async def test_venues_without_funding_history_report_none(sim: SimClient) -> None:
    account = await sim.create_account("10000")
    held_with_payments(sim, account, "okx", 3)
    assert venue_for("okx").funding_payments(sim.okx(account), "BTC_USDT", 0) == []
