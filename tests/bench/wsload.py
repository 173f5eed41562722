"""WebSocket fan-out load client: N connections to one stream, driven over stdin/stdout.

    python tests/bench/wsload.py ws://127.0.0.1:4000/ws -n 1000 --stream order.<uid> \
        --header "Authorization: Bearer <token>"

A minimal client (raw sockets, our own frame parser, like ``loadgen.py`` for HTTP) so that
the client side costs as little CPU as possible. It opens the connections, subscribes each
one and prints ``{"ready": n}``; then it reads one JSON command per stdin line and answers
with one JSON line:

* ``{"cmd": "latency"}``: from now on, record each event's latency (``now - data.t``;
  ``t`` is the publisher's ``time.monotonic()``, system-wide on Linux) → ``{"ok": true}``;
* ``{"cmd": "report"}`` → ``{"received", "p50_ms", "p99_ms", "max_ms", "closed"}``;
* ``{"cmd": "expect", "count": k}`` → ``{"ok": true}``, then ``{"last": t, "received": n}``
  once every connection has received ``k`` more events (``t``: monotonic time of the last);
* ``{"cmd": "quit"}``.

Every wait is bounded, so a lost event turns into an error line, never a hang.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import trio

CONNECT_CONCURRENCY = 200
WAIT = float(os.environ.get("WSLOAD_WAIT", "120"))


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame (clients must mask)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return header + mask + masked


class FrameParser:
    """Server frames (unmasked) out of a byte stream."""

    def __init__(self, initial: bytes = b"") -> None:
        self.buffer = bytearray(initial)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self.buffer
        buf += data
        frames = []
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            opcode = buf[pos] & 0x0F
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if end - pos < head + length:
                break
            frames.append((opcode, bytes(buf[pos + head : pos + head + length])))
            pos += head + length
        del buf[:pos]
        return frames


class Load:
    def __init__(self, n: int) -> None:
        self.n = n
        self.ready = 0
        self.all_ready = trio.Event()
        self.recording = False
        self.latencies: list[float] = []
        self.received = 0
        self.closed = 0
        self.expect = 0
        self.counts = [0] * n
        self.done = 0
        self.all_done = trio.Event()
        self.last = 0.0

    def on_event(self, index: int, payload: bytes) -> None:
        now = time.monotonic()
        self.received += 1
        if self.recording:
            data = json.loads(payload)["data"]
            self.latencies.append(now - data["t"])
        if self.expect:
            self.counts[index] += 1
            if self.counts[index] == self.expect:
                self.done += 1
                self.last = now
                if self.done == self.n:
                    self.all_done.set()


async def one_client(
    index: int,
    url: str,
    headers: list[str],
    stream_name: str,
    load: Load,
    limiter: trio.CapacityLimiter,
) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    async with limiter:  # connect and handshake a bounded number at a time
        stream = await trio.open_tcp_stream(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + "".join(f"{h}\r\n" for h in headers)
            + "\r\n"
        )
        await stream.send_all(request.encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = await stream.receive_some(4096)
            if not chunk:
                raise RuntimeError("connection closed during the handshake")
            buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"handshake refused: {head[:80]!r}")
    subscribe = {"method": "SUBSCRIBE", "params": [stream_name], "id": 1}
    await stream.send_all(client_frame(1, json.dumps(subscribe).encode()))
    parser = FrameParser()
    acked = False
    pending = parser.feed(rest)
    while True:
        for opcode, payload in pending:
            if opcode == 1:
                if not acked:
                    if b'"result"' not in payload:
                        raise RuntimeError(f"subscribe refused: {payload[:200]!r}")
                    acked = True
                    load.ready += 1
                    if load.ready == load.n:
                        load.all_ready.set()
                else:
                    load.on_event(index, payload)
            elif opcode == 9:
                await stream.send_all(client_frame(10, payload))
            elif opcode == 8:
                load.closed += 1
                return
        data = await stream.receive_some(65536)
        if not data:
            load.closed += 1
            return
        pending = parser.feed(data)


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def run(args: argparse.Namespace) -> None:
    raise_fd_limit(args.connections + 256)
    load = Load(args.connections)
    began = time.monotonic()
    async with trio.open_nursery() as nursery:
        limiter = trio.CapacityLimiter(CONNECT_CONCURRENCY)
        for i in range(args.connections):
            nursery.start_soon(one_client, i, args.url, args.header, args.stream, load, limiter)
        with trio.move_on_after(WAIT):
            await load.all_ready.wait()
        if load.ready < load.n:
            raise RuntimeError(f"only {load.ready} of {load.n} connections subscribed")
        emit({"ready": load.ready, "seconds": round(time.monotonic() - began, 2)})
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                break
            command = json.loads(line)
            if command["cmd"] == "latency":
                load.latencies.clear()
                load.received = 0
                load.recording = True
                emit({"ok": True})
            elif command["cmd"] == "report":
                load.recording = False
                lat = load.latencies or [0.0]
                emit(
                    {
                        "received": load.received,
                        "p50_ms": round(statistics.median(lat) * 1000, 2),
                        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
                        "max_ms": round(max(lat) * 1000, 2),
                        "closed": load.closed,
                    }
                )
            elif command["cmd"] == "expect":
                load.counts = [0] * load.n
                load.done = 0
                load.all_done = trio.Event()
                load.received = 0
                load.expect = int(command["count"])
                emit({"ok": True})
                with trio.move_on_after(WAIT):
                    await load.all_done.wait()
                load.expect = 0
                emit({"last": load.last, "received": load.received, "closed": load.closed})
            elif command["cmd"] == "quit":
                break
        nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("-n", "--connections", type=int, default=1000)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--header", action="append", default=[])
    trio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
