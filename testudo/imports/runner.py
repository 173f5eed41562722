"""Running one import job: fetch pages through the account actor, store, build trades.

Every page is one transaction: its new raw fills, the advanced watermark, the job's progress
and lease (a job whose lease was taken over rolls the page back and stops) and, at most once
a second, a progress event on ``order.<user_id>``. After the last page one transaction
rebuilds the round trips of every symbol that received fills, inserts the new trades and
links them to trade groups; then the funding of every trade still lacking it is read
(``imports.funding``), and a last transaction completes the job and publishes
``import_complete``. A crash anywhere
loses at most the page in flight: the next attempt resumes from the watermark, and the symbols
still waiting for a rebuild are kept in the job's progress.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import attrs
import trio

from testudo.clock import Clock
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.venues import Venue, venue_for
from testudo.exchanges.venues.history import HistorySource, Page, Watermark
from testudo.journal.linking import link_trades_to_groups
from testudo.journal.roundtrips import reconstruct

from . import queue, store
from .funding import read_funding

log = logging.getLogger("testudo.imports")
T = TypeVar("T")

LOOKBACK = dt.timedelta(days=90)
PUBLISH = "SELECT publish_event(%s, %s::jsonb)"


class AccountsPort(Protocol):
    """What the importer needs from the exchange-account service."""

    async def get(self, user_id: str, account_id: str) -> Any: ...

    async def with_client(
        self,
        user_id: str,
        account_id: str,
        fn: Callable[[Any], T],
        *,
        read_only: bool = True,
        timeout: float = 120.0,
    ) -> T: ...


class ImportFailed(Exception):
    """The job cannot succeed as things stand (``permanent``) or should be retried."""

    def __init__(self, code: str, detail: str, *, permanent: bool) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.permanent = permanent


class LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead)."""


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def new_counters() -> dict[str, int]:
    return {"imported": 0, "skipped": 0, "duplicates": 0, "errors": 0}


@attrs.define
class JobRun:
    """The state of one attempt, shared with the worker's heartbeat task."""

    job: queue.Job
    worker: str
    progress: dict[str, Any] = attrs.Factory(dict)
    counters: dict[str, int] = attrs.Factory(new_counters)
    exchange: str = ""
    last_event: float = -1e9

    def __attrs_post_init__(self) -> None:
        pending = self.job.progress.get("pending_symbols") or []
        self.progress = {
            "phase": "starting",
            "attempt": self.job.attempts,
            "fills_fetched": 0,
            "fills_new": 0,
            "fills_duplicate": 0,
            "trades_built": 0,
            "open_positions": 0,
            "pages": 0,
            "current_window": None,
            "pending_symbols": sorted(set(pending)),
        }


