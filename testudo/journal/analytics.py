"""Journal analytics (docs/journal.md), aggregated in SQL over one user's trades.

Every query takes the shared :class:`~testudo.journal.filters.TradeFilter`, scans the user's
trades once through ``journal_trades_user_closed_idx`` (index-only for the unfiltered case)
and returns aggregates; nothing loads trades into Python. Conventions (docs/journal.md):

* win = ``net_pnl > 0``, loss = ``net_pnl <= 0`` (break-even counts as a loss, as in the
  original); break-even exits are reported on their own by :func:`break_even`;
* days, weeks (ISO, Monday) and months are UTC calendar periods of ``closed_at``;
* every figure that is not a count is a string, rounded to 8 decimal places.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from psycopg import sql

from testudo.db.database import Conn
from testudo.money import wire

from .filters import (
    TradeFilter,
    day_range_where,
    rollup_compatible,
    rollup_where,
    uses_dimensions,
    where_clause,
)

STEP = Decimal("1e-8")
PROFIT_FACTOR_CAP = Decimal("999.99")
RUIN_HORIZON = 20
MAX_SCATTER_POINTS = 10_000


def fig(value: Decimal | int | None) -> str | None:
    """A figure on the wire: 8 decimals at most, no exponent, no trailing zeros."""
    if value is None:
        return None
    return wire(Decimal(value).quantize(STEP, rounding=ROUND_HALF_EVEN))


def _pct(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return Decimal(part) / Decimal(whole) * 100 if whole else Decimal(0)


# --------------------------------------------------------------------------- sources
#
# Each figure has two sources that return the same columns: the trades themselves, and the
# per-day rollups (migration 0008) when the filter allows (no tags, whole-day bounds).
# tests/journal/test_analytics_paths.py checks that both give identical answers.

TRADE_TOTALS = sql.SQL("""
SELECT count(*) AS n, count(*) FILTER (WHERE t.net_pnl > 0) AS wins,
       coalesce(sum(t.realized_pnl), 0) AS total_pnl, coalesce(sum(t.fees), 0) AS total_fees,
       coalesce(sum(t.net_pnl), 0) AS net_pnl,
       coalesce(sum(t.net_pnl) FILTER (WHERE t.net_pnl > 0), 0) AS gross_profit,
       coalesce(-sum(t.net_pnl) FILTER (WHERE t.net_pnl <= 0), 0) AS gross_loss,
       max(t.net_pnl) FILTER (WHERE t.net_pnl > 0) AS largest_win,
       min(t.net_pnl) FILTER (WHERE t.net_pnl <= 0) AS largest_loss,
       coalesce(sum(t.r_multiple), 0) AS r_sum, count(t.r_multiple) AS r_count,
       coalesce(sum(t.duration_secs), 0) AS duration_sum,
       min(t.closed_at) AS first_closed, max(t.closed_at) AS last_closed
FROM journal_trades t WHERE {where}
""")
ROLLUP_TOTALS = sql.SQL("""
SELECT coalesce(sum(r.trade_count), 0) AS n, coalesce(sum(r.win_count), 0) AS wins,
       coalesce(sum(r.realized_pnl), 0) AS total_pnl, coalesce(sum(r.fees), 0) AS total_fees,
       coalesce(sum(r.net_pnl), 0) AS net_pnl,
       coalesce(sum(r.gross_profit), 0) AS gross_profit,
       coalesce(sum(r.gross_loss), 0) AS gross_loss,
       max(r.max_win) AS largest_win, min(r.max_loss) AS largest_loss,
       coalesce(sum(r.r_sum), 0) AS r_sum, coalesce(sum(r.r_count), 0) AS r_count,
       coalesce(sum(r.duration_sum), 0) AS duration_sum,
       min(r.first_closed) AS first_closed, max(r.last_closed) AS last_closed
FROM journal_day_rollups r WHERE {where}
""")
TRADE_DAYS = sql.SQL("""
SELECT (t.closed_at AT TIME ZONE 'UTC')::date AS day, sum(t.net_pnl) AS pnl, count(*) AS n,
       count(*) FILTER (WHERE t.net_pnl > 0) AS wins, sum(t.fees) AS fees
FROM journal_trades t WHERE {where} GROUP BY 1
""")
ROLLUP_DAYS = sql.SQL("""
SELECT r.day, sum(r.net_pnl) AS pnl, sum(r.trade_count) AS n, sum(r.win_count) AS wins,
       sum(r.fees) AS fees
