"""An account created with ``hedge_mode`` shows it on every venue, as each venue reports it."""

from __future__ import annotations

import pytest

from testudo.sim.client import SimClient

from .support import call


async def test_every_venue_reports_hedge_mode(sim: SimClient) -> None:
    hedged = await sim.create_account("10000", hedge_mode=True)
    plain = await sim.create_account("10000")
    for account, expected in ((hedged, True), (plain, False)):
        binance = sim.binance(account)
        dual = await call(binance.fapiPrivateGetPositionSideDual)
        assert dual["dualSidePosition"] is expected
        okx = sim.okx(account)
        assert (await call(okx.fetch_position_mode, "BTC/USDT:USDT"))["hedged"] is expected
        woo = sim.woo(account)
        info = await call(woo.v3PrivateGetAccountInfo)
        assert info["data"]["positionMode"] == ("HEDGE_MODE" if expected else "ONE_WAY")
        bybit = sim.bybit(account)
        position = await call(bybit.fetch_position, "BTC/USDT:USDT")
        assert (int(position["info"]["positionIdx"]) in (1, 2)) is expected


@pytest.mark.parametrize("venue", ["okx", "woo", "bybit"])
async def test_a_hedged_account_cannot_trade_one_way_orders(sim: SimClient, venue: str) -> None:
    import ccxt

    account = await sim.create_account("10000", hedge_mode=True)
    client = getattr(sim, venue)(account)
    with pytest.raises(ccxt.BaseError):
        await call(client.create_order, "BTC/USDT:USDT", "market", "buy", 0.01)
