"""Running one import job: fetch pages through the account actor, store, build trades.

Every page is one transaction: its new raw fills, the advanced watermark, the job's progress
and lease (a job whose lease was taken over rolls the page back and stops) and, at most once
a second, a progress event on ``order.<user_id>``. After the last page one transaction
rebuilds the round trips of every symbol that received fills, inserts the new trades, links
them to trade groups, completes the job and publishes ``import_complete``. A crash anywhere
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
from testudo.journal.linking import link_trades_to_groups
from testudo.journal.roundtrips import reconstruct

from . import fetchers, queue, store
from .fetchers import BadFill, BinanceCursor, HyperliquidCursor
from .store import FetchedFill

log = logging.getLogger("testudo.imports")
T = TypeVar("T")

LOOKBACK = dt.timedelta(days=90)
PUBLISH = "SELECT publish_event(%s, %s::jsonb)"
SOURCES = {"hyperliquid": "import_hl"}
DEFAULT_SOURCE = "import_ccxt"
SUPPORTED = ("binance", "hyperliquid")


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
        if account.exchange not in SUPPORTED:
            raise ImportFailed(
                "import_unsupported",
                f"History import is not available for {account.exchange} yet.",
                permanent=True,
            )
        now = self.clock.now()
        if account.exchange == "binance":
            await self._binance(run, now)
        else:
            await self._hyperliquid(run, account.wallet_address or "", now)
        await self._build(run)

    async def _call(self, run: JobRun, fn: Callable[[Any], T]) -> T:
        return await self.accounts.with_client(run.job.user_id, run.job.account_id, fn)

    # ------------------------------------------------------------------ pages

    async def _save_page(
        self,
        run: JobRun,
        fills: list[FetchedFill],
        *,
        fetched: int,
        skipped: int,
        errors: int,
        cursor: Callable[[Conn, dt.datetime], None],
    ) -> None:
        job = run.job
        now = self.clock.now()
        due = trio.current_time() - run.last_event >= self.event_interval

        def work(conn: Conn) -> tuple[dict[str, Any], dict[str, int]]:
            new = store.store_fills(conn, job.user_id, job.account_id, run.exchange, fills)
            cursor(conn, now)
            progress = dict(run.progress)
            counters = dict(run.counters)
            progress["fills_fetched"] += fetched
            progress["fills_new"] += new
            progress["fills_duplicate"] += len(fills) - new
            progress["pages"] += 1
            progress["phase"] = "fetching"
            symbols = set(progress["pending_symbols"])
            symbols.update(f.fill.symbol for f in fills)
            progress["pending_symbols"] = sorted(symbols)
            counters["skipped"] += skipped
            counters["errors"] += errors
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

    def _parse(
        self, rows: list[dict[str, Any]], parse: Callable[[dict[str, Any]], FetchedFill | None]
    ) -> tuple[list[FetchedFill], int, int]:
        fills: list[FetchedFill] = []
        skipped = errors = 0
        for row in rows:
            try:
                item = parse(row)
            except BadFill as exc:
                errors += 1
                log.warning("unreadable fill", extra={"json_fields": {"error": str(exc)}})
                continue
            if item is None:
                skipped += 1
            else:
                fills.append(item)
        return fills, skipped, errors

    # ------------------------------------------------------------------ Binance

    async def _binance(self, run: JobRun, now: dt.datetime) -> None:
        job = run.job
        start_ms, end_ms = _ms(now - self.lookback), _ms(now)
        markets = await self._call(run, fetchers.binance_markets)
        known = await self.db.run(lambda conn: store.cursors(conn, job.account_id))
        new_symbols = [s for s in markets if s not in known or known[s].opening_position is None]
        positions: dict[str, Decimal] = {}
        if new_symbols:
            positions = await self._call(run, fetchers.fetch_signed_positions)
        for symbol, market_id in markets.items():
            saved = known.get(symbol)
            if saved is not None and saved.last_fill_id is not None:
                cursor = BinanceCursor(last_id=int(saved.last_fill_id.rsplit(":", 1)[-1]))
            else:
                resume = _ms(saved.last_time) + 1 if saved and saved.last_time else start_ms
                cursor = BinanceCursor(window_start_ms=max(start_ms, resume))
            while not cursor.done:
                request = fetchers.binance_request(market_id, cursor, start_ms, end_ms)
                run.progress["current_window"] = _binance_window(symbol, request)
                rows = await self._call(
                    run, functools.partial(fetchers.binance_page, request=request)
                )
                fills, skipped, errors = self._parse(
                    rows, functools.partial(_binance_row, run.exchange, symbol)
                )
                following = fetchers.binance_advance(cursor, request, rows, end_ms)
                scanned = None if following.last_id is not None else int(request["endTime"])

                def save(
                    conn: Conn,
                    at: dt.datetime,
                    s: str = symbol,
                    c: BinanceCursor = following,
                    until: int | None = scanned,
                ) -> None:
                    store.save_cursor(
                        conn,
                        job.account_id,
                        s,
                        at,
                        last_fill_id=f"{s}:{c.last_id}" if c.last_id is not None else None,
                        last_time=fetchers.ms_to_datetime(until) if until is not None else None,
                    )

                await self._save_page(
                    run, fills, fetched=len(rows), skipped=skipped, errors=errors, cursor=save
                )
                cursor = following
            if symbol in new_symbols:
                await self._binance_opening(run, symbol, positions.get(symbol, Decimal(0)), now)

    async def _binance_opening(
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

    # ------------------------------------------------------------------ Hyperliquid

    async def _hyperliquid(self, run: JobRun, wallet: str, now: dt.datetime) -> None:
        job = run.job
        if not wallet:
            raise ImportFailed("account_inactive", "The account has no wallet.", permanent=True)
        start_ms, end_ms = _ms(now - self.lookback), _ms(now)
        known = await self.db.run(lambda conn: store.cursors(conn, job.account_id))
        saved = known.get("*")
        if saved is not None and saved.last_time is not None:
            start_ms = max(start_ms, _ms(saved.last_time))
        cursor = HyperliquidCursor(start_ms)

        def parse(row: dict[str, Any]) -> FetchedFill | None:
            fill = fetchers.hyperliquid_fill(run.exchange, "USDC", row)
            if fill is None:
                return None
            return FetchedFill(fill, fetchers.hyperliquid_start_position(row))

        while not cursor.done:
            request = fetchers.hyperliquid_request(wallet, cursor, end_ms)
            run.progress["current_window"] = {
                "from": _iso(fetchers.ms_to_datetime(cursor.start_ms)),
                "to": _iso(fetchers.ms_to_datetime(end_ms)),
            }
            rows = await self._call(
                run, functools.partial(fetchers.hyperliquid_page, request=request)
            )
            fills, skipped, errors = self._parse(rows, parse)
            following = fetchers.hyperliquid_advance(cursor, rows, end_ms)
            last = max((int(r["time"]) for r in rows), default=None)

            def save(conn: Conn, at: dt.datetime, last_ms: int | None = last) -> None:
                if last_ms is not None:
                    store.save_cursor(
                        conn,
                        job.account_id,
                        "*",
                        at,
                        last_time=fetchers.ms_to_datetime(last_ms),
                    )

            await self._save_page(
                run, fills, fetched=len(rows), skipped=skipped, errors=errors, cursor=save
            )
            cursor = following

    # ------------------------------------------------------------------ trades

    async def _build(self, run: JobRun) -> None:
        job = run.job
        symbols = list(run.progress["pending_symbols"])
        source = SOURCES.get(run.exchange, DEFAULT_SOURCE)
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
            progress["phase"] = "completed"
            if not queue.complete(conn, job, run.worker, now, progress, counters):
                raise LeaseLost(job.id)
            publish(
                conn,
                job.user_id,
                complete_event(run, now, "completed", progress=progress, counters=counters),
            )
            return progress, counters

        run.progress, run.counters = await self.db.run(work)


def _binance_row(exchange: str, symbol: str, row: dict[str, Any]) -> FetchedFill:
    return FetchedFill(fetchers.binance_fill(exchange, symbol, row))


def _binance_window(symbol: str, request: dict[str, Any]) -> dict[str, Any]:
    if "fromId" in request:
        return {"symbol": symbol, "from_id": request["fromId"]}
    return {
        "symbol": symbol,
        "from": _iso(fetchers.ms_to_datetime(int(request["startTime"]))),
        "to": _iso(fetchers.ms_to_datetime(int(request["endTime"]))),
    }