FROM journal_day_rollups r WHERE {where} GROUP BY 1
""")


def _totals_query(user_id: str, flt: TradeFilter) -> tuple[sql.Composed, dict[str, object]]:
    if rollup_compatible(flt):
        where, params = rollup_where(user_id, flt)
        return ROLLUP_TOTALS.format(where=where), params
    where, params = where_clause(user_id, flt)
    return TRADE_TOTALS.format(where=where), params


def _days_source(user_id: str, flt: TradeFilter) -> tuple[sql.Composed, dict[str, object]]:
    """``(day, pnl, n, wins, fees)`` per UTC close day, unordered."""
    if rollup_compatible(flt):
        where, params = rollup_where(user_id, flt)
        return ROLLUP_DAYS.format(where=where), params
    where, params = where_clause(user_id, flt)
    return TRADE_DAYS.format(where=where), params


# --------------------------------------------------------------------------- overview

# Best and worst UTC day, ISO week and calendar month, and the drawdown of the end-of-day
# cumulative P&L curve (the peak starts at 0: the start counts as a peak).
OVERVIEW_DAYS = sql.SQL("""
WITH days AS ({days}),
curve AS (
    SELECT cum, greatest(0, max(cum) OVER w) AS peak
    FROM (SELECT day, sum(pnl) OVER w AS cum FROM days
          WINDOW w AS (ORDER BY day ROWS UNBOUNDED PRECEDING)) c
    WINDOW w AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
),
periods AS (
    SELECT 'day' AS kind, pnl FROM days
    UNION ALL
    SELECT 'week', sum(pnl) FROM days GROUP BY date_trunc('week', day)
    UNION ALL
    SELECT 'month', sum(pnl) FROM days GROUP BY date_trunc('month', day)
)
SELECT kind, min(pnl) AS worst, max(pnl) AS best FROM periods GROUP BY kind
UNION ALL
SELECT 'drawdown', max(peak - cum), max((peak - cum) / peak * 100) FILTER (WHERE peak > 0)
FROM curve
""")

# Win/loss runs in close order, from the trades: where a run starts, how long each one is.
TRADE_STREAKS = sql.SQL("""
SELECT coalesce(max(rn - run_start + 1) FILTER (WHERE win), 0) AS best_win,
       coalesce(max(rn - run_start + 1) FILTER (WHERE NOT win), 0) AS best_loss,
       max(ARRAY[rn, CASE WHEN win THEN rn - run_start + 1 ELSE run_start - rn - 1 END])
           AS last_run
FROM (
    SELECT rn, win, max(CASE WHEN changed THEN rn END) OVER w AS run_start
    FROM (
        SELECT t.closed_at, t.id, t.net_pnl > 0 AS win, row_number() OVER w AS rn,
               (t.net_pnl > 0) IS DISTINCT FROM lag(t.net_pnl > 0) OVER w AS changed
        FROM journal_trades t WHERE {where}
        WINDOW w AS (ORDER BY t.closed_at, t.id ROWS UNBOUNDED PRECEDING)
    ) s
    WINDOW w AS (ORDER BY s.closed_at, s.id ROWS UNBOUNDED PRECEDING)
) d
""")

# The same from the per-day run summaries: each day contributes its first run and, when the
# day holds more than one run, its last run; consecutive segments of one sign join across
# days unless the earlier one is the first run of a day with more runs after it.
ROLLUP_STREAKS = sql.SQL("""
WITH d AS (SELECT * FROM journal_day_streaks r WHERE {where}),
seg AS (
    SELECT day, 0 AS pos, lead_win AS win, lead_len AS len, lead_len = trade_count AS whole
    FROM d
    UNION ALL
    SELECT day, 1, trail_win, trail_len, true FROM d WHERE lead_len < trade_count
),
marked AS (
    SELECT *, CASE WHEN win IS DISTINCT FROM lag(win) OVER w
                     OR (lag(pos) OVER w = 0 AND NOT lag(whole) OVER w) THEN 1 ELSE 0 END
                  AS brk
    FROM seg WINDOW w AS (ORDER BY day, pos)
),
islands AS (
    SELECT island, bool_or(win) AS win, sum(len) AS len, max(day) AS last_day, max(pos) AS p
    FROM (SELECT *, sum(brk) OVER (ORDER BY day, pos ROWS UNBOUNDED PRECEDING) AS island
          FROM marked) m
    GROUP BY island
)
SELECT greatest((SELECT max(best_win) FROM d),
                (SELECT max(len) FROM islands WHERE win), 0) AS best_win,
       greatest((SELECT max(best_loss) FROM d),
                (SELECT max(len) FROM islands WHERE NOT win), 0) AS best_loss,
       (SELECT ARRAY[island, CASE WHEN win THEN len ELSE -len END]
        FROM islands ORDER BY island DESC LIMIT 1) AS last_run
