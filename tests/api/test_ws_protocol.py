"""The WebSocket skeleton on port 4000: acks, errors with codes, limits."""

from __future__ import annotations

import json
from typing import Any

import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from api.process import Running
from api.ws.protocol import ErrorCode, parse_channel, parse_request

USER = "550e8400-e29b-41d4-a716-446655440000"


async def roundtrip(ws: Any, message: Any) -> dict[str, Any]:
    await ws.send_message(message if isinstance(message, str) else json.dumps(message))
    with trio.fail_after(5):
        return json.loads(await ws.get_message())  # type: ignore[no-any-return]


async def test_subscribe_unsubscribe_list(service: Running) -> None:
    async with open_websocket_url(service.ws_url + "/ws") as ws:
        ack = await roundtrip(
            ws, {"method": "SUBSCRIBE", "params": ["ticker.BTC_USDT", "depth.ETH_USDT"], "id": 1}
        )
        assert ack == {"result": None, "id": 1}
        listed = await roundtrip(ws, {"method": "LIST_SUBSCRIPTIONS", "id": "two"})
        assert listed == {"result": ["depth.ETH_USDT", "ticker.BTC_USDT"], "id": "two"}
        assert await roundtrip(
            ws, {"method": "UNSUBSCRIBE", "params": ["depth.ETH_USDT"], "id": 3}
        ) == {"result": None, "id": 3}
        agent = await roundtrip(ws, {"type": "subscribe", "channel": "trade.SOL_USDT"})
        assert agent == {"result": None, "id": None}
        listed = await roundtrip(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4})
        assert listed["result"] == ["ticker.BTC_USDT", "trade.SOL_USDT"]


async def test_errors_have_codes_and_keep_the_connection(service: Running) -> None:
    async with open_websocket_url(service.ws_url) as ws:
        bad_json = await roundtrip(ws, "{not json")
        assert bad_json["error"]["code"] == ErrorCode.INVALID_JSON
        unknown = await roundtrip(ws, {"method": "FROB", "params": [], "id": 7})
        assert unknown == {
            "error": {"code": 2, "msg": "Invalid request: unknown method 'FROB'"},
            "id": 7,
        }
        await trio.sleep(1.1)  # stay under the message rate limit
        channel = await roundtrip(ws, {"method": "SUBSCRIBE", "params": ["ticker.btc"], "id": 8})
        assert channel["error"]["code"] == ErrorCode.INVALID_CHANNEL and channel["id"] == 8
        private = await roundtrip(ws, {"method": "SUBSCRIBE", "params": [f"order.{USER}"], "id": 9})
        assert private["error"]["code"] == ErrorCode.UNAUTHORIZED
        still_open = await roundtrip(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 10})
        assert still_open == {"result": [], "id": 10}


async def test_too_many_messages_gets_an_error_then_close(service: Running) -> None:
    async with open_websocket_url(service.ws_url) as ws:
        for i in range(6):
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        answers = []
        try:
            with trio.fail_after(5):
                while True:
                    answers.append(json.loads(await ws.get_message()))
        except ConnectionClosed as closed:
            assert closed.reason.code == 1008
        assert answers[-1]["error"]["code"] == ErrorCode.TOO_MANY_MESSAGES
        assert len(answers) == 6


def test_parse_request_rules() -> None:
    assert parse_request(b"[1]").code == ErrorCode.INVALID_REQUEST  # type: ignore[union-attr]
    assert parse_request('{"method":"SUBSCRIBE","params":[1],"id":1}').code == 1  # type: ignore[union-attr]
    assert parse_request('{"method":"SUBSCRIBE","id":true}').code == 1  # type: ignore[union-attr]
    assert parse_request('{"method":"SUBSCRIBE","x":1,"id":1}').code == 0  # type: ignore[union-attr]
    channel = f"order.{USER}"
    ok = parse_request(
        json.dumps({"method": "SUBSCRIBE", "params": [channel], "id": 1, "since": {channel: 4}})
    )
    assert not hasattr(ok, "code") and ok.since == {f"order.{USER}": 4}  # type: ignore[union-attr]
    stray = parse_request('{"method":"SUBSCRIBE","params":[],"id":1,"since":{"a":4}}')
    assert stray.code == ErrorCode.INVALID_VALUE  # type: ignore[union-attr]


def test_channel_names() -> None:
    assert parse_channel(f"order.{USER}").user_id == USER  # type: ignore[union-attr]
    assert parse_channel("ticker.BTC_USDT").symbol == "BTC_USDT"  # type: ignore[union-attr]
    for bad in ("order.42", "ticker.BTCUSDT", "candles.BTC_USDT", "", 5, f"order.{USER}x"):
        assert parse_channel(bad) is None


