"""WebSocket fan-out load client: N connections to one stream, driven over stdin/stdout.

    python tests/bench/wsload.py ws://127.0.0.1:4000/ws -n 1000 --stream order.<uid> \
        --header "Authorization: Bearer <token>"

Written to cost as little CPU per received message as possible, so that the server is what is
measured: one thread, one ``epoll`` over non-blocking sockets, our own frame parser (like
``loadgen.py`` for HTTP). It opens the connections, subscribes each one and prints
``{"ready": n}``; then it reads one JSON command per stdin line and answers with JSON lines:

* ``{"cmd": "latency"}``: from now on, record each event's latency (``now - data.t``;
  ``t`` is the publisher's ``time.monotonic()``, system-wide on Linux) → ``{"ok": true}``;
* ``{"cmd": "report"}`` → ``{"received", "p50_ms", "p99_ms", "max_ms", "closed"}``;
* ``{"cmd": "expect", "count": k}`` → ``{"ok": true}``, then ``{"last": t, "received": n}``
  once every connection has received ``k`` more events (``t``: monotonic time of the last);
* ``{"cmd": "quit"}``.

Every wait is bounded (``WSLOAD_WAIT`` seconds), so a lost event shows as a short count.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import select
import socket
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlsplit

WAIT = float(os.environ.get("WSLOAD_WAIT", "120"))
HANDSHAKE_BATCH = 200


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


class Connection:
    """One client socket and its unparsed bytes."""

    __slots__ = ("acked", "buffer", "count", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.acked = False
        self.count = 0


class Load:
    def __init__(self, n: int) -> None:
        self.n = n
        self.ready = 0
        self.recording = False
        self.latencies: list[float] = []
        self.received = 0
        self.closed = 0
        self.expect = 0
        self.done = 0
        self.last = 0.0
        self.conns: dict[int, Connection] = {}
        self.poll = select.epoll()

    # -- connecting -------------------------------------------------------------------------

    def connect(self, url: str, headers: list[str], stream: str) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        subscribe = client_frame(
            1, json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 1}).encode()
        )
        extra = "".join(f"{h}\r\n" for h in headers)
        for start in range(0, self.n, HANDSHAKE_BATCH):
            batch = []
            for _ in range(min(HANDSHAKE_BATCH, self.n - start)):
                sock = socket.create_connection((host, port), timeout=WAIT)
                key = base64.b64encode(os.urandom(16)).decode()
                sock.sendall(
                    (
                        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
                    ).encode()
                )
                batch.append(sock)
            for sock in batch:
                response = b""
                while b"\r\n\r\n" not in response:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise RuntimeError("connection closed during the handshake")
                    response += chunk
                head, _, rest = response.partition(b"\r\n\r\n")
                if b" 101 " not in head.split(b"\r\n", 1)[0]:
                    raise RuntimeError(f"handshake refused: {head[:80]!r}")
                sock.sendall(subscribe)
                sock.setblocking(False)
                conn = Connection(sock)
                conn.buffer = rest
                self.conns[sock.fileno()] = conn
                self.poll.register(sock.fileno(), select.EPOLLIN)
        deadline = time.monotonic() + WAIT
        while self.ready < self.n and time.monotonic() < deadline:
            self.pump(0.5)
        if self.ready < self.n:
            raise RuntimeError(f"only {self.ready} of {self.n} connections subscribed")

    # -- receiving --------------------------------------------------------------------------

    def pump(self, timeout: float) -> None:
        """Wait up to ``timeout`` for data and process everything that arrived."""
        for fd, _ in self.poll.poll(timeout):
            conn = self.conns.get(fd)
            if conn is None:
                continue
            try:
                data = conn.sock.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self.poll.unregister(fd)
                del self.conns[fd]
                self.closed += 1
                continue
            self.frames(conn, conn.buffer + data if conn.buffer else data)

    def frames(self, conn: Connection, buf: bytes) -> None:
        pos, end = 0, len(buf)
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
            stop = pos + head + length
            if stop > end:
                break
            if opcode == 1:
                if conn.acked:
                    self.event(conn, buf[pos + head : stop])
                else:
                    if b'"result"' not in buf[pos + head : stop]:
                        raise RuntimeError(f"subscribe refused: {buf[pos + head : stop]!r}")
                    conn.acked = True
                    self.ready += 1
            elif opcode == 9:
                conn.sock.sendall(client_frame(10, buf[pos + head : stop]))
            elif opcode == 8:
                self.closed += 1
            pos = stop
        conn.buffer = buf[pos:]

    def event(self, conn: Connection, payload: bytes) -> None:
        self.received += 1
        if self.recording:
            now = time.monotonic()
            self.latencies.append(now - json.loads(payload)["data"]["t"])
        if self.expect:
            conn.count += 1
            if conn.count == self.expect:
                self.done += 1
                self.last = time.monotonic()

    # -- commands ---------------------------------------------------------------------------

    def wait_all(self, count: int) -> None:
        for conn in self.conns.values():
            conn.count = 0
        self.done = 0
        self.received = 0
        self.expect = count
        emit({"ok": True})
        deadline = time.monotonic() + WAIT
        while self.done < self.n and time.monotonic() < deadline:
            self.pump(0.5)
        self.expect = 0
        emit({"last": self.last, "received": self.received, "closed": self.closed})


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run(args: argparse.Namespace) -> None:
    raise_fd_limit(args.connections + 256)
    load = Load(args.connections)
    began = time.monotonic()
    load.connect(args.url, args.header, args.stream)
    emit({"ready": load.ready, "seconds": round(time.monotonic() - began, 2)})
    stdin = sys.stdin.fileno()
    while True:
        # Serve the sockets (pings, stray frames) until a command line is available.
        readable, _, _ = select.select([stdin], [], [], 0)
        if not readable:
            load.pump(0.05)
            continue
        line = sys.stdin.readline()
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
            load.wait_all(int(command["count"]))
        elif command["cmd"] == "quit":
            break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("-n", "--connections", type=int, default=1000)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--header", action="append", default=[])
    run(parser.parse_args())


if __name__ == "__main__":
    main()
