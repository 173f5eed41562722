"""History import: the durable queue (leases, retries, dead workers), the runner against the
simulator through real ccxt clients (Binance windows and fromId paging, Hyperliquid 2000-row
pages), idempotency, crash-resume, and the whole service (account added → trades)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any, TypeVar

import attrs
import httpx
import trio

from api.process import Running
from tests.trading.helpers import binance_trader
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.models import Fill
from testudo.imports import queue
from testudo.imports.runner import ImportRunner, JobRun
from testudo.journal.roundtrips import reconstruct
from testudo.sim.client import SimAccount, SimClient

from .support import insert_account, insert_user, new_user

T = TypeVar("T")


# --------------------------------------------------------------------------- the queue


async def test_queue_leases_retries_and_dead_workers(db: Database, clock: ManualClock) -> None:
    def setup(conn: Conn) -> tuple[str, str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user), insert_account(conn, user)

    user, first, second = await db.run(setup)
    now = clock.now()
    job, created = await db.run(lambda c: queue.enqueue(c, user, first, "manual", now))
    again, created_again = await db.run(lambda c: queue.enqueue(c, user, first, "manual", now))
    assert created and not created_again and again["id"] == job["id"]  # one active per account
    await db.run(lambda c: queue.enqueue(c, user, second, "account_added", now))

    a = await db.run(lambda c: queue.claim(c, "worker-a", now))
    b = await db.run(lambda c: queue.claim(c, "worker-b", now))
    assert a is not None and b is not None and {a.account_id, b.account_id} == {first, second}
    assert await db.run(lambda c: queue.claim(c, "worker-c", now)) is None

    # worker-a dies: after the stale limit worker-c takes its job over; a's writes then fail
    later = now + queue.STALE_AFTER + dt.timedelta(seconds=1)
    assert await db.run(lambda c: queue.heartbeat(c, b, "worker-b", later, {}, {}))
    taken = await db.run(lambda c: queue.claim(c, "worker-c", later))
    assert taken is not None and taken.id == a.id and taken.attempts == 2
    assert not await db.run(lambda c: queue.heartbeat(c, a, "worker-a", later, {}, {}))
    assert not await db.run(lambda c: queue.complete(c, a, "worker-a", later, {}, {}))

    # a failed attempt is queued again with backoff, then runs; attempts run out -> failed
    state = await db.run(lambda c: queue.fail(c, taken, "worker-c", later, "boom", permanent=False))
    assert state == "queued"
    assert await db.run(lambda c: queue.claim(c, "worker-c", later)) is None
    due = later + queue.backoff(2) + dt.timedelta(seconds=1)
    assert await db.run(lambda c: queue.heartbeat(c, b, "worker-b", due, {}, {}))
    retried = await db.run(lambda c: queue.claim(c, "worker-c", due))
    assert retried is not None and retried.attempts == 3
    assert queue.backoff(1) == dt.timedelta(seconds=30) and queue.backoff(20) == queue.BACKOFF_CAP
    exhausted = attrs.evolve(retried, attempts=queue.MAX_ATTEMPTS)
    assert (
        await db.run(
            lambda c: queue.fail(c, exhausted, "worker-c", due, "still broken", permanent=False)
        )
        == "failed"
    )
    # a worker that restarts under the same name takes its own running job back at once
    assert await db.run(lambda c: queue.complete(c, b, "worker-b", due, {}, {}))
    fresh, _ = await db.run(lambda c: queue.enqueue(c, user, second, "manual", due))
    mine = await db.run(lambda c: queue.claim(c, "worker-b", due))
    assert mine is not None and mine.id == fresh["id"]
    assert (await db.run(lambda c: queue.claim(c, "worker-b", due))).id == fresh["id"]  # type: ignore[union-attr]
    jobs = await db.run(lambda c: queue.list_jobs(c, user))
    assert [j["state"] for j in jobs].count("failed") == 1
    assert {j["state"] for j in jobs} == {"failed", "completed", "running"}


# --------------------------------------------------------------------------- the runner


@attrs.define
class SimAccounts:
    """The exchange-account service as the importer sees it, over a real ccxt client.

    ``fail_after`` makes every call after that many fail like an exchange outage.
    """

    client: Any
    exchange: str
    wallet: str | None = None
    fail_after: int | None = None
    calls: int = 0

    async def get(self, user_id: str, account_id: str) -> Any:
        return attrs.make_class("View", ["exchange", "status", "wallet_address"])(
            self.exchange, "active", self.wallet
        )

    async def with_client(
        self, user_id: str, account_id: str, fn: Callable[[Any], T], **_: Any
    ) -> T:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise ExchangeFailure("exchange_unavailable", "sim: down", transient=True)
        return await trio.to_thread.run_sync(fn, self.client)


def expected_trades(
    sim: SimClient, venue: str, account: SimAccount, since: dt.datetime | None = None
) -> list[tuple[Any, ...]]:
    """The round trips of everything the simulator holds for the account, independently
    (only those opened at or after ``since`` when given)."""
    engine = sim.simulator.engines[venue]
    fills = [
        Fill(
            exchange=venue,
            fill_id=str(f.id),
            order_id=str(f.order_id),
            client_order_id=None,
            symbol=f.symbol if venue == "binance" else f.symbol.replace("_USDT", "_USDC"),
            side=f.side.value.lower(),
            price=f.price,
            quantity=f.qty,
            fee=f.fee + f.extra_fee,
            fee_asset=f.fee_asset,
            realized_pnl=f.realized_pnl,
            timestamp=dt.datetime.fromtimestamp(f.time_ms / 1000, tz=dt.UTC),
        )
        for f in engine.account(account.account_id).fills.all()
    ]
    trips = reconstruct(fills).trips
    # the simulator's own per-fill realised P&L (rounded per fill) adds up to the same total
    total = sum((t.realized_pnl for t in trips), D(0))
    assert abs(total - sum(f.realized_pnl or 0 for f in fills)) < D("1e-8") * len(fills)
    return sorted(
        (t.symbol, t.side, t.quantity, t.realized_pnl, t.fees, t.closed_at)
        for t in trips
        if since is None or t.opened_at >= since
    )


async def journal(db: Database, user: str) -> list[tuple[Any, ...]]:
    rows = await db.fetch_all(
        "SELECT symbol, side, quantity, realized_pnl, fees, closed_at FROM journal_trades"
        " WHERE user_id = %s",
        (user,),
    )
    return sorted(tuple(r.values()) for r in rows)


async def run_job(
    db: Database, runner: ImportRunner, user: str, account: str, worker: str = "w"
) -> JobRun:
    now = runner.clock.now()
    await db.run(lambda c: queue.enqueue(c, user, account, "manual", now))
    job = await db.run(lambda c: queue.claim(c, worker, now))
    assert job is not None
    run = JobRun(job, worker)
    await runner.run(run)
    return run


async def events_of(db: Database, user: str) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT payload FROM events WHERE stream = %s ORDER BY seq", (f"order.{user}",)
    )
    return [
        r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"]) for r in rows
    ]


async def test_binance_import_is_complete_idempotent_and_resumes_after_a_crash(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    account = await sim.create_account("10000")
    assert await sim.generate_history(account, venue="binance", fills=1500, days=30, seed=3) == 1500
    expected = expected_trades(sim, "binance", account)

    def setup(conn: Conn) -> tuple[str, str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user), insert_account(conn, user)

    user, account_id, twin_id = await db.run(setup)

    # first attempt: the exchange goes down after a few pages
    flaky = SimAccounts(sim.binance(account), "binance", fail_after=14)
    runner = ImportRunner(db, flaky, clock)
    now = clock.now()
    await db.run(lambda c: queue.enqueue(c, user, account_id, "account_added", now))
    job = await db.run(lambda c: queue.claim(c, "w1", now))
    assert job is not None
    first = JobRun(job, "w1")
    try:
        await runner.run(first)
    except ExchangeFailure as exc:
        assert exc.transient
    else:
        raise AssertionError("the outage did not interrupt the import")
    stored_first = first.progress["fills_new"]
    assert 0 < stored_first < 1500 and await journal(db, user) == []
    assert (
        await db.run(lambda c: queue.fail(c, job, "w1", now, "down", permanent=False)) == "queued"
    )

    # second attempt after the backoff: resumes from the watermarks, builds every trade
    clock.advance(31)
    runner.accounts = SimAccounts(sim.binance(account), "binance")
    retry = await db.run(lambda c: queue.claim(c, "w2", clock.now()))
    assert retry is not None and retry.attempts == 2
    second = JobRun(retry, "w2")
    await runner.run(second)
    assert second.progress["fills_new"] == 1500 - stored_first
    assert await journal(db, user) == expected
    assert second.counters["imported"] == len(expected) and second.counters["errors"] == 0
    assert second.progress["trades_built"] == len(expected)

    # running it again imports nothing new, and so does the same account added twice
    again = await run_job(db, runner, user, account_id)
    assert again.counters["imported"] == 0 and again.progress["fills_new"] == 0
    twin = await run_job(db, runner, user, twin_id)
    assert twin.counters["imported"] == 0 and twin.progress["fills_duplicate"] == 1500
    assert await journal(db, user) == expected

    # a fill after the import: the next run fetches only it (fromId from the watermark)
    client = sim.binance(account)
    await trio.to_thread.run_sync(
        lambda: client.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
    )
    await trio.to_thread.run_sync(
        lambda: client.create_order(
            "BTC/USDT:USDT", "market", "sell", 0.01, None, {"reduceOnly": True}
        )
    )
    clock.advance(5)
    latest = await run_job(db, runner, user, account_id)
    assert latest.progress["fills_fetched"] == 2 and latest.counters["imported"] == 1
    assert len(await journal(db, user)) == len(expected) + 1

    events = await events_of(db, user)
    finals = [e for e in events if e["e"] == "import_complete"]
    assert [e["trades_imported"] for e in finals] == [len(expected), 0, 0, 1]
    assert all(e["status"] == "completed" for e in finals)
    assert any(e["e"] == "import_progress" for e in events)


async def test_hyperliquid_import_pages_by_2000(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue="hyperliquid", fills=4500, days=20, seed=5)
    expected = expected_trades(sim, "hyperliquid", account)

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, "hyperliquid")

    user, account_id = await db.run(setup)
    port = SimAccounts(sim.hyperliquid(account), "hyperliquid", wallet=account.wallet_address)
    runner = ImportRunner(db, port, clock)
    run = await run_job(db, runner, user, account_id)
    assert run.progress["fills_new"] == 4500 and run.progress["pages"] == 3
    assert await journal(db, user) == [(s, side, q, p, f, c) for (s, side, q, p, f, c) in expected]
    sources = await db.fetch_all("SELECT DISTINCT source, exchange FROM journal_trades")
    assert sources == [{"source": "import_hl", "exchange": "hyperliquid"}]
    again = await run_job(db, runner, user, account_id)
    assert again.counters["imported"] == 0 and again.progress["fills_new"] == 0


# --------------------------------------------------------------------------- the service


async def wait_for(
    http: httpx.AsyncClient, headers: dict[str, str], done: Callable[[list[Any]], bool]
) -> list[Any]:
    jobs: list[Any] = []
    with trio.move_on_after(30):
        while True:
            jobs = (await http.get("/api/v1/trades/import/status", headers=headers)).json()
            if done(jobs):
                return jobs
            await trio.sleep(0.1)
    raise AssertionError(f"imports did not finish: {jobs}")


async def test_adding_an_account_imports_its_history_through_the_workers(
    exchange_service: Running, xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    session = await new_user(xhttp, clock.now())
    auth = session.bearer()
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue="binance", fills=300, days=10, seed=9)
    expected = expected_trades(sim, "binance", account)
    added = await xhttp.post(
        "/api/v1/exchanges/accounts",
        headers=auth,
        json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
    )
    assert added.status_code == 201, added.text
    account_id = added.json()["id"]

    # adding the account queued its import; a worker ran it
    jobs = await wait_for(xhttp, auth, lambda j: j and j[0]["status"] == "completed")
    assert jobs[0]["reason"] == "account_added" and jobs[0]["exchange_account_id"] == account_id
    assert jobs[0]["counters"]["imported"] == len(expected) > 0
    assert jobs[0]["progress"]["fills_fetched"] == 300
    trades = (await xhttp.get("/api/v1/journal/trades", headers=auth)).json()
    assert trades["total"] == len(expected)

    # asking again (by exchange name) imports nothing new
    started = await xhttp.post(
        "/api/v1/trades/import", headers=auth, json={"exchange_name": "Binance"}
    )
    assert started.status_code == 202 and started.json()["exchange_account_id"] == account_id
    jobs = await wait_for(xhttp, auth, lambda j: len(j) == 2 and j[0]["status"] == "completed")
    assert jobs[0]["counters"]["imported"] == 0 and jobs[0]["reason"] == "manual"

    # a job whose worker died (stale heartbeat) is picked up again by a live worker
    user_id = session.user["id"]
    db = exchange_service.system.db
    await db.execute(
        "INSERT INTO import_jobs (user_id, exchange_account_id, state, attempts, locked_by,"
        " heartbeat_at, started_at) VALUES (%s, %s, 'running', 1, 'ghost', %s, %s)",
        (
            user_id,
            account_id,
            clock.now() - dt.timedelta(minutes=5),
            clock.now() - dt.timedelta(minutes=6),
        ),
    )
    jobs = await wait_for(xhttp, auth, lambda j: len(j) == 3 and j[0]["status"] == "completed")
    assert jobs[0]["attempts"] == 2 and jobs[0]["counters"]["imported"] == 0

    # validation and ownership
    for body, status in (
        ({}, 422),
        ({"exchange_account_id": "00000000-0000-0000-0000-000000000001"}, 404),
        ({"exchange_name": "okx"}, 404),
    ):
        response = await xhttp.post("/api/v1/trades/import", headers=auth, json=body)
        assert response.status_code == status, response.text
    stranger = await binance_trader(xhttp, sim, clock)
    theirs = await xhttp.post(
        "/api/v1/trades/import",
        headers=stranger.session.bearer(),
        json={"exchange_account_id": account_id},
    )
    assert theirs.status_code == 404
    stranger_jobs = (
        await xhttp.get("/api/v1/trades/import/status", headers=stranger.session.bearer())
    ).json()
    assert all(j["exchange_account_id"] == stranger.account_id for j in stranger_jobs)


async def test_a_history_window_starting_mid_position_skips_the_cut_round_trips(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    """90 days back may cut a position in half: what came before is unknown, so the round
    trips still open at the window start are skipped, and every later one is exact."""
    lookback = dt.timedelta(days=4)
    for venue in ("binance", "hyperliquid"):
        account = await sim.create_account("10000")
        await sim.generate_history(account, venue=venue, fills=600, days=10, seed=11)
        start = clock.now() - lookback
        expected = expected_trades(sim, venue, account, since=start)

        def setup(conn: Conn, v: str = venue) -> tuple[str, str]:
            user = insert_user(conn)
            return user, insert_account(conn, user, v)

        user, account_id = await db.run(setup)
        client = sim.binance(account) if venue == "binance" else sim.hyperliquid(account)
        port = SimAccounts(client, venue, wallet=account.wallet_address)
        runner = ImportRunner(db, port, clock, lookback=lookback)
        run = await run_job(db, runner, user, account_id)
        got = await journal(db, user)
        assert got == expected, venue
        assert run.counters["skipped"] > 0, venue  # the fills finishing the cut positions
