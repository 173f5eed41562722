"""Public market data from the API-key venues: ticker, depth and trades on
``<kind>.<symbol>@<venue>``, with sizes in base units (OKX's book and trades are in contracts
of 0.01 BTC; Bybit and WOO X count in BTC)."""

from __future__ import annotations

import functools
from decimal import Decimal as D
from pathlib import Path

import attrs
import pytest
import trio

from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .support import connect, subscribe
from .test_market_data import FAST, Frames


@attrs.frozen
class Feed:
    venue: str
    contract: D  # base units per unit of the venue's book and orders
    sold: D  # what the test sells, in the venue's units


FEEDS = [Feed("bybit", D(1), D("0.01")), Feed("okx", D("0.01"), D(3)), Feed("woo", D(1), D("0.01"))]


@pytest.mark.parametrize("feed", FEEDS, ids=[f.venue for f in FEEDS])
async def test_ticker_depth_and_trades(
    nursery: trio.Nursery,
    db_url: str,
    tmp_path: Path,
    clock: ManualClock,
    sim: SimClient,
    feed: Feed,
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"), exchange_base_url=sim.base_url, realtime=FAST
    )
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    client = getattr(sim, feed.venue)(await sim.create_account())
    channels = [f"{kind}.BTC_USDT@{feed.venue}" for kind in ("ticker", "depth", "trade")]
    async with connect(running.ws_url) as ws:
        assert await subscribe(ws, *channels) == {"result": None, "id": 1}
        frames = Frames(ws)
        ticker = await frames.next_on(channels[0])
        assert (ticker["x"], ticker["s"], float(ticker["c"])) == (feed.venue, "BTC_USDT", 50_000)
        depth = await frames.next_on(channels[1])
        assert float(depth["bids"][0][0]) < 50_000 < float(depth["asks"][0][0])
        book = await trio.to_thread.run_sync(lambda: client.fetch_order_book("BTC/USDT:USDT", 20))
        assert D(depth["bids"][0][1]) == D(str(book["bids"][0][1])) * feed.contract
        await trio.to_thread.run_sync(
            lambda: client.create_order("BTC/USDT:USDT", "market", "sell", float(feed.sold))
        )
        sold = feed.sold * feed.contract
        trade = await frames.next_on(channels[2], lambda d: D(d["q"]) == sold)
        assert (trade["x"], trade["S"]) == (feed.venue, "sell")
        await sim.set_price("BTC_USDT", "49000", freeze=True)
        await frames.next_on(channels[0], lambda d: float(d["c"]) == 49_000)
    running.shutdown()
