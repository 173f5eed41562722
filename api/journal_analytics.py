"""``/api/v1/journal/analytics/*``: every analytics endpoint, all with the same trade filter."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request

from testudo.db.database import Conn
from testudo.journal import analytics
from testudo.journal.filters import TradeFilter

from .auth_guard import authenticated
from .journal_common import TradeFilterQuery, run, user_id

log = logging.getLogger("testudo.api.analytics")
analytics_blueprint = Blueprint("journal_analytics", __name__, url_prefix="/analytics")
ANALYTICS = tag(["journal analytics"])
Section = Literal[
    "overview",
    "equity-curve",
    "daily-pnl",
    "symbol-breakdown",
    "setup-breakdown",
    "duration-profit",
    "return-distribution",
    "time-distribution",
    "break-even",
    "decisions",
]


class DurationQuery(TradeFilterQuery):
    points: int | None = Field(default=None, ge=1, le=analytics.MAX_SCATTER_POINTS)


class ReturnQuery(TradeFilterQuery):
    basis: Literal["trade", "daily"] | None = None
    bucket_width: int | None = Field(default=None, ge=1, le=100)


class BreakEvenQuery(TradeFilterQuery):
    tolerance_bps: int | None = Field(default=None, ge=0, le=1000)


class OptionsQuery(BaseModel):
    exchange: str | None = Field(default=None, max_length=50)


class BatchBody(BaseModel):
    filter: TradeFilterQuery = Field(default_factory=TradeFilterQuery)
    sections: list[Section] | None = None


async def _answer(
    compute: Callable[[Conn, str, TradeFilter], dict[str, Any]], query: TradeFilterQuery
) -> dict[str, Any]:
    flt = query.to_filter()
    uid = user_id()
    return await run(lambda conn: compute(conn, uid, flt))


@analytics_blueprint.get("/overview")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def overview(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Account, performance and risk figures (win rate, profit factor, expectancy in currency
    and R, drawdown, streaks, risk of ruin, best/worst periods)."""
    return await _answer(analytics.overview, query_args)


@analytics_blueprint.get("/equity-curve")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def equity_curve(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Cumulative net P&L per UTC day with peak and drawdown (equity with an account filter
    whose account has a starting balance)."""
    return await _answer(analytics.equity_curve, query_args)


@analytics_blueprint.get("/daily-pnl")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def daily_pnl(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Net P&L, trades, wins and fees per UTC day."""
    return await _answer(analytics.daily_pnl, query_args)


@analytics_blueprint.get("/symbol-breakdown")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def symbol_breakdown(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Per symbol: trades, net P&L, win rate, average R, expectancy, profit factor, fees."""
    return await _answer(analytics.symbol_breakdown, query_args)


@analytics_blueprint.get("/setup-breakdown")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def setup_breakdown(query_args: TradeFilterQuery) -> dict[str, Any]:
    """The same figures per setup tag (case-insensitive; ``(untagged)``), best first."""
    return await _answer(analytics.setup_breakdown, query_args)


@analytics_blueprint.get("/duration-profit")
@ANALYTICS
@authenticated
@validate_querystring(DurationQuery)
async def duration_profit(query_args: DurationQuery) -> dict[str, Any]:
    """Holding time vs net P&L: scatter points (latest ``points``) and holding-time buckets."""
    points = query_args.points or 2000
    return await _answer(
        lambda conn, uid, flt: analytics.duration_profit(conn, uid, flt, points=points),
        query_args,
    )


@analytics_blueprint.get("/return-distribution")
@ANALYTICS
@authenticated
@validate_querystring(ReturnQuery)
async def return_distribution(query_args: ReturnQuery) -> dict[str, Any]:
    """Histogram of returns: per trade (return on margin, default) or per day (``basis=daily``)."""
    basis = query_args.basis or "trade"
    width = query_args.bucket_width or 1
    return await _answer(
        lambda conn, uid, flt: analytics.return_distribution(
            conn, uid, flt, basis=basis, width=width
        ),
        query_args,
    )


@analytics_blueprint.get("/time-distribution")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def time_distribution(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Trades by weekday (0 = Monday) and hour of opening (UTC): count, total and average P&L."""
    return await _answer(analytics.time_distribution, query_args)


@analytics_blueprint.get("/break-even")
@ANALYTICS
@authenticated
@validate_querystring(BreakEvenQuery)
async def break_even(query_args: BreakEvenQuery) -> dict[str, Any]:
    """Break-even exits: by a break-even stop or within ``tolerance_bps`` (default 5) of entry."""
    tolerance = 5 if query_args.tolerance_bps is None else query_args.tolerance_bps
    return await _answer(
        lambda conn, uid, flt: analytics.break_even(conn, uid, flt, tolerance_bps=tolerance),
        query_args,
    )


@analytics_blueprint.get("/decisions")
@ANALYTICS
@authenticated
@validate_querystring(TradeFilterQuery)
async def decisions(query_args: TradeFilterQuery) -> dict[str, Any]:
    """Decision Loop: evaluations taken vs rejected by limiting constraint, and what the taken
    ones became in the journal."""
    return await _answer(analytics.decisions, query_args)


@analytics_blueprint.get("/filter-options")
@ANALYTICS
@authenticated
@validate_querystring(OptionsQuery)
async def filter_options(query_args: OptionsQuery) -> dict[str, Any]:
    """Values to filter by: exchanges, symbols (with counts), accounts, sources, setups, tags."""
    uid = user_id()
    exchange = query_args.exchange.strip().lower() if query_args.exchange else None
    return await run(lambda conn: analytics.filter_options(conn, uid, exchange))


def _bind(
    compute: Callable[[Conn, str, TradeFilter], dict[str, Any]], uid: str, flt: TradeFilter
) -> Callable[[Conn], dict[str, Any]]:
    return lambda conn: compute(conn, uid, flt)


@analytics_blueprint.post("/batch")
@ANALYTICS
@authenticated
@validate_request(BatchBody)
async def batch(data: BatchBody) -> dict[str, Any]:
    """Several sections for one filter in one round trip (all when ``sections`` is omitted).
    A failing section answers ``{"error": ...}`` and the others still come back."""
    flt = data.filter.to_filter()
    uid = user_id()
    wanted: list[str] = list(data.sections or analytics.SECTIONS)
    out: dict[str, Any] = {}
    for name in dict.fromkeys(wanted):
        compute = analytics.SECTIONS[name]
        try:
            out[name] = await run(_bind(compute, uid, flt))
        except Exception as exc:  # one section's failure must not sink the batch
            log.exception("analytics section failed", extra={"json_fields": {"section": name}})
            out[name] = {"error": type(exc).__name__}
    return out