async def test_stream_limit_channel_rules_and_resubscribe(service: Running) -> None:
    symbols = [f"S{i}_USDT" for i in range(342)]
    many = [f"{kind}.{s}" for s in symbols for kind in ("depth", "trade", "ticker")][:1024]
    async with open_websocket_url(service.ws_url) as ws:
        full = await roundtrip(ws, {"method": "SUBSCRIBE", "params": many, "id": 1})
        assert full == {"result": None, "id": 1}
        again = await roundtrip(ws, {"method": "SUBSCRIBE", "params": many[:10], "id": 2})
        assert again == {"result": None, "id": 2}  # already subscribed: no new stream
        over = await roundtrip(ws, {"method": "SUBSCRIBE", "params": ["ticker.ZZ_USDT"], "id": 3})
        assert over["error"]["code"] == ErrorCode.TOO_MANY_STREAMS and over["id"] == 3
        listed = await roundtrip(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4})
        assert len(listed["result"]) == 1024
    async with open_websocket_url(service.ws_url) as ws:
        other = await roundtrip(
            ws, {"method": "SUBSCRIBE", "params": ["ticker.BTC_USDT@hyperliquid"], "id": 1}
        )
        assert other == {"result": None, "id": 1}
        unknown = await roundtrip(
            ws, {"method": "SUBSCRIBE", "params": ["ticker.BTC_USDT@nowhere"], "id": 2}
        )
        assert unknown["error"]["code"] == ErrorCode.INVALID_CHANNEL
        no_trades = await roundtrip(
            ws, {"method": "SUBSCRIBE", "params": ["trade.BTC_USDT@hyperliquid"], "id": 3}
        )
        assert no_trades["error"] == {
            "code": ErrorCode.INVALID_CHANNEL,
            "msg": "Invalid channel: trade streams are not available on hyperliquid",
        }
        bad_unsub = await roundtrip(ws, {"method": "UNSUBSCRIBE", "params": ["nope"], "id": 4})
        assert bad_unsub["error"]["code"] == ErrorCode.INVALID_CHANNEL
        await trio.sleep(1.1)  # stay under the message rate limit
        gone = await roundtrip(
            ws, {"type": "unsubscribe", "channel": "ticker.BTC_USDT@hyperliquid"}
        )
        assert gone == {"result": None, "id": None}
        assert await roundtrip(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 5}) == {
            "result": [],
            "id": 5,
        }


async def test_request_shape_errors(service: Running) -> None:
    cases: list[tuple[Any, int]] = [
        ("[1, 2]", ErrorCode.INVALID_REQUEST),
        ({"method": "SUBSCRIBE", "params": "ticker.BTC_USDT", "id": 1}, ErrorCode.INVALID_VALUE),
        ({"method": "SUBSCRIBE", "params": [], "id": {"x": 1}}, ErrorCode.INVALID_VALUE),
        ({"method": "SUBSCRIBE", "params": [], "id": 1, "extra": 1}, ErrorCode.UNKNOWN_PROPERTY),
        (
            {"method": "SUBSCRIBE", "params": ["ticker.BTC_USDT"], "since": {"x": 1}, "id": 1},
            ErrorCode.INVALID_VALUE,
        ),
        (
            {"method": "SUBSCRIBE", "params": [f"order.{USER}"], "since": {f"order.{USER}": -1}},
            ErrorCode.INVALID_VALUE,
        ),
        ({"type": "subscribe"}, ErrorCode.INVALID_REQUEST),
        (
            {"type": "subscribe", "channel": "ticker.BTC_USDT", "since": "x"},
            ErrorCode.INVALID_VALUE,
        ),
    ]
    async with open_websocket_url(service.ws_url) as ws:
        for i, (message, code) in enumerate(cases):
            if i and i % 4 == 0:
                await trio.sleep(1.1)  # stay under the message rate limit
            answer = await roundtrip(ws, message)
            assert answer["error"]["code"] == code, (message, answer)
            assert set(answer) == {"error", "id"} and set(answer["error"]) == {"code", "msg"}


def test_agent_form_with_since() -> None:
    parsed = parse_request(
        json.dumps({"type": "subscribe", "channel": f"order.{USER}", "since": 41, "id": "a1"})
    )
    assert parsed.since == {f"order.{USER}": 41} and parsed.id == "a1"  # type: ignore[union-attr]
    assert parse_channel("depth.ETH_USDT@binance").exchange == "binance"  # type: ignore[union-attr]
