"""HTTP ``GET /api/v1/health`` throughput: Testudo vs a bare QuartTrio app vs FastAPI/uvicorn.

All three run in the same benchmark run, each pinned to one core with the same load generator
(32 keep-alive connections, 1 s warm-up, 5 s measured) on the other core.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .harness import HERE, free_port, load, report, server

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = float(os.environ.get("BENCH_DURATION", "5"))


@pytest.mark.bench
def test_http_health_throughput(db_url: str, tmp_path: Path) -> None:
    servers = {
        "bare QuartTrio (hypercorn-trio)": [
            sys.executable,
            str(HERE / "apps" / "bare_quart_trio.py"),
        ],
        "Testudo": [
            sys.executable,
            "-m",
            "testudo.cli",
            "serve",
            "--database-url",
            db_url,
            "--data-dir",
            str(tmp_path),
            "--ws-port",
            "0",
            "--http-port",
        ],
        "FastAPI (uvicorn)": [sys.executable, str(HERE / "apps" / "fastapi_uvicorn.py")],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env["TESTUDO_LOG_LEVEL"] = "WARNING"
    rows = []
    for name, cmd in servers.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/v1/health"
        with server([*cmd, str(port)], url, env=env):
            load(url, CONNECTIONS, 1.0)  # warm-up
            result = load(url, CONNECTIONS, DURATION)
        assert result["errors"] == 0 and result["requests"] > 0
        rows.append({"server": name, **result})
    baseline = rows[0]["rps"]
    for row in rows:
        row["ratio_to_bare"] = round(row["rps"] / baseline, 2)
    report("http", rows, ["server", "rps", "p50_ms", "p99_ms", "requests", "ratio_to_bare"])
