"""Funding history of OKX (account bills), Bybit (funding executions) and WOO X (funding-fee
history), read with the real ccxt clients: each shows the payments the simulator charged, in
the venue's own shape and sign, and the wallet moved by exactly that."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.funding import HOUR_MS
from testudo.sim.model import OrderKind, OrderRequest, Side

from .support import call

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def hold(sim: SimClient, account: SimAccount, venue: str, side: Side, qty: str = "0.02") -> None:
    sim.simulator.engines[venue].place(
        account.account_id,
        OrderRequest(symbol="BTC_USDT", side=side, kind=OrderKind.MARKET, qty=D(qty)),
    )


async def wallet(sim: SimClient, account: SimAccount, venue: str) -> D:
    return D((await sim.state(account))["venues"][venue]["balance"]["wallet"])


async def paid_once(sim: SimClient, account: SimAccount, venue: str, side: Side) -> tuple[D, D]:
    """Hold 0.02 BTC on ``side``, pay one funding time at 0.03 %: (payment, wallet change)."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    hold(sim, account, venue, side)
    await sim.set_funding_rate(venue, "BTC_USDT", "0.0003")
    before = await wallet(sim, account, venue)
    [payment] = await sim.pay_funding(venue)
    return D(payment["amount"]), await wallet(sim, account, venue) - before


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_okx_bills_show_funding_with_its_sign(
    sim: SimClient, account: SimAccount, side: Side
) -> None:
    amount, change = await paid_once(sim, account, "okx", side)
    assert amount == change and (amount < 0) == (side is Side.BUY)
    client = sim.okx(account)
    [row] = await call(client.fetch_funding_history, BTC)
    info = row["info"]
    assert D(info["balChg"]) == D(info["pnl"]) == amount and row["amount"] == float(amount)
    assert (info["type"], info["subType"]) == ("8", "173" if amount < 0 else "174")
    assert (info["instId"], info["ccy"], row["symbol"]) == ("BTC-USDT-SWAP", "USDT", BTC)
    assert D(info["bal"]) == await wallet(sim, account, "okx")
    assert await call(client.fetch_funding_history, ETH) == []
    # The endpoints ccxt does not wrap: the recent bills, type filters, cursors.
    recent = (await call(client.privateGetAccountBills, {"type": "8"}))["data"]
    assert recent == [info]
    for params in ({"type": "2"}, {"subType": "1"}, {"after": info["billId"]}):
        found = await call(client.privateGetAccountBillsArchive, params)
        assert found["data"] == [], params
    older = {"before": str(int(info["billId"]) - 1), "instId": "BTC-USDT-SWAP"}
    assert (await call(client.privateGetAccountBillsArchive, older))["data"] == [info]


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_bybit_funding_executions_show_what_was_paid(
    sim: SimClient, account: SimAccount, side: Side
) -> None:
    amount, change = await paid_once(sim, account, "bybit", side)
    assert amount == change and (amount < 0) == (side is Side.BUY)
    client = sim.bybit(account)
    [row] = await call(client.fetch_funding_history, BTC)
    info = row["info"]
    # execFee is what the account paid (a fee's sign): ccxt's amount keeps it as it is.
    assert D(info["execFee"]) == -amount and row["amount"] == float(-amount)
    assert info["execType"] == "Funding" and info["side"] == ("Buy" if side is Side.BUY else "Sell")
    assert (info["feeRate"], info["execQty"], row["symbol"]) == ("0.0003", "0.020", BTC)
    assert await call(client.fetch_funding_history, ETH) == []
    # The trades list has no funding; the list without execType has both.
    trades = await call(client.fetch_my_trades, BTC)
    assert [t["info"]["execType"] for t in trades] == ["Trade"]
    both = await call(client.privateGetV5ExecutionList, {"category": "linear"})
    assert sorted(e["execType"] for e in both["result"]["list"]) == ["Funding", "Trade"]
    later = {"category": "linear", "execType": "Funding", "startTime": int(row["timestamp"]) + 1}
    assert (await call(client.privateGetV5ExecutionList, later))["result"]["list"] == []


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_woo_funding_fee_history_says_pay_or_receive(
    sim: SimClient, account: SimAccount, side: Side
) -> None:
    amount, change = await paid_once(sim, account, "woo", side)
    assert amount == change and (amount < 0) == (side is Side.BUY)
    client = sim.woo(account)
    [row] = await call(client.fetch_funding_history, BTC)
    info = row["info"]
    assert D(info["fundingFee"]) == abs(amount) and row["amount"] == float(amount)
    assert info["paymentType"] == ("Pay" if amount < 0 else "Receive")
    assert (info["symbol"], row["symbol"], info["status"]) == ("PERP_BTC_USDT", BTC, "COMPLETED")
    assert await call(client.fetch_funding_history, ETH) == []
    since = int(row["timestamp"]) + 1
    assert await call(client.fetch_funding_history, BTC, since) == []


async def test_woo_pages_newest_first(sim: SimClient, account: SimAccount) -> None:
    hold(sim, account, "woo", Side.BUY)
    engine = sim.simulator.engines["woo"]
    start = (sim.simulator.now() // HOUR_MS - 10) * HOUR_MS
    for i in range(7):
        engine.pay_funding(start + i * HOUR_MS)
    client: Any = sim.woo(account)
    first = await call(client.v3PrivateGetFuturesFundingFeeHistory, {"size": 3})
    assert first["data"]["meta"] == {"total": 7, "recordsPerPage": 3, "currentPage": 1}
    times = [r["updatedTime"] for r in first["data"]["rows"]]
    assert times == [start + i * HOUR_MS for i in (6, 5, 4)]
    last = await call(client.v3PrivateGetFuturesFundingFeeHistory, {"size": 3, "page": 3})
    assert [r["updatedTime"] for r in last["data"]["rows"]] == [start]
