"""The journal tells the truth about money: a trade placed and closed through Testudo carries
its fills' fees, its net P&L equals the account's balance change on the simulator (to the
cent), and a later import fills in fees that a recorded trade lacks instead of skipping them."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import httpx
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.exchanges.test_agent_wallet import approved_account
from tests.trading.helpers import Trader, binance_trader
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

CENT = D("0.01")


async def wallet(sim: SimClient, trader: Trader, venue: str) -> D:
    return D((await sim.state(trader.account))["venues"][venue]["balance"]["wallet"])


async def journal(trader: Trader) -> list[dict[str, Any]]:
    response = await trader.http.get("/api/v1/journal/trades", headers=trader.session.bearer())
    assert response.status_code == 200, response.text
    return response.json()["trades"]  # type: ignore[no-any-return]


async def imports_done(trader: Trader, count: int) -> None:
    jobs: list[dict[str, Any]] = []
    with trio.move_on_after(30):
        while True:
            jobs = (
                await trader.http.get(
                    "/api/v1/trades/import/status", headers=trader.session.bearer()
                )
            ).json()
            if len(jobs) >= count and all(j["status"] == "completed" for j in jobs):
                return
            await trio.sleep(0.1)
    raise AssertionError(f"imports did not complete: {jobs}")


async def round_trip(sim: SimClient, trader: Trader, side: str, venue: str) -> dict[str, Any]:
    """Open at 50000, close by hand at 50500; the journal trade it leaves."""
    await imports_done(trader, 1)  # the import adding the account started
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
    await sim.set_price("BTC_USDT", "50500", freeze=True)
    closed = await trader.http.delete(f"/api/v1/trades/{group_id}", headers=trader.session.bearer())
    assert closed.status_code == 200, closed.text
    await trader.wait(group_id, lambda b: b["status"] == "closed")
    change = await wallet(sim, trader, venue) - before
    [trade] = await journal(trader)
    assert trade["trade_group_id"] == group_id
    assert D(trade["fees"]) > 0, trade
    assert D(trade["net_pnl"]).quantize(CENT) == change.quantize(CENT), (trade, change)
    assert D(trade["net_pnl"]) == D(trade["realized_pnl"]) - D(trade["fees"])
    return trade


async def import_again(trader: Trader, clock: ManualClock, jobs: int) -> None:
    """Import the account's history up to a minute later (the fills are behind the clock)."""
    clock.advance(60)
    started = await trader.http.post(
        "/api/v1/trades/import",
        headers=trader.session.bearer(),
        json={"exchange_account_id": trader.account_id},
    )
    assert started.status_code == 202, started.text
    await imports_done(trader, jobs)


async def test_binance_trade_fees_match_the_balance_and_an_import_fills_them_in(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    trade = await round_trip(sim, trader, "buy", "binance")
    fees = D(trade["fees"])

    # A trade recorded without its fees (as Testudo did before it read them): the next import
    # sees the same fills and fills the fees in, instead of skipping them as duplicates.
    await exchange_service.system.db.execute(
        "UPDATE journal_trades SET fees = 0, net_pnl = realized_pnl WHERE id = %s",
        (trade["id"],),
    )
    await import_again(trader, clock, 2)
    [after] = await journal(trader)
    assert after["id"] == trade["id"] and after["trade_group_id"] == trade["trade_group_id"]
    assert D(after["fees"]) == fees and after["net_pnl"] == trade["net_pnl"]
    assert after["r_multiple"] == trade["r_multiple"]

    # Importing once more changes nothing.
    await import_again(trader, clock, 3)
    assert await journal(trader) == [after]


async def test_hyperliquid_trade_fees_match_the_balance(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    session = await sign_in(xhttp, Wallet(), clock.now())
    owner = await sim.create_account("10000")
    account_id = await approved_account(xhttp, session, owner)
    trader = Trader(xhttp, session, owner, account_id)
    trade = await round_trip(sim, trader, "sell", "hyperliquid")
    await import_again(trader, clock, 2)
    [after] = await journal(trader)  # the import recognised the fills: still one trade
    money = ("id", "fees", "net_pnl", "realized_pnl", "r_multiple")
    assert [after[k] for k in money] == [trade[k] for k in money]