""")


def profit_factor(gross_profit: Decimal, gross_loss: Decimal) -> Decimal:
    """``gp / gl`` capped at 999.99; 999.99 with profits and no losses; 0 otherwise."""
    if gross_loss > 0:
        return min(gross_profit / gross_loss, PROFIT_FACTOR_CAP)
    return PROFIT_FACTOR_CAP if gross_profit > 0 else Decimal(0)


def risk_of_ruin(win_rate: Decimal) -> Decimal:
    """``(1 - win_rate/100) ** 20 x 100``: the chance of 20 losses in a row (percent)."""
    if win_rate >= 100:
        return Decimal(0)
    if win_rate <= 0:
        return Decimal(100)
    return (1 - win_rate / 100) ** RUIN_HORIZON * 100


def _streaks_query(user_id: str, flt: TradeFilter) -> tuple[sql.Composed, dict[str, object]]:
    if rollup_compatible(flt) and not uses_dimensions(flt):
        where, params = day_range_where(user_id, flt)
        return ROLLUP_STREAKS.format(where=where), params
    where, params = where_clause(user_id, flt)
    return TRADE_STREAKS.format(where=where), params


def overview(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    query, params = _totals_query(user_id, flt)
    row = conn.execute(query, params).fetchone()
    assert row is not None
    days_query, days_params = _days_source(user_id, flt)
    periods = {
        r["kind"]: r
        for r in conn.execute(OVERVIEW_DAYS.format(days=days_query), days_params).fetchall()
    }
    streak_query, streak_params = _streaks_query(user_id, flt)
    streaks = conn.execute(streak_query, streak_params).fetchone()
    assert streaks is not None
    n = int(row["n"])
    wins = int(row["wins"])
    losses = n - wins
    win_rate = _pct(wins, n)
    avg_win = row["gross_profit"] / wins if wins else Decimal(0)
    avg_loss = -row["gross_loss"] / losses if losses else Decimal(0)
    expectancy = win_rate / 100 * avg_win - _pct(losses, n) / 100 * abs(avg_loss)
    r_count = int(row["r_count"])
    avg_r = row["r_sum"] / r_count if r_count else Decimal(0)
    if n:
        span_days = (row["last_closed"] - row["first_closed"]).total_seconds() // 86_400
        days = max(1, int(span_days))
    else:
        days = 0
    last_run = streaks["last_run"]
    drawdown = periods.get("drawdown")

    def period(kind: str, key: str) -> str | None:
        found = periods.get(kind)
        return fig(found[key]) if found else None

    return {
        "account": {
            "total_trades": n,
            "total_pnl": fig(row["total_pnl"]),
            "total_fees": fig(row["total_fees"]),
            "net_pnl": fig(row["net_pnl"]),
        },
        "performance": {
            "win_count": wins,
            "loss_count": losses,
            "win_rate": fig(win_rate),
            "profit_factor": fig(profit_factor(row["gross_profit"], row["gross_loss"])),
            "gross_profit": fig(row["gross_profit"]),
            "gross_loss": fig(row["gross_loss"]),
            "avg_win": fig(avg_win),
            "avg_loss": fig(avg_loss),
            "largest_win": fig(row["largest_win"] or 0),
            "largest_loss": fig(row["largest_loss"] or 0),
            "expectancy": fig(expectancy),
            "expectancy_r": fig(avg_r) if r_count else None,
            "avg_r_multiple": fig(avg_r),
            "r_trade_count": r_count,
            "trades_per_day": fig(Decimal(n) / days if days else Decimal(0)),
            "avg_duration_secs": int(row["duration_sum"]) // n if n else 0,
            "total_duration_days": days,
        },
        "risk": {
            "max_drawdown": fig(drawdown["worst"] if drawdown and n else 0),
            "max_drawdown_pct": fig((drawdown["best"] or 0) if drawdown and n else 0),
            "worst_day": period("day", "worst"),
            "best_day": period("day", "best"),
            "worst_week": period("week", "worst"),
            "best_week": period("week", "best"),
            "worst_month": period("month", "worst"),
            "best_month": period("month", "best"),
            "avg_r_multiple": fig(avg_r),
            "risk_of_ruin": fig(risk_of_ruin(win_rate)) if n else None,
            "current_streak": int(last_run[1]) if last_run else 0,
            "best_streak": int(streaks["best_win"]),
            "worst_streak": -int(streaks["best_loss"]),
        },
    }


# --------------------------------------------------------------------------- time series

EQUITY_CURVE = sql.SQL("""
SELECT day, pnl, n, equity, greatest(%(base)s::numeric, max(equity) OVER w) AS peak
FROM (
    SELECT day, pnl, n,
           %(base)s::numeric + sum(pnl) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING) AS equity
    FROM ({days}) d
) e
WINDOW w AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
ORDER BY day
""")
STARTING_BALANCE = """
SELECT starting_balance FROM exchange_accounts WHERE id = %s AND user_id = %s
"""


def _starting_balance(conn: Conn, user_id: str, flt: TradeFilter) -> Decimal | None:
    if flt.account_id is None:
        return None
    found = conn.execute(STARTING_BALANCE, (flt.account_id, user_id)).fetchone()
    return found["starting_balance"] if found else None


def equity_curve(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    """Cumulative net P&L per UTC day, with peak and drawdown.

    With an ``account`` filter whose account has a starting balance, the curve is equity
    (starting balance + cumulative P&L) and the peak starts at the starting balance;
    otherwise it is cumulative P&L and the peak starts at 0.
    """
    base = _starting_balance(conn, user_id, flt)
    days, params = _days_source(user_id, flt)
    start = base or Decimal(0)
    params["base"] = start
    points = []
    for row in conn.execute(EQUITY_CURVE.format(days=days), params).fetchall():
        equity: Decimal = row["equity"]
        peak: Decimal = row["peak"]
        drawdown = equity - peak
        point: dict[str, Any] = {
            "date": row["day"].isoformat(),
            "pnl": fig(row["pnl"]),
            "trade_count": int(row["n"]),
            "cumulative_pnl": fig(equity - start),
            "peak": fig(peak),
            "drawdown": fig(drawdown),
            "drawdown_pct": fig(drawdown / peak * 100 if peak > 0 else Decimal(0)),
            "is_true_equity": False,
        }
        if base is not None:
            point["equity"] = fig(equity)
        points.append(point)
    return {"data": points, "starting_balance": fig(base)}


DAILY_PNL = sql.SQL("SELECT * FROM ({days}) d ORDER BY day")


def daily_pnl(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    days, params = _days_source(user_id, flt)
    rows = conn.execute(DAILY_PNL.format(days=days), params).fetchall()
    return {
        "data": [
            {
                "date": r["day"].isoformat(),
                "pnl": fig(r["pnl"]),
                "trade_count": int(r["n"]),
                "win_count": int(r["wins"]),
                "loss_count": int(r["n"]) - int(r["wins"]),
                "fees": fig(r["fees"]),
            }
            for r in rows
        ]
    }


# --------------------------------------------------------------------------- breakdowns

TRADE_GROUP = """
count(*) AS n,
count(*) FILTER (WHERE t.net_pnl > 0) AS wins,
sum(t.net_pnl) AS net,
coalesce(sum(t.net_pnl) FILTER (WHERE t.net_pnl > 0), 0) AS gross_profit,
coalesce(-sum(t.net_pnl) FILTER (WHERE t.net_pnl <= 0), 0) AS gross_loss,
sum(t.fees) AS fees,
coalesce(sum(t.r_multiple), 0) AS r_sum,
count(t.r_multiple) AS r_count
"""
ROLLUP_GROUP = """
sum(r.trade_count) AS n, sum(r.win_count) AS wins, sum(r.net_pnl) AS net,
sum(r.gross_profit) AS gross_profit, sum(r.gross_loss) AS gross_loss, sum(r.fees) AS fees,
sum(r.r_sum) AS r_sum, sum(r.r_count) AS r_count
"""
BREAKDOWNS = {
    ("symbol", False): sql.SQL(
        "SELECT t.symbol AS key, " + TRADE_GROUP + " FROM journal_trades t WHERE {where} GROUP BY 1"
    ),
    ("symbol", True): sql.SQL(
        "SELECT r.symbol AS key, " + ROLLUP_GROUP + " FROM journal_day_rollups r WHERE {where}"
        " GROUP BY 1"
    ),
    ("setup", False): sql.SQL(
        "SELECT coalesce(nullif(lower(t.setup_tag), ''), '(untagged)') AS key, "
        + TRADE_GROUP
        + " FROM journal_trades t WHERE {where} GROUP BY 1"
    ),
    ("setup", True): sql.SQL(
        "SELECT coalesce(nullif(r.setup_key, ''), '(untagged)') AS key, "
        + ROLLUP_GROUP
        + " FROM journal_day_rollups r WHERE {where} GROUP BY 1"
    ),
}


def _breakdown(conn: Conn, user_id: str, flt: TradeFilter, by: str) -> list[dict[str, Any]]:
    fast = rollup_compatible(flt)
    where, params = rollup_where(user_id, flt) if fast else where_clause(user_id, flt)
    return conn.execute(BREAKDOWNS[(by, fast)].format(where=where), params).fetchall()


def _group(row: dict[str, Any]) -> dict[str, Any]:
    n = int(row["n"])
    r_count = int(row["r_count"])
    return {
        "trade_count": n,
        "total_pnl": fig(row["net"]),
        "win_rate": fig(_pct(int(row["wins"]), n)),
        "avg_r_multiple": fig(row["r_sum"] / r_count) if r_count else None,
        "expectancy": fig(row["net"] / n if n else 0),
        "profit_factor": fig(profit_factor(row["gross_profit"], row["gross_loss"])),
        "fees": fig(row["fees"]),
    }


def symbol_breakdown(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    rows = _breakdown(conn, user_id, flt, "symbol")
    rows.sort(key=lambda r: (-int(r["n"]), r["key"]))
    return {"data": [{"symbol": r["key"], **_group(r)} for r in rows]}


def setup_breakdown(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    rows = _breakdown(conn, user_id, flt, "setup")
    rows.sort(key=lambda r: (-(r["net"] / int(r["n"])), r["key"]))
    return {"data": [{"setup_tag": r["key"], **_group(r)} for r in rows]}


# --------------------------------------------------------------------------- distributions

# Holding-time buckets: upper bounds in seconds (the last is open-ended).
DURATION_BUCKETS = (
    ("< 1m", 60),
    ("1-5m", 300),
    ("5-15m", 900),
    ("15m-1h", 3600),
    ("1-4h", 14_400),
    ("4-24h", 86_400),
    ("1-7d", 604_800),
    ("> 7d", None),
)
DURATION_POINTS = sql.SQL("""
SELECT duration_secs, net_pnl, symbol, closed_at FROM (
    SELECT t.duration_secs, t.net_pnl, t.symbol, t.closed_at, t.id FROM journal_trades t
    WHERE {where} ORDER BY t.closed_at DESC, t.id DESC LIMIT %(points)s
) p ORDER BY closed_at, id
""")
DURATION_BUCKET_QUERY = sql.SQL("""
SELECT width_bucket(t.duration_secs, %(bounds)s::integer[]) AS bucket, count(*) AS n,
       count(*) FILTER (WHERE t.net_pnl > 0) AS wins, sum(t.net_pnl) AS net,
       avg(t.r_multiple) AS avg_r, count(t.r_multiple) AS r_count
