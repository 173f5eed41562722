"""Funding in the journal: a trade open across a funding time carries the funding its position
paid or received, whichever path recorded it (closed through Testudo, or imported), and its
net P&L (gross - fees + funding) equals the account's balance change on the simulator."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from api.process import Running
from tests.journal.test_fees import CENT, import_again, imports_done, journal, wallet
from tests.protection.support import BINANCE, BYBIT, HYPERLIQUID, OKX, WOO, VenueCase
from tests.sim.support import call
from tests.trading.helpers import Trader
from testudo.clock import ManualClock
from testudo.journal.formulas import trade_figures
from testudo.journal.funding import funding_within
from testudo.sim.client import SimClient


async def held_across_funding(
    sim: SimClient, trader: Trader, side: str, venue: str, exchange: str
) -> tuple[dict[str, Any], D]:
    """Open through Testudo at 50000, pay one funding time, close by hand at 50500; the
    journal trade and the funding the simulator paid."""
    await imports_done(trader, 1)
    before = await wallet(sim, trader, venue)
    stop, target = ("49000", "53000") if side == "buy" else ("51000", "47000")
    created = await trader.post(
        {
            "symbol": "BTC_USDT",
            "side": side,
            "order_type": "market",
            "quantity": "0.02",
            "stop_loss_price": stop,
            "take_profit": [{"price": target}],
            "leverage": 2,
            "exchange_account_id": trader.account_id,
        }
    )
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    await trader.wait(group_id, lambda b: b["status"] == "active")
    await sim.set_funding_rate(exchange, "BTC_USDT", "0.0003")
    [payment] = await sim.pay_funding(exchange)
    await sim.set_price("BTC_USDT", "50500", freeze=True)
    closed = await trader.http.delete(f"/api/v1/trades/{group_id}", headers=trader.session.bearer())
    assert closed.status_code == 200, closed.text
    await trader.wait(group_id, lambda b: b["status"] == "closed")
    change = await wallet(sim, trader, venue) - before
    [trade] = await journal(trader)
    assert trade["trade_group_id"] == group_id
    funding = D(payment["amount"])
    assert funding != 0 and D(trade["funding"]) == funding, (trade, payment)
    assert D(trade["net_pnl"]) == D(trade["realized_pnl"]) - D(trade["fees"]) + funding
    assert D(trade["net_pnl"]).quantize(CENT) == change.quantize(CENT), (trade, change)
    return trade, funding


# Each venue with the side held across the funding time (a long pays a positive rate, a
# short receives it): both signs are seen, and every venue reports its funding its own way.
HELD = [(BINANCE, "buy"), (HYPERLIQUID, "sell"), (OKX, "buy"), (BYBIT, "sell"), (WOO, "buy")]


@pytest.mark.parametrize(("case", "side"), HELD, ids=[c.id for c, _ in HELD])
async def test_a_trade_carries_its_funding_and_an_import_fills_it_in(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    case: VenueCase,
    side: str,
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await case.link(xhttp, sim, clock)
    trade, funding = await held_across_funding(sim, trader, side, case.engine, case.prefix)
    assert (funding < 0) == (side == "buy")  # a long pays a positive rate, a short receives

    # The import recognises the fills (still one trade) and leaves the money as it is.
    await import_again(trader, clock, 2)
    [after] = await journal(trader)
    money = ("id", "fees", "funding", "net_pnl", "realized_pnl", "r_multiple")
    assert [after[k] for k in money] == [trade[k] for k in money]

    # A trade whose funding was not read (the exchange failed at close): the next import
    # reads it; importing again changes nothing.
    await exchange_service.system.db.execute(
        "UPDATE journal_trades SET funding = NULL, net_pnl = realized_pnl - fees WHERE id = %s",
        (trade["id"],),
    )
    assert (await journal(trader))[0]["funding"] is None
    await import_again(trader, clock, 3)
    [again] = await journal(trader)
    assert [again[k] for k in money] == [trade[k] for k in money]
    await import_again(trader, clock, 4)
    assert await journal(trader) == [again]


IMPORTED = [BINANCE, OKX, BYBIT, WOO]


@pytest.mark.parametrize("case", IMPORTED, ids=[c.id for c in IMPORTED])
async def test_an_imported_trade_carries_its_funding(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    case: VenueCase,
) -> None:
    """A round trip made outside Testudo: the import reads its funding."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await case.link(xhttp, sim, clock)
    await imports_done(trader, 1)
    before = await wallet(sim, trader, case.engine)
    client = case.client(sim, trader.account)
    await call(client.create_order, case.symbol, "market", "sell", case.amount("0.02"))
    [payment] = await sim.pay_funding(case.prefix)
    await sim.set_price("BTC_USDT", "49500", freeze=True)
    close = {"reduceOnly": True}
    await call(client.create_order, case.symbol, "market", "buy", case.amount("0.02"), None, close)
    change = await wallet(sim, trader, case.engine) - before
    await import_again(trader, clock, 2)
    [trade] = await journal(trader)
    assert trade["trade_group_id"] is None and D(trade["funding"]) == D(payment["amount"]) > 0
    assert D(trade["net_pnl"]).quantize(CENT) == change.quantize(CENT), (trade, change)


def test_a_trade_takes_the_payments_within_its_span_and_counts_them_in_net() -> None:
    payments = [(1000, D("-0.1")), (2000, D("0.25")), (3000, D("-0.05"))]
    assert funding_within(payments, 1000, 2000) == D("0.15")  # both ends included
    assert funding_within(payments, 1001, 2999) == D("0.25")
    assert funding_within(payments, 3001, 9000) == 0
    figures = trade_figures("LONG", D("100"), D("110"), D("2"), D("1"), funding=D("-0.5"))
    assert figures.net_pnl == D("18.5")  # 20 gross - 1 fees - 0.5 funding paid
