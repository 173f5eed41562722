"""Helpers shared by the benchmarks: servers in subprocesses, the load generator, reports.

Servers are pinned to CPU 0 and the load generator to CPU 1 (when the machine has two), so
each side gets one core and the comparison between servers is fair.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(pid: int, cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, {cpu})


@contextlib.contextmanager
def server(
    cmd: list[str], ready_url: str, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` until the block ends; wait until ``ready_url`` answers 200."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pin(proc.pid, 0)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd} did not become ready")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(
    url: str,
    connections: int = 32,
    duration: float = 5.0,
    headers: tuple[str, ...] = (),
    cpu: int | None = 1,
) -> dict[str, Any]:
    """Run the load generator in its own process (pinned to ``cpu``, None: not pinned);
    return its JSON result."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "loadgen.py"),
            url,
            "-c",
            str(connections),
            "-d",
            str(duration),
            *[arg for header in headers for arg in ("-H", header)],
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    if cpu is not None:
        pin(proc.pid, cpu)
    out, _ = proc.communicate(timeout=duration + 60)
    return json.loads(out)  # type: ignore[no-any-return]


def report(name: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print a table and save it to tests/bench/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print()
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
