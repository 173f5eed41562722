"""``kill -9`` between an entry's fill and its stop: the next process protects the position.

The service runs as a real ``testudo serve`` process (the simulator stays in the test). A limit
entry rests; the process is killed with SIGKILL (no shutdown, no save); the entry fills while
nothing runs; a new process on the same database and data directory starts, rehydrates the
group, sees the fill and places the stop.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from tests.support import SIWE_DOMAIN, SIWE_URI
from tests.trading.helpers import live_orders
from testudo.sim.client import SimClient

from .support import VENUES, VenueCase, assert_protected_or_flat, fill_entry, pending_long

pytestmark = pytest.mark.slow


class Clock:
    """What ``sign_in`` needs of a clock: the real time (the service process uses it)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def serve_args(data_dir: Path, sim_url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "testudo.cli",
        "serve",
        "--http-port",
        "0",
        "--ws-port",
        "0",
        "--data-dir",
        str(data_dir),
        "--exchange-base-url",
        sim_url,
        "--siwe-domain",
        SIWE_DOMAIN,
        "--siwe-uri",
        SIWE_URI,
        "--siwe-chain-ids",
        "1,10",
    ]


#: What the processes of these tests run with: a quick trade loop, no request governor.
QUICK_ENV = {"TESTUDO_TRADE_POLL_INTERVAL": "0.25", "TESTUDO_EXCHANGE_RATE_LIMIT": "false"}


@contextmanager
def service_process(
    db_url: str, data_dir: Path, sim_url: str, log: Path, extra_env: Mapping[str, str] = QUICK_ENV
) -> Iterator[Any]:
    """``testudo serve`` on ``db_url`` with ``extra_env``, its output in ``log``; killed at the
    end if still running (woken first, should a test have stopped it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTUDO_")}
    env.update(TESTUDO_DATABASE_URL=db_url, **extra_env)
    with log.open("w") as sink:
        proc = subprocess.Popen(
            serve_args(data_dir, sim_url), env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait()


def listening_url(proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "listening":
                return str(record["http"])
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"never listening: {log.read_text()}")


@pytest.mark.parametrize("venue", VENUES, ids=[v.id for v in VENUES])
async def test_kill_9_between_the_fill_and_the_stop(
    db_url: str, tmp_path: Path, sim: SimClient, venue: VenueCase
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    data_dir = tmp_path / "data"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with service_process(db_url, data_dir, sim.base_url, first_log) as first:
        url = await trio.to_thread.run_sync(listening_url, first, first_log)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            trader = await venue.link(http, sim, Clock())
            created = await trader.post(pending_long(exchange_account_id=trader.account_id))
            assert created.status_code == 201, created.text
            group_id = created.json()["id"]
        first.kill()  # SIGKILL: no graceful anything
        first.wait()
    await fill_entry(sim)  # the entry fills while no Testudo runs
    with service_process(db_url, data_dir, sim.base_url, second_log) as second:
        url = await trio.to_thread.run_sync(listening_url, second, second_log)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            trader.http = http
            body = await trader.wait(
                group_id, lambda b: len(live_orders(b, "stop_loss")) == 1, timeout=60
            )
            assert body["status"] == "active" and body["position_quantity"] == "0.02"
            await assert_protected_or_flat(sim, trader, venue, group_id)
        second.terminate()