FROM journal_trades t WHERE {where} GROUP BY 1 ORDER BY 1
""")


def duration_profit(
    conn: Conn, user_id: str, flt: TradeFilter, *, points: int = 2000
) -> dict[str, Any]:
    """Scatter points (the latest ``points`` trades, oldest first) and holding-time buckets."""
    where, params = where_clause(user_id, flt)
    params["points"] = max(1, min(points, MAX_SCATTER_POINTS))
    rows = conn.execute(DURATION_POINTS.format(where=where), params).fetchall()
    bounds = [b for _, b in DURATION_BUCKETS if b is not None]
    params["bounds"] = bounds
    found = {
        int(r["bucket"]): r
        for r in conn.execute(DURATION_BUCKET_QUERY.format(where=where), params).fetchall()
    }
    buckets = []
    for index, (label, upper) in enumerate(DURATION_BUCKETS):
        r = found.get(index)
        n = int(r["n"]) if r else 0
        buckets.append(
            {
                "bucket": label,
                "max_secs": upper,
                "trade_count": n,
                "win_rate": fig(_pct(int(r["wins"]), n) if r else 0),
                "total_pnl": fig(r["net"] if r else 0),
                "avg_pnl": fig(r["net"] / n if r and n else 0),
                "avg_r_multiple": fig(r["avg_r"]) if r and r["r_count"] else None,
            }
        )
    total = sum(b["trade_count"] for b in buckets)  # type: ignore[misc]
    return {
        "data": [
            {
                "duration_secs": float(r["duration_secs"]),
                "pnl": fig(r["net_pnl"]),
                "symbol": r["symbol"],
            }
            for r in rows
        ],
        "total": total,
        "truncated": total > len(rows),
        "buckets": buckets,
    }


RETURN_BY_TRADE = sql.SQL("""
SELECT floor(t.realized_pnl_pct / %(width)s) AS bucket, count(*) AS n
FROM journal_trades t WHERE {where} GROUP BY 1 ORDER BY 1
""")
# The original's daily returns: each day's P&L over the cumulative P&L before it (or, with a
# starting balance, over the equity before it); days with a zero base are skipped.
RETURN_BY_DAY = sql.SQL("""
SELECT floor(pnl / abs(base) * 100 / %(width)s) AS bucket, count(*) AS n
FROM (
    SELECT pnl, %(base)s::numeric
               + coalesce(sum(pnl) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING
                                                         AND 1 PRECEDING), 0) AS base
    FROM (
        SELECT (t.closed_at AT TIME ZONE 'UTC')::date AS day, sum(t.net_pnl) AS pnl
        FROM journal_trades t WHERE {where} GROUP BY 1
    ) d
) r
WHERE base <> 0 GROUP BY 1 ORDER BY 1
""")


def return_distribution(
    conn: Conn, user_id: str, flt: TradeFilter, *, basis: str = "trade", width: int = 1
) -> dict[str, Any]:
    """Histogram of returns in ``width``-percent buckets labelled by their lower edge.

    ``basis="trade"``: each trade's return on margin (``realized_pnl_pct``).
    ``basis="daily"``: each day's P&L over the cumulative P&L (or equity) before it.
    """
    where, params = where_clause(user_id, flt)
    params["width"] = width
    if basis == "daily":
        params["base"] = _starting_balance(conn, user_id, flt) or Decimal(0)
        query = RETURN_BY_DAY
    else:
        query = RETURN_BY_TRADE
    rows = conn.execute(query.format(where=where), params).fetchall()
    return {
        "basis": basis,
        "bucket_width_pct": width,
        "data": [
            {
                "bucket": f"{int(r['bucket']) * width}%",
                "lower_pct": int(r["bucket"]) * width,
                "count": int(r["n"]),
            }
            for r in rows
        ],
    }


TIME_DISTRIBUTION = sql.SQL("""
SELECT ((extract(isodow FROM t.opened_at AT TIME ZONE 'UTC')::int - 1) * 24
         + extract(hour FROM t.opened_at AT TIME ZONE 'UTC')::int) AS slot,
       count(*) AS n, sum(t.net_pnl) AS net, count(*) FILTER (WHERE t.net_pnl > 0) AS wins
