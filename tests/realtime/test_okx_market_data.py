"""Public market data from OKX: ticker, depth and trades on ``<kind>.<symbol>@okx``, with
sizes in base units (OKX's book and trades are in contracts of 0.01 BTC)."""

from __future__ import annotations

import functools
from decimal import Decimal as D
from pathlib import Path

import attrs
import trio

from api.process import Running, run_service
from tests.conftest import make_settings
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .support import connect, subscribe
from .test_market_data import FAST, Frames


async def test_okx_ticker_depth_and_trades(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"), exchange_base_url=sim.base_url, realtime=FAST
    )
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    account = await sim.create_account()
    channels = ["ticker.BTC_USDT@okx", "depth.BTC_USDT@okx", "trade.BTC_USDT@okx"]
    async with connect(running.ws_url) as ws:
        assert await subscribe(ws, *channels) == {"result": None, "id": 1}
        frames = Frames(ws)
        ticker = await frames.next_on(channels[0])
        assert (ticker["x"], ticker["s"], float(ticker["c"])) == ("okx", "BTC_USDT", 50_000)
        depth = await frames.next_on(channels[1])
        assert float(depth["bids"][0][0]) < 50_000 < float(depth["asks"][0][0])
        book = await trio.to_thread.run_sync(
            lambda: sim.okx(account).fetch_order_book("BTC/USDT:USDT", 20)
        )
        assert D(depth["bids"][0][1]) == D(str(book["bids"][0][1])) * D("0.01")
        client = sim.okx(account)
        await trio.to_thread.run_sync(  # 3 contracts: 0.03 BTC
            lambda: client.create_order("BTC/USDT:USDT", "market", "sell", 3)
        )
        trade = await frames.next_on(channels[2], lambda d: D(d["q"]) == D("0.03"))
        assert (trade["x"], trade["S"]) == ("okx", "sell")
        await sim.set_price("BTC_USDT", "49000", freeze=True)
        await frames.next_on(channels[0], lambda d: float(d["c"]) == 49_000)
    running.shutdown()
