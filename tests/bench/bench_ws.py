"""WebSocket fan-out of one stream: Testudo vs a bare trio-websocket broadcast server.

For each client count (``BENCH_WS_CLIENTS``, default 1000 and 5000) and each server (pinned to
CPU 0; the load client ``wsload.py`` in its own process pinned to CPU 1):

* memory per idle connection (server RSS after the clients subscribed, minus before);
* (a) fixed load: 2 events per second per client for ``BENCH_WS_DURATION`` seconds, latency
  from just before the publishing COMMIT (Testudo: an autocommit ``publish_event``; bare: the
  control message) to receipt, p50/p99 over every delivery;
* (b) saturation: bursts of events (one transaction for Testudo) to every client, deliveries
  per second from the COMMIT to the last receipt, median of three bursts.

Testudo's figures are also given as ratios to the bare server's, measured in the same run.
Every delivery is counted: a lost or duplicated event fails the benchmark.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import trio

from tests.auth.helpers import Wallet, sign_in
from tests.support import SIWE_DOMAIN, SIWE_URI

from .harness import HERE, free_port, pin, report

CLIENTS = [int(n) for n in os.environ.get("BENCH_WS_CLIENTS", "1000,5000").split(",")]
DURATION = float(os.environ.get("BENCH_WS_DURATION", "10"))
RATE = 2.0  # events per second (per client: every client gets every event)
BURST_DELIVERIES = 50_000
BURSTS = 3
ROOT = HERE.parent.parent


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used by process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"port {port} never opened") from None
            time.sleep(0.1)


@contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    pin(proc.pid, 0)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


class LoadClient:
    """The ``wsload.py`` process, spoken to one JSON line at a time."""

    def __init__(self, url: str, n: int, stream: str, headers: list[str]) -> None:
        cmd = [sys.executable, str(HERE / "wsload.py"), url, "-n", str(n), "--stream", stream]
        for header in headers:
            cmd += ["--header", header]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        pin(self.proc.pid, 1)

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the load client exited")
        return json.loads(line)  # type: ignore[no-any-return]

    def send(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write('{"cmd": "quit"}\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


Publish = Callable[[float, int], None]
Burst = Callable[[int], float]


def measure(
    name: str,
    n: int,
    pid: int,
    url: str,
    stream: str,
    headers: list[str],
    publish: Publish,
    burst: Burst,
) -> dict[str, Any]:
    """Connect ``n`` clients and run the fixed-load and saturation phases."""
    time.sleep(1)
    before = rss_bytes(pid)
    client = LoadClient(url, n, stream, headers)
    try:
        ready = client.read()
        assert ready["ready"] == n, ready
        time.sleep(1)
        per_connection = (rss_bytes(pid) - before) / n
        # (a) fixed load
        events = int(DURATION * RATE)
        assert client.send({"cmd": "latency"}) == {"ok": True}
        assert client.send({"cmd": "expect", "count": events}) == {"ok": True}
        start = time.monotonic()
        for i in range(events):
            time.sleep(max(0.0, start + i / RATE - time.monotonic()))
            publish(time.monotonic(), i)
        done = client.read()
        latency = client.send({"cmd": "report"})
        assert done["received"] == events * n and latency["closed"] == 0, (done, latency)
        # (b) saturation
        k = min(500, max(10, BURST_DELIVERIES // n))  # within both servers' queues
        rates, costs = [], []
        for _ in range(BURSTS):
            time.sleep(0.5)
            assert client.send({"cmd": "expect", "count": k}) == {"ok": True}
            cpu_before = cpu_seconds(pid)
            committed = burst(k)
            done = client.read()
            costs.append((cpu_seconds(pid) - cpu_before) / (k * n))
            assert done["received"] == k * n and done["closed"] == 0, done
            rates.append(k * n / (done["last"] - committed))
    finally:
        client.close()
    return {
        "server": name,
        "clients": n,
        "p50_ms": latency["p50_ms"],
        "p99_ms": latency["p99_ms"],
        "max_ms": latency["max_ms"],
        "deliveries_per_s": round(statistics.median(rates)),
        "server_us_per_delivery": round(statistics.median(costs) * 1e6, 1),
        "kib_per_idle_conn": round(per_connection / 1024, 1),
    }


def run_bare(n: int) -> dict[str, Any]:
    ws_port, control_port = free_port(), free_port()
    app = HERE / "apps" / "bare_ws_broadcast.py"
    with process([sys.executable, str(app), str(ws_port), str(control_port)]) as proc:
        wait_port(ws_port, proc)
        wait_port(control_port, proc)
        with socket.create_connection(("127.0.0.1", control_port)) as control:
            lines = control.makefile("rb")

            def publish(t: float, i: int) -> None:
                control.sendall(f"publish {t} {i}\n".encode())
                lines.readline()

            def burst(k: int) -> float:
                t = time.monotonic()
                control.sendall(f"burst {k} {t}\n".encode())
                lines.readline()
                return t

            return measure(
                "bare trio-websocket",
                n,
                proc.pid,
                f"ws://127.0.0.1:{ws_port}/ws",
                "order.00000000-0000-0000-0000-000000000000",
                [],
                publish,
                burst,
            )


def run_testudo(n: int, db_url: str, data_dir: Path) -> dict[str, Any]:
    http_port, ws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env["TESTUDO_LOG_LEVEL"] = "WARNING"
    cmd = [
        sys.executable,
        "-m",
        "testudo.cli",
        "serve",
        "--database-url",
        db_url,
        "--data-dir",
        str(data_dir),
        "--http-port",
        str(http_port),
        "--ws-port",
        str(ws_port),
        "--siwe-domain",
        SIWE_DOMAIN,
        "--siwe-uri",
        SIWE_URI,
    ]
    with process(cmd, env) as proc:
        base = f"http://127.0.0.1:{http_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("testudo did not start")
            time.sleep(0.2)

        async def login() -> Any:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                return await sign_in(http, Wallet(), _now())

        session = trio.run(login)
        stream = f"order.{session.user['id']}"
        with psycopg.connect(db_url, autocommit=True) as conn, psycopg.connect(db_url) as tx:

            def publish(t: float, i: int) -> None:
                payload = json.dumps({"e": "bench", "i": i, "t": t})
                conn.execute("SELECT publish_event(%s, %s::jsonb)", (stream, payload))

            def burst(k: int) -> float:
                t = time.monotonic()
                for i in range(k):
                    payload = json.dumps({"e": "bench", "i": i, "t": t})
                    tx.execute("SELECT publish_event(%s, %s::jsonb)", (stream, payload))
                committed = time.monotonic()
                tx.commit()
                return committed

            return measure(
                "Testudo",
                n,
                proc.pid,
                f"ws://127.0.0.1:{ws_port}/ws",
                stream,
                [f"Authorization: Bearer {session.access}"],
                publish,
                burst,
            )


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


@pytest.mark.bench
def test_ws_fanout(db_url: str, tmp_path: Path) -> None:
    rows = []
    for n in CLIENTS:
        bare = run_bare(n)
        ours = run_testudo(n, db_url, tmp_path / f"data-{n}")
        ours["p99_vs_bare"] = round(ours["p99_ms"] / max(bare["p99_ms"], 0.01), 2)
        ours["throughput_vs_bare"] = round(ours["deliveries_per_s"] / bare["deliveries_per_s"], 2)
        ours["cpu_vs_bare"] = round(
            ours["server_us_per_delivery"] / max(bare["server_us_per_delivery"], 0.1), 2
        )
        ours["memory_vs_bare"] = round(
            ours["kib_per_idle_conn"] / max(bare["kib_per_idle_conn"], 0.1), 2
        )
        rows += [bare, ours]
    report(
        "ws",
        rows,
        [
            "server",
            "clients",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "deliveries_per_s",
            "server_us_per_delivery",
            "kib_per_idle_conn",
            "p99_vs_bare",
            "throughput_vs_bare",
            "cpu_vs_bare",
            "memory_vs_bare",
        ],
    )