FROM journal_trades t WHERE {where} GROUP BY 1 ORDER BY 1
""")
ROLLUP_TIME_DISTRIBUTION = sql.SQL("""
SELECT r.slot, sum(r.trade_count) AS n, sum(r.net_pnl) AS net, sum(r.win_count) AS wins
FROM journal_slot_rollups r WHERE {where} GROUP BY 1 ORDER BY 1
""")


def time_distribution(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    """Trades by weekday (0 = Monday) and hour of opening, UTC; ``avg_pnl`` is an average."""
    if rollup_compatible(flt) and not uses_dimensions(flt):
        where, params = day_range_where(user_id, flt)
        query = ROLLUP_TIME_DISTRIBUTION.format(where=where)
    else:
        where, params = where_clause(user_id, flt)
        query = TIME_DISTRIBUTION.format(where=where)
    rows = conn.execute(query, params).fetchall()
    return {
        "data": [
            {
                "day_of_week": int(r["slot"]) // 24,
                "hour": int(r["slot"]) % 24,
                "trade_count": int(r["n"]),
                "total_pnl": fig(r["net"]),
                "avg_pnl": fig(r["net"] / r["n"]),
                "win_rate": fig(_pct(int(r["wins"]), int(r["n"]))),
            }
            for r in rows
        ]
    }


# --------------------------------------------------------------------------- options

FILTER_EXCHANGES = "SELECT DISTINCT exchange FROM journal_trades WHERE user_id = %s ORDER BY 1"
FILTER_SYMBOLS = """
SELECT symbol, count(*) AS n FROM journal_trades
WHERE user_id = %(user)s AND (%(exchange)s::text IS NULL OR exchange = %(exchange)s::text)
GROUP BY symbol ORDER BY n DESC, symbol
"""
FILTER_ACCOUNTS = """
SELECT t.exchange_account_id AS id, a.exchange, a.account_name, count(*) AS n
FROM journal_trades t JOIN exchange_accounts a ON a.id = t.exchange_account_id
WHERE t.user_id = %s GROUP BY 1, 2, 3 ORDER BY a.account_name
"""
FILTER_SOURCES = "SELECT DISTINCT source FROM journal_trades WHERE user_id = %s ORDER BY 1"
FILTER_SETUPS = """
SELECT lower(setup_tag) AS setup_tag, count(*) AS n FROM journal_trades
WHERE user_id = %s AND setup_tag IS NOT NULL AND setup_tag <> '' GROUP BY 1 ORDER BY n DESC, 1
"""
FILTER_TAGS = """
SELECT g.id, g.name, g.color, count(tt.trade_id) AS n
FROM journal_tags g LEFT JOIN journal_trade_tags tt ON tt.tag_id = g.id
WHERE g.user_id = %s GROUP BY g.id ORDER BY lower(g.name)
"""


def filter_options(conn: Conn, user_id: str, exchange: str | None) -> dict[str, Any]:
    symbols = conn.execute(FILTER_SYMBOLS, {"user": user_id, "exchange": exchange}).fetchall()
    return {
        "exchanges": [r["exchange"] for r in conn.execute(FILTER_EXCHANGES, (user_id,))],
        "symbols": [{"symbol": r["symbol"], "count": int(r["n"])} for r in symbols],
        "accounts": [
            {
                "id": str(r["id"]),
                "exchange": r["exchange"],
                "account_name": r["account_name"],
                "count": int(r["n"]),
            }
            for r in conn.execute(FILTER_ACCOUNTS, (user_id,))
        ],
        "sides": ["LONG", "SHORT"],
        "sources": [r["source"] for r in conn.execute(FILTER_SOURCES, (user_id,))],
        "setup_tags": [
            {"setup_tag": r["setup_tag"], "count": int(r["n"])}
            for r in conn.execute(FILTER_SETUPS, (user_id,))
        ],
        "tags": [
            {"id": str(r["id"]), "name": r["name"], "color": r["color"], "count": int(r["n"])}
            for r in conn.execute(FILTER_TAGS, (user_id,))
        ],
    }


# --------------------------------------------------------------------------- break-even exits

BREAK_EVEN = sql.SQL("""
SELECT count(*) AS n,
       count(*) FILTER (WHERE be) AS be_n,
       count(*) FILTER (WHERE be AND t.close_reason LIKE 'break_even%%') AS be_stop_n,
       coalesce(sum(t.net_pnl) FILTER (WHERE be), 0) AS be_net,
       coalesce(sum(t.fees) FILTER (WHERE be), 0) AS be_fees,
       avg(t.r_multiple) FILTER (WHERE be) AS be_avg_r,
       avg(t.duration_secs) FILTER (WHERE be) AS be_duration,
       count(*) FILTER (WHERE t.close_reason LIKE 'break_even%%') AS stop_moves,
       count(*) FILTER (WHERE t.close_reason LIKE 'break_even%%' AND NOT be) AS stop_moves_kept
