"""Ceiling: a bare trio-websocket broadcast server (no database, no auth, no protocol checks).

    python tests/bench/apps/bare_ws_broadcast.py <ws port> <control port>

Each connection's first message is taken as its subscription and acknowledged; after that it
gets every broadcast through its own bounded queue and writer task (the minimum a fan-out
server needs). The control port takes lines: ``publish <t> <i>`` broadcasts one event,
``burst <k> <t>`` broadcasts ``k`` events at once. Frames have the same shape and size as
Testudo's private-stream events.
"""

from __future__ import annotations

import json
import sys

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

STREAM = "order.00000000-0000-0000-0000-000000000000"
QUEUE = 1024

subscribers: set[trio.MemorySendChannel[str]] = set()


def frame(t: float, i: int) -> str:
    data = {"e": "bench", "i": i, "t": t, "seq": i}
    return json.dumps({"stream": STREAM, "data": data}, separators=(",", ":"))


def broadcast(text: str) -> None:
    for send in list(subscribers):
        try:
            send.send_nowait(text)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            subscribers.discard(send)


async def handler(request: WebSocketRequest) -> None:
    ws = await request.accept()
    send, receive = trio.open_memory_channel[str](QUEUE)

    async def writer() -> None:
        async for text in receive:
            await ws.send_message(text)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            await ws.get_message()
            send.send_nowait('{"result":null,"id":1}')
            subscribers.add(send)
            try:
                while True:
                    await ws.get_message()
            finally:
                subscribers.discard(send)
                nursery.cancel_scope.cancel()
    except ConnectionClosed:
        pass


async def control(stream: trio.SocketStream) -> None:
    buffer = b""
    seq = 0
    while True:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, _, buffer = buffer.partition(b"\n")
            words = line.decode().split()
            if words[0] == "publish":
                seq += 1
                broadcast(frame(float(words[1]), seq))
            elif words[0] == "burst":
                t = float(words[2])
                for _ in range(int(words[1])):
                    seq += 1
                    broadcast(frame(t, seq))
            await stream.send_all(b"ok\n")


async def main(ws_port: int, control_port: int) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: serve_websocket(
                handler, "127.0.0.1", ws_port, ssl_context=None, message_queue_size=8
            )
        )
        nursery.start_soon(trio.serve_tcp, control, control_port)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]), int(sys.argv[2]))
