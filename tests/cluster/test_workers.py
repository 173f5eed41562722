"""``testudo serve --workers 2`` as an operator runs it: one parent on an embedded database in a
temporary data dir, two workers sharing the ports (``SO_REUSEPORT``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import psutil
import pytest
import trio

from api.testing import SIWE_DOMAIN, SIWE_URI
from api.testing.desk import Desk
from api.testing.siwe import Wallet, WebSession, sign_in
from api.testing.stream import open_events
from api.testing.trader import open_trader
from api.testing.venues import venue_named
from api.workers import backoff, worker_argv, worker_env
from tests.service.test_cli import env
from testudo.sim.client import SimClient

JWT = "w" * 40
WAIT = 120.0


@attrs.define
class Cluster:
    """The parent process, its log (stderr, parent's and workers' lines) and its URLs."""

    proc: subprocess.Popen[bytes]
    log: Path
    data_dir: Path
    http_url: str = ""
    ws_url: str = ""

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text() if self.log.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == name]

    def workers(self) -> list[psutil.Process]:
        return [p for p in psutil.Process(self.proc.pid).children() if "testudo.cli" in p.cmdline()]

    def worker_pids(self) -> set[int]:
        return {p.pid for p in self.workers()}


def cluster_env(sim_url: str) -> dict[str, str]:
    return env(
        TESTUDO_JWT_SECRET=JWT,
        TESTUDO_SIWE_DOMAIN=SIWE_DOMAIN,
        TESTUDO_SIWE_URI=SIWE_URI,
        TESTUDO_SIWE_CHAIN_IDS="1,10",
        TESTUDO_SIGNIN_PER_CLIENT_PER_MINUTE="100000",
        TESTUDO_SIGNIN_PER_SECOND="100000",
        TESTUDO_MARKET_DATA="false",
        TESTUDO_SHUTDOWN_GRACE="2",
        TESTUDO_EXCHANGE_BASE_URL=sim_url,
        TESTUDO_EXCHANGE_TIMEOUT_MS="1500",
        TESTUDO_TRADE_POLL_INTERVAL="0.25",
        TESTUDO_ORDER_RECHECK_INTERVAL="1",
        TESTUDO_EXCHANGE_RATE_LIMIT="false",
    )


async def wait_until(what: str, check: Any, timeout: float = WAIT) -> Any:
    """Poll ``check()`` (sync) until it returns something truthy."""
    with trio.move_on_after(timeout):
        while True:
            found = check()
            if found:
                return found
            await trio.sleep(0.2)
    raise AssertionError(f"never: {what}")


@pytest.fixture
async def cluster(tmp_path: Path, sim: SimClient) -> AsyncIterator[Cluster]:
    log = tmp_path / "stderr.log"
    data_dir = tmp_path / "data"
    args = ["serve", "--workers", "2", "--http-port", "0", "--ws-port", "0"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: ASYNC220 (starting takes no time; waits are polled)
            [sys.executable, "-m", "testudo.cli", *args, "--data-dir", str(data_dir)],
            env=cluster_env(sim.base_url),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    running = Cluster(proc, log, data_dir)
    try:
        listening = await wait_until(
            "two workers listening", lambda: len(running.events("listening")) == 2
        )
        assert listening
        first = running.events("listening")[0]
        running.http_url, running.ws_url = first["http"], first["ws"]
        yield running
    finally:
        family = [*psutil.Process(proc.pid).children(recursive=True)] if proc.poll() is None else []
        proc.send_signal(signal.SIGTERM)
        try:
            await trio.to_thread.run_sync(lambda: proc.wait(60))
        finally:
            for leftover in [psutil.Process(proc.pid), *family] if proc.poll() is None else family:
                if leftover.is_running():
                    leftover.kill()
            stop_orphaned_database(data_dir)


def stop_orphaned_database(data_dir: Path) -> None:
    """The embedded PostgreSQL a killed parent could not stop: a fast shutdown by its pid."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError, IndexError):
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)


