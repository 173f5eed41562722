"""Bybit history import: the execution list read in 7-day windows and cursor pages per traded
symbol, through real ccxt against the simulator; complete, resumable, never duplicated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import httpx
import trio

from api.process import Running
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
from .test_imports import SimAccounts, journal, run_job, wait_for

BTC = "BTC/USDT:USDT"


def expected_trades(
    sim: SimClient, account: SimAccount, since: dt.datetime | None = None
) -> list[tuple[Any, ...]]:
    """The round trips of every fill the simulator holds for the account on Bybit,
    computed independently of the importer."""
    engine = sim.simulator.engines["bybit"]
    fills = [
        Fill(
            exchange="bybit",
            fill_id=str(f.id),
            order_id=str(f.order_id),
            client_order_id=None,
            symbol=f.symbol,
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
    return sorted(
        (t.symbol, t.side, t.quantity, t.realized_pnl, t.fees, t.closed_at)
        for t in reconstruct(fills).trips
        if since is None or t.opened_at >= since
    )


async def test_bybit_import_is_complete_resumable_and_never_duplicated(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    account = await sim.create_account("10000")
    assert await sim.generate_history(account, venue="bybit", fills=1500, days=30, seed=3) == 1500
    expected = expected_trades(sim, account)

    def setup(conn: Conn) -> tuple[str, str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, "bybit"), insert_account(conn, user, "bybit")

    user, account_id, twin_id = await db.run(setup)
    # first attempt: the exchange goes down after a few pages
    runner = ImportRunner(db, SimAccounts(sim.bybit(account), "bybit", fail_after=12), clock)
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

    # the retry resumes from the watermarks and builds every trade
    clock.advance(31)
    runner.accounts = SimAccounts(sim.bybit(account), "bybit")
    retry = await db.run(lambda c: queue.claim(c, "w2", clock.now()))
    assert retry is not None
    second = JobRun(retry, "w2")
    await runner.run(second)
    assert stored_first + second.progress["fills_new"] == 1500
    assert second.progress["pages"] > 15  # 100 executions a page, 7-day windows
    assert await journal(db, user) == expected and second.counters["errors"] == 0
    sources = await db.fetch_all("SELECT DISTINCT source, exchange FROM journal_trades")
    assert sources == [{"source": "import_ccxt", "exchange": "bybit"}]

    # again: nothing new; the same account added twice: every fill a duplicate
    again = await run_job(db, runner, user, account_id)
    assert again.counters["imported"] == 0 and again.progress["fills_new"] == 0
    twin = await run_job(db, runner, user, twin_id)
    assert twin.counters["imported"] == 0 and twin.progress["fills_duplicate"] == 1500
    assert await journal(db, user) == expected

    # a round trip after the import: the next run finds only it
    client = sim.bybit(account)
    await trio.to_thread.run_sync(lambda: client.create_order(BTC, "market", "buy", 0.01))
    await trio.to_thread.run_sync(
        lambda: client.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    )
    clock.advance(5)
    latest = await run_job(db, runner, user, account_id)
    assert latest.progress["fills_new"] == 2 and latest.counters["imported"] == 1
    assert len(await journal(db, user)) == len(expected) + 1


async def test_only_the_symbols_the_account_traded_are_read(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    """The streams are the symbols with executions in the range, found account-wide: an
    account that traded BTC only costs no request for the other markets."""
    account = await sim.create_account("10000")
    client = sim.bybit(account)
    await trio.to_thread.run_sync(lambda: client.create_order(BTC, "market", "buy", 0.01))
    await trio.to_thread.run_sync(
        lambda: client.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    )

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, "bybit")

    user, account_id = await db.run(setup)
    clock.advance(5)  # the import runs after the trades
    await sim.clear_requests()
    runner = ImportRunner(db, SimAccounts(sim.bybit(account), "bybit"), clock)
    run = await run_job(db, runner, user, account_id)
    assert run.counters["imported"] == 1 and run.progress["fills_new"] == 2
    # 90 days are 13 windows: read account-wide once, then BTC's own (reading every market's
    # would be 3 x 13 here, and hundreds of markets on Bybit itself); then the trade's funding
    # (its span is within one window: one request)
    logged = await sim.requests("bybit", key="/v5/execution/list")
    assert len(logged) == 13 + 13 + 1
    (trade,) = await journal(db, user)
    assert trade[:3] == ("BTC_USDT", "LONG", D("0.01"))


async def test_adding_a_bybit_account_imports_its_history(
    exchange_service: Running, xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock
) -> None:
    session = await new_user(xhttp, clock.now())
    auth = session.bearer()
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue="bybit", fills=300, days=10, seed=9)
    expected = expected_trades(sim, account)
    added = await xhttp.post(
        "/api/v1/exchanges/accounts",
        headers=auth,
        json={"exchange_name": "bybit", "api_key": account.api_key, "secret": account.secret},
    )
    assert added.status_code == 201, added.text
    jobs = await wait_for(xhttp, auth, lambda j: j and j[0]["status"] == "completed")
    assert jobs[0]["counters"]["imported"] == len(expected) > 0
    assert jobs[0]["progress"]["fills_fetched"] == 300
    trades = (await xhttp.get("/api/v1/journal/trades", headers=auth)).json()
    assert trades["total"] == len(expected)


async def test_a_window_starting_mid_position_skips_the_cut_round_trips(
    db: Database, sim: SimClient, clock: ManualClock
) -> None:
    lookback = dt.timedelta(days=4)
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue="bybit", fills=600, days=10, seed=11)
    expected = expected_trades(sim, account, since=clock.now() - lookback)

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, "bybit")

    user, account_id = await db.run(setup)
    port = SimAccounts(sim.bybit(account), "bybit")
    runner = ImportRunner(db, port, clock, lookback=lookback)
    run = await run_job(db, runner, user, account_id)
    assert await journal(db, user) == expected
    assert run.counters["skipped"] > 0  # the fills finishing the cut positions