FROM journal_trades t
CROSS JOIN LATERAL (
    SELECT t.close_reason LIKE 'break_even%%'
           OR abs(t.exit_price - t.entry_price) <= t.entry_price * %(tolerance)s AS be
) b
WHERE {where}
""")
BREAK_EVEN_BY_SYMBOL = sql.SQL("""
SELECT t.symbol, count(*) AS n, coalesce(sum(t.net_pnl), 0) AS net
FROM journal_trades t
WHERE {where} AND (t.close_reason LIKE 'break_even%%'
                   OR abs(t.exit_price - t.entry_price) <= t.entry_price * %(tolerance)s)
GROUP BY 1 ORDER BY n DESC, 1
""")


def break_even(
    conn: Conn, user_id: str, flt: TradeFilter, *, tolerance_bps: int = 5
) -> dict[str, Any]:
    """Break-even exits: closed by a break-even stop, or within ``tolerance_bps`` of entry.

    What a scratch costs (fees, usually) and how often a break-even stop move ended the trade
    at entry rather than letting it run.
    """
    where, params = where_clause(user_id, flt)
    params["tolerance"] = Decimal(tolerance_bps) / 10_000
    row = conn.execute(BREAK_EVEN.format(where=where), params).fetchone()
    assert row is not None
    by_symbol = conn.execute(BREAK_EVEN_BY_SYMBOL.format(where=where), params).fetchall()
    n, be_n = int(row["n"]), int(row["be_n"])
    return {
        "tolerance_bps": tolerance_bps,
        "trade_count": n,
        "break_even_count": be_n,
        "break_even_rate": fig(_pct(be_n, n)),
        "net_pnl": fig(row["be_net"]),
        "fees": fig(row["be_fees"]),
        "avg_r_multiple": fig(row["be_avg_r"]),
        "avg_duration_secs": int(row["be_duration"]) if be_n else 0,
        "break_even_stop_exits": int(row["be_stop_n"]),
        "break_even_stop_moves": int(row["stop_moves"]),
        "stop_moves_closed_away_from_entry": int(row["stop_moves_kept"]),
        "by_symbol": [
            {"symbol": r["symbol"], "count": int(r["n"]), "net_pnl": fig(r["net"])}
            for r in by_symbol
        ],
    }


# --------------------------------------------------------------------------- Decision Loop

DECISIONS = sql.SQL("""
SELECT d.approved, coalesce(d.limiting_constraint, '(none)') AS constraint_name,
       count(*) AS decisions,
       count(t.id) AS trades,
       count(t.id) FILTER (WHERE t.net_pnl > 0) AS wins,
       coalesce(sum(t.net_pnl), 0) AS net,
       avg(t.r_multiple) AS avg_r,
       count(t.r_multiple) AS r_count