async def health(url: str) -> dict[str, Any]:
    """``GET /health`` on a fresh connection (so the kernel picks a worker each time)."""
    async with httpx.AsyncClient(timeout=30) as http:  # a loaded CI machine is slow
        response = await http.get(url + "/api/v1/health")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def pinned(cluster: Cluster, pid: int) -> httpx.AsyncClient:
    """A client whose one keep-alive connection landed on worker ``pid``."""
    for _ in range(100):
        http = httpx.AsyncClient(
            base_url=cluster.http_url,
            timeout=30,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        answer = (await http.get("/api/v1/health")).json()
        if answer["pid"] == pid:
            return http
        await http.aclose()
    raise AssertionError(f"no connection landed on worker {pid}")


def holder_of(cluster: Cluster, local_port: int) -> int:
    """The worker whose socket is the other end of our connection from ``local_port``."""
    for worker in cluster.workers():
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == local_port:
                return worker.pid
    raise AssertionError(f"no worker holds the connection from port {local_port}")


async def signed_in_on(http: httpx.AsyncClient) -> Desk:
    session: WebSession = await sign_in(http, (wallet := Wallet()), dt.datetime.now(dt.UTC))
    http.cookies.clear()
    http.headers.update(session.bearer())
    return Desk(http, session, wallet)


async def test_two_workers_share_the_ports_the_identity_and_every_event(
    cluster: Cluster, sim: SimClient
) -> None:
    pids = cluster.worker_pids()
    assert len(pids) == 2
    names = {s["node"] for s in cluster.events("start") if s["actor_kind"] == "worker"}
    answers = [await health(cluster.http_url) for _ in range(40)]
    assert {a["pid"] for a in answers} == pids  # requests land on both workers
    assert {a["node"] for a in answers} == names and len(names) == 2
    for worker in cluster.workers():  # secrets and the database URL: never on a command line
        assert JWT not in " ".join(worker.cmdline()) and "postgresql" not in str(worker.cmdline())
    one, other = sorted(pids)
    on_one = await signed_in_on(await pinned(cluster, one))
    on_other = Desk(await pinned(cluster, other), on_one.session, on_one.wallet)
    on_other.http.headers.update(on_one.session.bearer())
    me = await on_other.get("/api/v1/auth/me")  # a token issued by one worker, on the other
    assert me["user"]["id"] == on_one.user_id
    async with open_events(cluster.ws_url, on_one.session) as events:
        local = events.ws.local
        assert not isinstance(local, str)
        subscribed_on = holder_of(cluster, local.port)
        publisher = on_one if subscribed_on == other else on_other
        assert (await publisher.get("/api/v1/health"))["pid"] != subscribed_on
        trader = await open_trader(publisher, sim, venue_named("binance"))
        await sim.set_price("BTC_USDT", "50000", freeze=True)
        trade = await trader.open_trade(
            symbol="BTC_USDT",
            side="buy",
            order_type="market",
            quantity="0.02",
            stop_loss_price="49000",
            take_profit=[{"price": "56000"}],
            leverage=2,
        )
        # published by the worker that served the request, not the one holding the socket
        created = await events.wait_for("trade_created")
        assert created.channel == "order" and trade["id"] in json.dumps(created.data)
        await events.wait_for("stop_loss_placed")
    for http in (on_one.http, on_other.http):
        await http.aclose()


async def test_a_users_trades_through_either_worker_run_on_one(
    cluster: Cluster, sim: SimClient
) -> None:
    """Workers are nodes: the user's actors live on the worker that took the user's lease; a
    request the kernel hands to the other worker is forwarded there."""
    one, other = sorted(cluster.worker_pids())
    on_one = await signed_in_on(await pinned(cluster, one))
    on_other = Desk(await pinned(cluster, other), on_one.session, on_one.wallet)
    on_other.http.headers.update(on_one.session.bearer())
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await open_trader(on_one, sim, venue_named("binance"))  # one takes the lease
    via_other = attrs.evolve(trader, desk=on_other)
    body = {"symbol": "BTC_USDT", "side": "buy", "entry_price": "40000", "quantity": "0.01"}
    body |= {"stop_loss_price": "39000", "take_profit": [{"price": "42000"}], "leverage": 2}
    trades = [await via_other.open_trade(**body) for _ in range(3)]
    trades.append(await trader.open_trade(**body))
    assert len({t["id"] for t in trades}) == 4
    ready = {
        desk.http: (await desk.get("/api/v1/health/ready"))["node"] for desk in (on_one, on_other)
    }
    assert ready[on_one.http]["pid"] == one and ready[on_one.http]["leases"] == 1
    assert ready[on_other.http]["pid"] == other and ready[on_other.http]["leases"] == 0
    for http in (on_one.http, on_other.http):
        await http.aclose()


async def test_a_killed_worker_comes_back_and_sigterm_stops_everything(cluster: Cluster) -> None:
    victim, survivor = sorted(cluster.worker_pids())
    family = psutil.Process(cluster.proc.pid).children(recursive=True)
    os.kill(victim, signal.SIGKILL)
    await trio.to_thread.run_sync(lambda: psutil.Process(victim).wait(30))
    answers = [await health(cluster.http_url) for _ in range(10)]  # the port keeps answering
    assert {a["pid"] for a in answers} == {survivor}
    restart = await wait_until("a restart line", lambda: cluster.events("restart"))
    slot = next(s["actor"] for s in cluster.events("start") if s.get("pid") == victim)
    assert restart[0]["actor"] == slot and restart[0]["delay_s"] == 0.5
    exits = [e for e in cluster.events("exit") if e["pid"] == victim]
    assert exits and exits[0]["exit_code"] == -signal.SIGKILL
    reborn = await wait_until(
        "the restarted worker answering",
        lambda: len(cluster.events("listening")) == 3,
    )
    assert reborn
    new_pids = cluster.worker_pids()
    assert survivor in new_pids and victim not in new_pids and len(new_pids) == 2
    seen = {(await health(cluster.http_url))["pid"] for _ in range(40)}
    assert seen == new_pids
    family += psutil.Process(cluster.proc.pid).children(recursive=True)
    cluster.proc.send_signal(signal.SIGTERM)
    code = await trio.to_thread.run_sync(lambda: cluster.proc.wait(60))
    assert code == 0
    stray = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert stray == []
    assert not (cluster.data_dir / "pgdata" / "postmaster.pid").exists()
    stopped = [e for e in cluster.events("stopped")]
    assert len(stopped) == 2  # both workers stopped gracefully (SIGTERM forwarded)


def test_worker_command_and_environment() -> None:
    argv = worker_argv(["serve", "--workers", "4", "--http-port", "0"], "eu-w2", 8080, 4000)
    assert argv[-12:] == [
        "--workers",
        "1",
        "--http-port",
        "8080",
        "--ws-port",
        "4000",
        "--peer-port",
        "0",
        "--peer-url",
        "",
        "--node-name",
        "eu-w2",
    ]
    environment = worker_env({"TESTUDO_JWT_SECRET": JWT}, "postgresql://db/x", 42)
    assert environment["TESTUDO_DATABASE_URL"] == "postgresql://db/x"
    assert environment["TESTUDO_WORKER_OF"] == "42" and environment["TESTUDO_JWT_SECRET"] == JWT
    assert [backoff(n) for n in (1, 2, 3, 6, 9)] == [0.5, 1.0, 2.0, 10.0, 10.0]


def test_a_mismatched_cluster_is_refused_by_the_parent(db_url: str, tmp_path: Path) -> None:
    from tests.cluster.test_identity import MASTER, record
    from tests.service.test_cli import one_error_line

    record(db_url, JWT, MASTER)
    result = subprocess.run(
        [sys.executable, "-m", "testudo.cli", "serve", "--workers", "2", "--http-port", "0"],
        env=env(
            TESTUDO_DATABASE_URL=db_url,
            TESTUDO_DATA_DIR=str(tmp_path),
            TESTUDO_WS_PORT="0",
            TESTUDO_MASTER_KEY=MASTER,
        ),  # no TESTUDO_JWT_SECRET: the data dir's generated one
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = one_error_line(result)  # from the parent, before any worker starts
    assert line.startswith("testudo: error: this node's JWT secret differs from the cluster's")


async def test_workers_of_a_killed_parent_shut_down(cluster: Cluster) -> None:
    workers = cluster.workers()
    os.kill(cluster.proc.pid, signal.SIGKILL)
    await trio.to_thread.run_sync(lambda: cluster.proc.wait(30))
    _, alive = await trio.to_thread.run_sync(lambda: psutil.wait_procs(workers, timeout=30))
    assert alive == []
    assert len(cluster.events("orphaned")) == 2 and len(cluster.events("stopped")) == 2
