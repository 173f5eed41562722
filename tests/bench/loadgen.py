"""A small HTTP/1.1 keep-alive load generator (run as its own process, like wrk).

    python tests/bench/loadgen.py http://127.0.0.1:8080/api/v1/health -c 32 -d 5

Prints one JSON object: requests, errors, seconds, rps, p50_ms, p99_ms. Each connection sends
a request, reads the whole response (Content-Length framed), and repeats until the duration
ends; the count is bounded by the duration, so it always stops by itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from urllib.parse import urlsplit

import trio


async def one_connection(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[float], errors: list[int]
) -> None:
    stream = await trio.open_tcp_stream(host, port)
    buffer = b""
    async with stream:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            await stream.send_all(request)
            while b"\r\n\r\n" not in buffer:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(buffer) < length:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                errors.append(status)
            latencies.append(time.perf_counter() - began)


async def run(
    url: str, connections: int, duration: float, headers: tuple[str, ...] = ()
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{header}\r\n" for header in headers)
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors: list[int] = []
    began = time.perf_counter()
    stop_at = began + duration
    async with trio.open_nursery() as nursery:
        for _ in range(connections):
            nursery.start_soon(one_connection, host, port, request, stop_at, latencies, errors)
    seconds = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    args = parser.parse_args()
    print(json.dumps(trio.run(run, args.url, args.connections, args.duration, tuple(args.header))))


if __name__ == "__main__":
    main()