FROM risk_decisions d
LEFT JOIN exchange_accounts a ON a.id = d.exchange_account_id
LEFT JOIN journal_trades t ON t.trade_group_id = d.trade_group_id AND {trade_where}
WHERE {decision_where}
GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC, 2
""")


def _decision_where(user_id: str, flt: TradeFilter) -> tuple[sql.Composable, dict[str, object]]:
    parts: list[sql.Composable] = [sql.SQL("d.user_id = %(d_user)s")]
    params: dict[str, object] = {"d_user": user_id}
    checks: list[tuple[str, str, object]] = [
        ("a.exchange = %(d_exchange)s", "d_exchange", flt.exchange),
        ("d.exchange_account_id = %(d_account)s", "d_account", flt.account_id),
        ("d.created_at >= %(d_from)s", "d_from", flt.closed_from),
        ("d.created_at < %(d_before)s", "d_before", flt.closed_before),
    ]
    if flt.symbol is not None:
        checks.append(("d.symbol = %(d_symbol)s", "d_symbol", flt.symbol))
    if flt.side is not None:
        checks.append(("d.side = %(d_side)s", "d_side", "buy" if flt.side == "LONG" else "sell"))
    for text, key, value in checks:
        if value is not None:
            parts.append(sql.SQL(text))
            params[key] = value
    return sql.SQL(" AND ").join(parts), params


def decisions(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    """Decision Loop evaluations, taken vs rejected, by limiting constraint, with outcomes.

    The date range applies to the decision time; exchange, account, symbol and side to the
    decision; source, setup tag and tags to the journal trades the taken decisions became.
    """
    trade_where, trade_params = where_clause(
        user_id,
        TradeFilter(
            source=flt.source, setup_tag=flt.setup_tag, tags=flt.tags, tag_match=flt.tag_match
        ),
    )
    decision_where, params = _decision_where(user_id, flt)
    query = DECISIONS.format(trade_where=trade_where, decision_where=decision_where)
    rows = conn.execute(query, {**params, **trade_params}).fetchall()
    taken = [r for r in rows if r["approved"]]
    rejected = [r for r in rows if not r["approved"]]
    total = sum(int(r["decisions"]) for r in rows)
    approved = sum(int(r["decisions"]) for r in taken)

    def outcome(r: dict[str, Any]) -> dict[str, Any]:
        trades = int(r["trades"])
        return {
            "limiting_constraint": r["constraint_name"],
            "decisions": int(r["decisions"]),
            "trades": trades,
            "win_rate": fig(_pct(int(r["wins"]), trades)) if trades else None,
            "net_pnl": fig(r["net"]),
            "avg_r_multiple": fig(r["avg_r"]) if r["r_count"] else None,
        }

    traded = sum(int(r["trades"]) for r in taken)
    wins = sum(int(r["wins"]) for r in taken)
    return {
        "total": total,
        "approved": approved,
        "rejected": total - approved,
        "approval_rate": fig(_pct(approved, total)),
        "taken": [outcome(r) for r in taken],
        "rejected_by": [
            {"limiting_constraint": r["constraint_name"], "decisions": int(r["decisions"])}
            for r in rejected
        ],
        "outcomes": {
            "trades": traded,
            "win_rate": fig(_pct(wins, traded)) if traded else None,
            "net_pnl": fig(sum((r["net"] for r in taken), Decimal(0))),
        },
    }


# Named as their paths are (/analytics/<name>), in the batch too: one spelling.
SECTIONS: dict[str, Callable[[Conn, str, TradeFilter], dict[str, Any]]] = {
    "overview": overview,
    "equity-curve": equity_curve,
    "daily-pnl": daily_pnl,
    "symbol-breakdown": symbol_breakdown,
    "setup-breakdown": setup_breakdown,
    "duration-profit": duration_profit,
    "return-distribution": return_distribution,
    "time-distribution": time_distribution,
    "break-even": break_even,
    "decisions": decisions,
}