def event(kind: str, run: JobRun, now: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {
        "e": kind,
        "E": _ms(now),
        "job_id": run.job.id,
        "exchange": run.exchange,
        "exchange_account_id": run.job.account_id,
        **fields,
    }


def publish(conn: Conn, user_id: str, payload: dict[str, Any]) -> None:
    conn.execute(PUBLISH, (f"order.{user_id}", json.dumps(payload, default=str)))


def complete_event(
    run: JobRun,
    now: dt.datetime,
    status: str,
    *,
    progress: dict[str, Any] | None = None,
    counters: dict[str, int] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The final ``import_complete`` event (also sent, with ``status: failed``, on failure)."""
    counters = run.counters if counters is None else counters
    progress = run.progress if progress is None else progress
    return event(
        "import_complete",
        run,
        now,
        status=status,
        trades_imported=counters["imported"],
        trades_skipped=counters["skipped"],
        trades_skipped_duplicate=counters["duplicates"],
        errors=counters["errors"],
        fills_fetched=progress["fills_fetched"],
        error=error,
    )


@attrs.define
class ImportRunner:
    db: Database
    accounts: AccountsPort
    clock: Clock
    lookback: dt.timedelta = LOOKBACK
    event_interval: float = 1.0

    # ------------------------------------------------------------------ one job

    async def run(self, run: JobRun) -> None:
        job = run.job
        account = await self.accounts.get(job.user_id, job.account_id)
        if account is None or account.status != "active":
            raise ImportFailed("account_inactive", "The account is not active.", permanent=True)
        run.exchange = account.exchange
        history = venue_for(account.exchange).history()
        if history is None:
            raise ImportFailed(
                "import_unsupported",
                f"History import is not available for {account.exchange} yet.",
                permanent=True,
            )
        await self._fetch(run, history, account.wallet_address, self.clock.now())
        await self._build(run, history.source)
        venue = venue_for(account.exchange)
        await read_funding(self.db, functools.partial(self._call, run), venue, job.account_id)
        await self._complete(run)

    async def _call(self, run: JobRun, fn: Callable[[Any], T]) -> T:
        return await self.accounts.with_client(run.job.user_id, run.job.account_id, fn)

    # ------------------------------------------------------------------ pages

    async def _save_page(self, run: JobRun, stream: str, page: Page) -> None:
        """Store a page's new fills, its watermark and the job's progress in one transaction."""
        job = run.job
        now = self.clock.now()
        due = trio.current_time() - run.last_event >= self.event_interval
        fills = page.fills
        run.progress["current_window"] = dict(page.window)
        if page.errors:
            log.warning(
                "unreadable fills",
                extra={"json_fields": {"job_id": job.id, "stream": stream, "count": page.errors}},
            )

        def work(conn: Conn) -> tuple[dict[str, Any], dict[str, int]]:
            new = store.store_fills(conn, job.user_id, job.account_id, run.exchange, fills)
            mark = page.watermark
            if mark is not None:
                store.save_cursor(
                    conn,
                    job.account_id,
                    stream,
                    now,
                    last_fill_id=mark.last_fill_id,
                    last_time=mark.last_time,
                )
            progress = dict(run.progress)
            counters = dict(run.counters)
            progress["fills_fetched"] += page.fetched
            progress["fills_new"] += new
            progress["fills_duplicate"] += len(fills) - new
            progress["pages"] += 1
            progress["phase"] = "fetching"
            symbols = set(progress["pending_symbols"])
            symbols.update(f.fill.symbol for f in fills)
            progress["pending_symbols"] = sorted(symbols)
            counters["skipped"] += page.skipped
            counters["errors"] += page.errors
            if not queue.heartbeat(conn, job, run.worker, now, progress, counters):
                raise LeaseLost(job.id)
            if due:
                publish(conn, job.user_id, self._progress_event(run, now, progress))
            return progress, counters

        run.progress, run.counters = await self.db.run(work)
        if due:
            run.last_event = trio.current_time()

    def _progress_event(
        self, run: JobRun, now: dt.datetime, progress: dict[str, Any]
    ) -> dict[str, Any]:
        return event(
            "import_progress",
            run,
            now,
            phase=progress["phase"],
            fills_fetched=progress["fills_fetched"],
            trades_built=progress["trades_built"],
            current_window=progress["current_window"],
        )

    # ------------------------------------------------------------------ streams

    async def _fetch(
        self, run: JobRun, history: HistorySource, wallet: str | None, now: dt.datetime
    ) -> None:
        """Every stream of the venue, page by page, each page saved with its watermark."""
        job = run.job
        start_ms, end_ms = _ms(now - self.lookback), _ms(now)
        streams = await self._call(run, functools.partial(history.streams, wallet=wallet))
        known = await self.db.run(lambda conn: store.cursors(conn, job.account_id))
        opening = [
            s.name
            for s in streams
            if history.needs_opening
            and (s.name not in known or known[s.name].opening_position is None)
        ]
        positions: dict[str, Decimal] = {}
        if opening:
            venue = venue_for(run.exchange)
            positions = await self._call(run, functools.partial(signed_positions, venue=venue))
        for stream in streams:
            saved = known.get(stream.name)
            watermark = None if saved is None else Watermark(saved.last_fill_id, saved.last_time)
            state = history.start(stream, watermark, start_ms)
            while True:
                page: Page = await self._call(
                    run,
                    functools.partial(
                        history.page, stream=stream, state=state, start_ms=start_ms, end_ms=end_ms
                    ),
                )
                await self._save_page(run, stream.name, page)
                if page.done:
                    break
                state = page.state
            if stream.name in opening:
                at_zero = positions.get(stream.name, Decimal(0))
                await self._opening(run, stream.name, at_zero, now)

    async def _opening(
        self, run: JobRun, symbol: str, position_now: Decimal, at: dt.datetime
    ) -> None:
        """The position before the first stored fill: today's position minus every fill."""
        account_id = run.job.account_id

        def work(conn: Conn) -> None:
            net = store.net_fills_until(conn, account_id, [symbol], at).get(symbol, Decimal(0))
            store.save_cursor(
                conn, account_id, symbol, self.clock.now(), opening_position=position_now - net
            )

        await self.db.run(work)

    # ------------------------------------------------------------------ trades

    async def _build(self, run: JobRun, source: str) -> None:
        job = run.job
        symbols = list(run.progress["pending_symbols"])
        now = self.clock.now()

        def work(conn: Conn) -> tuple[dict[str, Any], dict[str, int]]:
            progress = dict(run.progress)
            counters = dict(run.counters)
            progress["phase"] = "building"
            progress["current_window"] = None
            if symbols:
                fills, starts = store.load_fills(conn, job.account_id, symbols)
                saved = store.cursors(conn, job.account_id)
                openings = dict(starts)
                for symbol in symbols:
                    cursor = saved.get(symbol)
                    if cursor is not None and cursor.opening_position is not None:
                        openings[symbol] = cursor.opening_position
                result = reconstruct(fills, openings)
                inserted = store.store_trades(
                    conn, job.user_id, job.account_id, source, result.trips
                )
                linked = link_trades_to_groups(conn, job.user_id)
                counters["imported"] += inserted - linked.duplicates_removed
                counters["duplicates"] += len(result.trips) - inserted + linked.duplicates_removed
                counters["skipped"] += result.skipped_fills
                progress["trades_built"] += len(result.trips)
                progress["open_positions"] = len(result.open_positions)
                progress["linked_to_groups"] = linked.linked
            progress["pending_symbols"] = []
            progress["phase"] = "funding"
            if not queue.heartbeat(conn, job, run.worker, now, progress, counters):
                raise LeaseLost(job.id)
            return progress, counters

        run.progress, run.counters = await self.db.run(work)

    async def _complete(self, run: JobRun) -> None:
        """Trades built and their funding read: the job is done."""
        job = run.job
        now = self.clock.now()
        progress = {**run.progress, "phase": "completed"}
        counters = run.counters

        def work(conn: Conn) -> None:
            if not queue.complete(conn, job, run.worker, now, progress, counters):
                raise LeaseLost(job.id)
            publish(
                conn,
                job.user_id,
                complete_event(run, now, "completed", progress=progress, counters=counters),
            )

        await self.db.run(work)
        run.progress = progress


def signed_positions(client: Any, venue: Venue) -> dict[str, Decimal]:
    """Testudo symbol → signed position size (long positive), now (worker thread)."""
    return {
        p.symbol: p.quantity if p.side == "long" else -p.quantity for p in venue.positions(client)
    }
