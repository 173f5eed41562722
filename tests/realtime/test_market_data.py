"""Market data: a feed per (exchange, symbol) polls the simulator while someone subscribes."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import trio
from trio_websocket import WebSocketConnection

from actors.realtime.market_data import RunningFeeds
from api.process import Running, run_service
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.realtime.settings import RealtimeSettings
from testudo.sim.client import SimClient

from .support import WAIT, connect, request, subscribe

FAST = RealtimeSettings(market_data_interval=0.1, market_data_linger=0.2)


class Frames:
    """A client's frames by stream, so waiting for one stream does not lose another's."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []

    async def next_on(
        self, stream: str, where: Callable[[dict[str, Any]], bool] = lambda d: True
    ) -> dict[str, Any]:
        """The first message of ``stream`` (received or coming) whose data satisfies ``where``."""
        with trio.fail_after(WAIT):
            while True:
                for i, frame in enumerate(self.pending):
                    if frame.get("stream") == stream and where(frame["data"]):
                        del self.pending[i]
                        return frame["data"]  # type: ignore[no-any-return]
                self.pending.append(json.loads(await self.ws.get_message()))


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    with trio.fail_after(WAIT):
        while True:
            if await check():
                return
            await trio.sleep(0.05)


async def test_feeds_poll_while_subscribed_and_stop_after(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock, sim: SimClient
) -> None:
    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"), exchange_base_url=sim.base_url, realtime=FAST
    )
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    assert running.system.realtime is not None and running.system.realtime.feeds is not None
    feeds = running.system.realtime.feeds

    async def running_feeds() -> list[tuple[str, str]]:
        return await feeds.ask(RunningFeeds())  # type: ignore[no-any-return]

    async with connect(running.ws_url) as ws, connect(running.ws_url) as other:
        channels = ["ticker.BTC_USDT", "depth.BTC_USDT", "trade.BTC_USDT"]
        assert await subscribe(ws, *channels) == {"result": None, "id": 1}
        assert await subscribe(other, "depth.BTC_USDT@hyperliquid") == {"result": None, "id": 1}
        frames, other_frames = Frames(ws), Frames(other)
        ticker = await frames.next_on("ticker.BTC_USDT")
        assert ticker["e"] == "24hrTicker" and ticker["s"] == "BTC_USDT"
        assert ticker["x"] == "binance" and float(ticker["c"]) == 50_000
        depth = await frames.next_on("depth.BTC_USDT")
        assert depth["bids"] and depth["asks"] and float(depth["bids"][0][0]) < 50_000
        assert await running_feeds() == [("binance", "BTC_USDT"), ("hyperliquid", "BTC_USDT")]

        await sim.set_price("BTC_USDT", "49000")
        await frames.next_on("ticker.BTC_USDT", lambda d: float(d["c"]) == 49_000)

        account = await sim.create_account()
        client = sim.binance(account)
        await trio.to_thread.run_sync(
            lambda: client.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
        )
        ours = await frames.next_on("trade.BTC_USDT", lambda d: float(d["q"]) == 0.01)
        assert ours["e"] == "trade" and ours["S"] == "buy" and ours["s"] == "BTC_USDT"

        other_depth = await other_frames.next_on("depth.BTC_USDT@hyperliquid")
        assert other_depth["x"] == "hyperliquid" and other_depth["bids"]

        unsubscribed = await request(ws, {"method": "UNSUBSCRIBE", "params": channels, "id": 2})
        assert unsubscribed == {"result": None, "id": 2}

        async def only_hyperliquid_left() -> bool:
            return await running_feeds() == [("hyperliquid", "BTC_USDT")]

        await eventually(only_hyperliquid_left)
    # both connections closed: every feed stops

    async def none_left() -> bool:
        return await running_feeds() == []

    await eventually(none_left)
    running.shutdown()
