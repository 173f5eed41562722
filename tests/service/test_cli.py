"""``testudo serve`` / ``migrate`` / ``rotate-key`` as an operator runs them: real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

TESTUDO = [sys.executable, "-m", "testudo.cli"]


def env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    clean.update(extra)
    return clean


def start(args: list[str], **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        TESTUDO + args,
        env=env(**extra),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_listening(
    proc: subprocess.Popen[str], timeout: float = 60
) -> tuple[dict[str, Any], list[str]]:
    """Read JSON log lines until the 'listening' one; return it and the lines so far."""
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"exited early ({proc.poll()}): {''.join(lines)}")
        lines.append(line)
        record = json.loads(line)
        if record.get("event") == "listening":
            return record, lines
    raise AssertionError("never listening")


def test_serve_answers_then_stops_gracefully_on_sigterm(db_url: str, tmp_path: Path) -> None:
    proc = start(
        ["serve", "--http-port", "0", "--ws-port", "0", "--data-dir", str(tmp_path)],
        TESTUDO_DATABASE_URL=db_url,
    )
    try:
        listening, _ = wait_listening(proc)
        assert listening["embedded_database"] is False
        ready = httpx.get(listening["http"] + "/api/v1/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    events = [json.loads(line).get("event") for line in err.splitlines()]
    assert "shutting_down" in events and events[-1] == "stopped"
    # The supervision log shows the actors stopping, one JSON line each.
    stops = [json.loads(line) for line in err.splitlines() if '"supervision"' in line]
    assert {"root/pg-listener", "root/exchanges", "root/sessions"} <= {s["actor"] for s in stops}
    assert all(s["event"] in ("start", "stop") for s in stops)


def test_serve_on_the_embedded_database_becomes_ready(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    began = time.monotonic()
    proc = start(["serve", "--http-port", "0", "--ws-port", "0"], TESTUDO_DATA_DIR=str(data_dir))
    try:
        listening, _ = wait_listening(proc, timeout=120)
        assert listening["embedded_database"] is True
        ready = httpx.get(listening["http"] + "/api/v1/health/ready", timeout=10)
        elapsed = time.monotonic() - began
        print(f"embedded start to ready: {elapsed:.1f}s")
        assert ready.status_code == 200, ready.text
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "embedded database stopped" in err
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()  # the server was stopped


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_port_in_use_is_one_clear_line(db_url: str, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*TESTUDO, "serve", "--http-port", str(port), "--data-dir", str(tmp_path)],
            env=env(TESTUDO_DATABASE_URL=db_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert one_error_line(result) == f"testudo: error: HTTP port 127.0.0.1:{port} is already in use"


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *TESTUDO,
            "serve",
            "--http-port",
            "0",
            "--ws-port",
            "0",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            "postgresql://x:pw@127.0.0.1:1/none?connect_timeout=2",
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = one_error_line(result)
    assert line.startswith("testudo: error: cannot migrate the database")
    assert "pw" not in line.replace("***", "")


def test_unwritable_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = subprocess.run(
        [*TESTUDO, "migrate", "--data-dir", str(blocker / "sub")],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "is not writable" in one_error_line(result)


def test_migrate_command_is_idempotent(empty_db_url: str) -> None:
    first = subprocess.run(
        [*TESTUDO, "migrate", "--database-url", empty_db_url],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0, first.stderr
    assert "migration(s) applied" in first.stderr and "testudo: 0 " not in first.stderr
    second = subprocess.run(
        [*TESTUDO, "migrate", "--database-url", empty_db_url],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0 and "testudo: 0 migration(s) applied" in second.stderr


@pytest.mark.parametrize("flag", ["--http-port", "--ws-port"])
def test_bad_port_is_a_usage_error(flag: str) -> None:
    result = subprocess.run(
        [*TESTUDO, "serve", flag, "70000"], env=env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "port out of range" in result.stderr


def test_rotate_key_command(db_url: str, tmp_path: Path) -> None:
    first = subprocess.run(
        [*TESTUDO, "rotate-key", "--database-url", db_url, "--data-dir", str(tmp_path)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 0, first.stderr
    assert "rotated to key" in first.stderr and "0 account(s) re-encrypted" in first.stderr
    refused = subprocess.run(
        [*TESTUDO, "rotate-key", "--database-url", db_url, "--data-dir", str(tmp_path)],
        env=env(TESTUDO_MASTER_KEY="ab" * 32),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "TESTUDO_MASTER_KEY is set" in refused.stderr


def test_a_second_server_on_a_data_dir_in_use_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start(["serve", "--http-port", "0", "--ws-port", "0"], TESTUDO_DATA_DIR=str(data_dir))
    try:
        listening, _ = wait_listening(first, timeout=120)
        second = subprocess.run(
            [*TESTUDO, "serve", "--http-port", "0", "--ws-port", "0"],
            env=env(TESTUDO_DATA_DIR=str(data_dir)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        line = one_error_line(second)
        assert f"the data dir {data_dir} is in use by another Testudo process" in line, line
        assert f"(pid {first.pid})" in line
        assert "embedded database stopped" not in second.stderr
        # The first server and its database run on, untouched.
        ready = httpx.get(listening["http"] + "/api/v1/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert (data_dir / "pgdata" / "postmaster.pid").exists()
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 0, err
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_the_offline_demo_prints_the_demo_accounts_full_credentials(
    db_url: str, tmp_path: Path
) -> None:
    proc = start(
        ["serve", "--simulated-exchanges", "--http-port", "0", "--ws-port", "0", "--sim-port", "0"],
        TESTUDO_DATABASE_URL=db_url,
        TESTUDO_DATA_DIR=str(tmp_path),
    )
    try:
        _, lines = wait_listening(proc)
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    logged = next(json.loads(x) for x in lines if '"simulator_started"' in x)
    printed = dict(
        line.split(maxsplit=1) if "(" not in line else (line.split()[0], line.split()[-1])
        for line in out.splitlines()
        if line.startswith("  ") and not line.lstrip().startswith(("Binance", "Hyperliquid"))
    )
    for field, key in (
        ("api_key", "demo_api_key"),
        ("secret", "demo_secret"),
        ("passphrase", "demo_passphrase"),
        ("wallet_address", "demo_wallet"),
        ("wallet_private_key", "demo_wallet_private_key"),
    ):
        assert printed[field] == logged[key] and len(logged[key]) >= 16, (field, out)
