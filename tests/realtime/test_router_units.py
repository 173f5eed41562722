"""The pure parts: outbox, router and sinks, channel names, market-data messages."""

from __future__ import annotations

import threading

import trio

from testudo.realtime import channels, market
from testudo.realtime.events import ws_text
from testudo.realtime.outbox import Outbox
from testudo.realtime.router import Delivery, StreamRouter, StreamSink

USER = "550e8400-e29b-41d4-a716-446655440000"


def f(text: str) -> bytes:
    return ws_text(text)


async def drain(outbox: Outbox) -> list[str]:
    out: list[str] = []
    while len(outbox):
        frames = await outbox.take(max_bytes=1)  # one frame at a time
        assert frames is not None and len(frames) == 1
        out.append(frames[0][2:].decode())
    return out


async def test_outbox_is_strict_first_and_conflates_public_frames() -> None:
    outbox = Outbox(4)
    for i in range(5):
        outbox.put_latest("ticker.X", f(f"t{i}"), keep=1)
        outbox.put_latest("trade.X", f(f"p{i}"), keep=3)
    assert outbox.put_text("ack")
    assert await drain(outbox) == ["ack", "t4", "p2", "p3", "p4"]


async def test_outbox_overflow_closes_as_slow_consumer_without_dropping_silently() -> None:
    outbox = Outbox(2)
    closed: list[bool] = []
    outbox.on_close = lambda: closed.append(True)
    assert outbox.put(f("a")) and outbox.put(f("b"))
    assert not outbox.put(f("c"))
    assert outbox.closing is not None and outbox.closing.code == 1013 and closed == [True]
    assert await outbox.take() is None  # nothing half-sent: the client resumes from its seq
    flushing = Outbox(4)
    flushing.put_text("error frame")
    flushing.close(1008, "too many messages", flush=True)
    assert await flushing.take() == [f("error frame")] and await flushing.take() is None


async def test_wait_room_paces_a_replay() -> None:
    outbox = Outbox(4)
    for i in range(4):
        outbox.put_text(str(i))
    waited = trio.Event()

    async def replay() -> None:
        assert await outbox.wait_room(2)
        waited.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(replay)
        await trio.testing.wait_all_tasks_blocked()
        assert not waited.is_set()
        assert await outbox.take(max_bytes=1) == [f("0")]
        assert await outbox.take(max_bytes=1) == [f("1")]
        await waited.wait()


def test_router_delivers_each_sequence_once_in_order() -> None:
    router = StreamRouter()
    woken: list[bool] = []
    router.on_dirty(lambda: woken.append(True))
    outbox = Outbox(100)
    sink = StreamSink("order.u", outbox, 0, 10)
    assert router.attach(sink, 3) == 3 and router.dirty == {"order.u"}  # new: catch up
    sink.floor = 3
    sink.go_live()
    assert router.deliver("order.u", 3, {}) is Delivery.DUPLICATE
    assert router.deliver("order.u", 5, {}) is Delivery.GAP and woken
    assert router.deliver("order.u", 4, {"e": 1}) is Delivery.DELIVERED
    assert router.deliver("other", 1, {}) is Delivery.UNTRACKED
    assert router.cursor("order.u") == 4 and len(outbox) == 1
    router.detach(sink)
    assert router.cursor("order.u") is None and not router.dirty


async def test_a_replaying_sink_buffers_live_events_and_never_repeats_one() -> None:
    router = StreamRouter()
    outbox = Outbox(100)
    sink = StreamSink("order.u", outbox, 0, 10)
    cursor = router.attach(sink, 10)
    sink.floor = 2  # the client resumes from 2; 3..10 come from the table
    router.deliver("order.u", 11, {"n": 11})
    router.deliver("order.u", 12, {"n": 12})
    assert len(outbox) == 0
    for seq in range(3, cursor + 1):
        sink.replayed(seq, f(str(seq)))
    sink.replayed(5, f("again"))  # a repeated row is ignored
    sink.go_live()
    router.deliver("order.u", 13, {"n": 13})
    frames = await drain(outbox)
    assert frames[:8] == [str(s) for s in range(3, 11)]
    assert ['"seq":11' in frames[8], '"seq":12' in frames[9], '"seq":13' in frames[10]] == [
        True
    ] * 3


def test_a_replay_buffer_overflow_closes_the_connection() -> None:
    outbox = Outbox(100)
    sink = StreamSink("order.u", outbox, 0, 2)
    for seq in (1, 2, 3):
        sink.offer(seq, f(str(seq)))
    assert outbox.closing is not None and outbox.closing.code == 1013


