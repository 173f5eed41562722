"""History import on every venue with a paged fill history read per traded symbol (Bybit:
the execution list in 7-day windows and cursor pages; OKX: ``fills-history``, then ``fills``
for the last three days, in 7-day windows and ``billId`` pages, sizes in contracts; WOO X: the
transaction history by fill id, 500 a page), through real ccxt against the simulator:
complete, resumable, never duplicated, only the traded symbols read. Each venue's figures
are its row of the venue table (:class:`ImportCase`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
import trio

from api.process import Running
from tests.protection.support import BYBIT, OKX, WOO, ImportCase, VenueCase, api_key_body
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.models import Fill
from testudo.exchanges.venues import venue_for
from testudo.imports import queue
from testudo.imports.runner import ImportRunner, JobRun
from testudo.journal.roundtrips import reconstruct
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.model import OrderKind, OrderRequest, Side

from .support import insert_account, insert_user, new_user
from .test_imports import SimAccounts, journal, run_job, wait_for

BTC = "BTC/USDT:USDT"
IMPORTED = [BYBIT, OKX, WOO]
every_venue = pytest.mark.parametrize("venue", IMPORTED, ids=[v.id for v in IMPORTED])


def imports_of(venue: VenueCase) -> ImportCase:
    assert venue.imports is not None, f"{venue.id} has no import scenarios"
    return venue.imports


def expected_trades(
    sim: SimClient, venue: VenueCase, account: SimAccount, since: dt.datetime | None = None
) -> list[tuple[Any, ...]]:
    """The round trips of every fill the simulator holds for the account on the venue (in
    base units), computed independently of the importer."""
    engine = sim.simulator.engines[venue.engine]
    fills = [
        Fill(
            exchange=venue.id,
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


async def round_trip(client: Any, venue: VenueCase) -> None:
    """A long of 0.01 BTC (OKX: 1 contract) opened and closed at the market."""
    amount = venue.amount("0.01")
    await trio.to_thread.run_sync(lambda: client.create_order(BTC, "market", "buy", amount))
    await trio.to_thread.run_sync(
        lambda: client.create_order(BTC, "market", "sell", amount, None, {"reduceOnly": True})
    )


@every_venue
async def test_an_import_is_complete_resumable_and_never_duplicated(
    db: Database, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    account = await sim.create_account("10000")
    assert await sim.generate_history(account, venue=venue.id, fills=1500, days=30, seed=3) == 1500
    expected = expected_trades(sim, venue, account)

    def setup(conn: Conn) -> tuple[str, str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, venue.id), insert_account(conn, user, venue.id)

    user, account_id, twin_id = await db.run(setup)
    # first attempt: the exchange goes down after a few pages
    runner = ImportRunner(
        db,
        SimAccounts(venue.client(sim, account), venue.id, fail_after=imports_of(venue).fail_after),
        clock,
    )
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
    runner.accounts = SimAccounts(venue.client(sim, account), venue.id)
    retry = await db.run(lambda c: queue.claim(c, "w2", clock.now()))
    assert retry is not None
    second = JobRun(retry, "w2")
    await runner.run(second)
    assert stored_first + second.progress["fills_new"] == 1500
    assert second.progress["pages"] >= imports_of(venue).min_pages
    assert await journal(db, user) == expected and second.counters["errors"] == 0
    sources = await db.fetch_all("SELECT DISTINCT source, exchange FROM journal_trades")
    assert sources == [{"source": "import_ccxt", "exchange": venue.id}]

    # again: nothing new; the same account added twice: every fill a duplicate
    again = await run_job(db, runner, user, account_id)
    assert again.counters["imported"] == 0 and again.progress["fills_new"] == 0
    twin = await run_job(db, runner, user, twin_id)
    assert twin.counters["imported"] == 0 and twin.progress["fills_duplicate"] == 1500
    assert await journal(db, user) == expected

    # a round trip after the import: the next run finds only it
    client = venue.client(sim, account)
    await round_trip(client, venue)
    clock.advance(5)
    latest = await run_job(db, runner, user, account_id)
    assert latest.progress["fills_new"] == 2 and latest.counters["imported"] == 1
    assert len(await journal(db, user)) == len(expected) + 1


@every_venue
async def test_only_the_symbols_the_account_traded_are_read(
    db: Database, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    """The streams are the symbols with executions in the range, found account-wide: an
    account that traded BTC only costs no request for the other markets. The journal holds
    base units (on OKX, one contract is 0.01 BTC)."""
    account = await sim.create_account("10000")
    client = venue.client(sim, account)
    await round_trip(client, venue)

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, venue.id)

    user, account_id = await db.run(setup)
    clock.advance(5)  # the import runs after the trades
    await sim.clear_requests()
    runner = ImportRunner(db, SimAccounts(venue.client(sim, account), venue.id), clock)
    run = await run_job(db, runner, user, account_id)
    assert run.counters["imported"] == 1 and run.progress["fills_new"] == 2
    # (the counts by request key: see the venue's ImportCase)
    logged = {
        key: len(await sim.requests(venue.prefix, key=key)) for key in imports_of(venue).discovery
    }
    assert logged == imports_of(venue).discovery
    (trade,) = await journal(db, user)
    assert trade[:3] == ("BTC_USDT", "LONG", D("0.01"))


@every_venue
async def test_adding_an_account_imports_its_history(
    exchange_service: Running,
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    venue: VenueCase,
) -> None:
    session = await new_user(xhttp, clock.now())
    auth = session.bearer()
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue=venue.id, fills=300, days=10, seed=9)
    expected = expected_trades(sim, venue, account)
    added = await xhttp.post(
        "/api/v1/exchanges/accounts",
        headers=auth,
        json=api_key_body(venue.id, account),
    )
    assert added.status_code == 201, added.text
    jobs = await wait_for(xhttp, auth, lambda j: bool(j) and j[0]["status"] == "completed")
    assert jobs[0]["counters"]["imported"] == len(expected) > 0
    assert jobs[0]["progress"]["fills_fetched"] == 300
    trades = (await xhttp.get("/api/v1/journal/trades", headers=auth)).json()
    assert trades["total"] == len(expected)


@every_venue
async def test_a_window_starting_mid_position_skips_the_cut_round_trips(
    db: Database, sim: SimClient, clock: ManualClock, venue: VenueCase
) -> None:
    lookback = dt.timedelta(days=4)
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue=venue.id, fills=600, days=10, seed=11)
    expected = expected_trades(sim, venue, account, since=clock.now() - lookback)

    def setup(conn: Conn) -> tuple[str, str]:
        user = insert_user(conn)
        return user, insert_account(conn, user, venue.id)

    user, account_id = await db.run(setup)
    port = SimAccounts(venue.client(sim, account), venue.id)
    runner = ImportRunner(db, port, clock, lookback=lookback)
    run = await run_job(db, runner, user, account_id)
    assert await journal(db, user) == expected
    assert run.counters["skipped"] > 0  # the fills finishing the cut positions


# --- WOO X only: discovery pages on by fill id, not by time window (no counterpart: Bybit
# and OKX discover window by window, which the request counts above check).


async def test_a_symbol_traded_only_after_the_first_500_fills_is_found(sim: SimClient) -> None:
    """Discovery pages on by fill id: a symbol whose first fill is the 502nd is a stream."""
    account = await sim.create_account("1000000")
    engine = sim.simulator.engines["woo"]
    for i in range(501):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        engine.place(
            account.account_id,
            OrderRequest(symbol="BTC_USDT", side=side, kind=OrderKind.MARKET, qty=D("0.001")),
        )
    engine.place(
        account.account_id,
        OrderRequest(symbol="ETH_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D("0.01")),
    )
    history = venue_for("woo").history()
    assert history is not None
    streams = await trio.to_thread.run_sync(history.streams, sim.woo(account), None)
    assert [(s.name, s.market_id) for s in streams] == [
        ("BTC_USDT", "PERP_BTC_USDT"),
        ("ETH_USDT", "PERP_ETH_USDT"),
    ]
