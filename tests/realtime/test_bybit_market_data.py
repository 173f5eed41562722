"""Public market data from Bybit: ticker, depth and trades on ``<kind>.<symbol>@bybit``."""

from __future__ import annotations

import functools
from pathlib import Path

import attrs
import trio

from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .support import connect, subscribe
from .test_market_data import FAST, Frames


async def test_bybit_ticker_depth_and_trades(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"), exchange_base_url=sim.base_url, realtime=FAST
    )
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    channels = ["ticker.BTC_USDT@bybit", "depth.BTC_USDT@bybit", "trade.BTC_USDT@bybit"]
    async with connect(running.ws_url) as ws:
        assert await subscribe(ws, *channels) == {"result": None, "id": 1}
        frames = Frames(ws)
        ticker = await frames.next_on(channels[0])
        assert (ticker["x"], ticker["s"], float(ticker["c"])) == ("bybit", "BTC_USDT", 50_000)
        depth = await frames.next_on(channels[1])
        assert float(depth["bids"][0][0]) < 50_000 < float(depth["asks"][0][0])
        client = sim.bybit(await sim.create_account())
        await trio.to_thread.run_sync(
            lambda: client.create_order("BTC/USDT:USDT", "market", "sell", 0.01)
        )
        trade = await frames.next_on(channels[2], lambda d: float(d["q"]) == 0.01)
        assert (trade["x"], trade["S"]) == ("bybit", "sell")
        await sim.set_price("BTC_USDT", "49000", freeze=True)
        await frames.next_on(channels[0], lambda d: float(d["c"]) == 49_000)
    running.shutdown()