def test_failing_a_stream_closes_its_subscribers() -> None:
    router = StreamRouter()
    outbox = Outbox(10)
    router.attach(StreamSink("order.u", outbox, 0, 10), 0)
    router.fail("order.u", "resync")
    assert outbox.closing is not None and router.cursor("order.u") is None


def test_channel_names() -> None:
    ticker = channels.parse_channel("ticker.BTC_USDT@hyperliquid")
    assert ticker is not None and ticker.exchange == "hyperliquid" and not ticker.private
    assert channels.feed_key(ticker, "binance") == ("hyperliquid", "BTC_USDT")
    plain = channels.parse_channel("depth.ETH_USDT")
    assert plain is not None and channels.feed_key(plain, "binance") == ("binance", "ETH_USDT")
    assert channels.feed_streams("binance", "ETH_USDT", "depth", "binance") == (
        "depth.ETH_USDT",
        "depth.ETH_USDT@binance",
    )
    for bad in (
        "ticker.BTC_USDT@",
        "ticker.BTC_USDT@nowhere",
        "order.x@binance",
        "ticker.btc_usdt",
    ):
        assert channels.parse_channel(bad) is None
    trade = channels.parse_channel("trade.BTC_USDT@hyperliquid")
    assert trade is not None and channels.unavailable(trade, "binance") is not None


def test_market_messages() -> None:
    ticker = market.ticker_message(
        "binance", "BTC_USDT", {"last": 50000.0, "bid": 1e-05, "timestamp": 7}, 9
    )
    assert ticker["c"] == "50000.0" and ticker["b"] == "0.00001" and ticker["E"] == 7
    assert ticker["a"] is None
    book = {"bids": [[1.5, 2.0]] * 30, "asks": [[1.6, 1.0]]}
    depth = market.depth_message("binance", "BTC_USDT", book, 9)
    assert len(depth["bids"]) == market.DEPTH_LEVELS and depth["asks"] == [["1.6", "1.0"]]
    assert market.same_state(depth, {**depth, "E": 10})
    marks = market.TradeWatermark()
    first = [{"id": "1", "timestamp": 1}, {"id": "2", "timestamp": 2}]
    assert marks.fresh(first) == []  # history before the subscription is not replayed
    later = [*first, {"id": "3", "timestamp": 2}, {"id": "4", "timestamp": 3}]
    assert [t["id"] for t in marks.fresh(later)] == ["3", "4"]
    assert marks.fresh(later) == []


async def test_direct_writes_never_overtake_queued_or_in_flight_frames() -> None:
    written: list[bytes] = []
    accept = [100]  # bytes the "socket" takes per write

    def direct(data: bytes) -> int:
        n = min(accept[0], len(data))
        written.append(data[:n])
        return n

    outbox = Outbox(10)
    outbox.direct = direct
    assert outbox.put(b"aaaa") and len(outbox) == 0 and written == [b"aaaa"]
    accept[0] = 2
    outbox.put_latest("ticker.X", b"bbbb")  # partial: the rest is queued, strictly next
    accept[0] = 100
    outbox.put(b"cccc")  # something is queued: no direct write
    assert written == [b"aaaa", b"bb"]
    batch = await outbox.take()
    assert batch == [b"bb", b"cccc"]
    outbox.put(b"dddd")  # the writer has a batch in flight: queued behind it
    assert written == [b"aaaa", b"bb"] and len(outbox) == 1
    outbox.sent()
    assert await outbox.take() == [b"dddd"]
    outbox.sent()
    outbox.put(b"eeee")
    assert written[-1] == b"eeee" and len(outbox) == 0


def test_frames_are_rfc6455_server_text_frames_from_every_thread() -> None:
    """wsproto's framing: FIN + text opcode, unmasked, 7/16/64-bit lengths at their bounds."""
    for size, header in [
        (0, "8100"),
        (125, "817d"),
        (126, "817e007e"),
        (65535, "817effff"),
        (65536, "817f0000000000010000"),
    ]:
        text = "x" * size
        assert ws_text(text) == bytes.fromhex(header) + text.encode()
    assert ws_text("é") == b"\x81\x02" + "é".encode()
    results: list[bytes] = []

    def frame_many() -> None:
        results.extend(ws_text(f"{i}") for i in range(2000))

    threads = [threading.Thread(target=frame_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8000 and all(r[0] == 0x81 for r in results)
