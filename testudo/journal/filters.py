"""The one trade filter every journal list, export and analytics endpoint shares.

``exchange``, ``account`` (exchange account id), ``symbol``, ``side``, ``source``,
``setup_tag`` (case-insensitive), ``tags`` (tag names, case-insensitive; ``any`` or ``all`` of
them) and a close-date range. Dates are UTC days: ``date_from`` includes its whole day and so
does ``date_to`` (``closed_at < date_to + 1 day``), unlike the original, which dropped the last
day. :func:`where_clause` turns a filter into SQL over ``journal_trades t``; every value is a
bound parameter.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import attrs
from psycopg import sql

from .formulas import normalise_side

MAX_TAGS = 20
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FilterError(ValueError):
    """A filter value is invalid: ``field`` names the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@attrs.frozen
class TradeFilter:
    exchange: str | None = None
    account_id: str | None = None
    symbol: str | None = None
    side: str | None = None  # LONG | SHORT
    source: str | None = None
    setup_tag: str | None = None
    tags: tuple[str, ...] = ()  # lower-cased tag names
    tag_match: str = "any"  # any | all
    closed_from: dt.datetime | None = None  # inclusive
    closed_before: dt.datetime | None = None  # exclusive

    def describe(self) -> dict[str, object]:
        """The filter as applied, for responses (dates as ISO strings)."""
        out: dict[str, object] = {}
        for name in ("exchange", "account_id", "symbol", "side", "source", "setup_tag"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.tags:
            out["tags"] = list(self.tags)
            out["tag_match"] = self.tag_match
        if self.closed_from is not None:
            out["closed_from"] = _iso(self.closed_from)
        if self.closed_before is not None:
            out["closed_before"] = _iso(self.closed_before)
        return out


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_bound(field: str, text: str, *, upper: bool) -> dt.datetime:
    """A ``YYYY-MM-DD`` day or an RFC 3339 instant, as a UTC bound.

    A day as the upper bound means "through the end of that day" (the exclusive bound is the
    next midnight); an instant as the upper bound is inclusive (one microsecond is added).
    """
    value = text.strip()
    try:
        if _DATE.match(value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if upper else moment
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FilterError(field, "expected YYYY-MM-DD or an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment + dt.timedelta(microseconds=1) if upper else moment


def _text(field: str, value: str | None, limit: int = 64) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise FilterError(field, f"at most {limit} characters")
    return value


def build_filter(
    *,
    exchange: str | None = None,
    account: str | None = None,
    symbol: str | None = None,
    side: str | None = None,
    source: str | None = None,
    setup_tag: str | None = None,
    tags: str | None = None,
    tag: str | None = None,
    tag_match: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> TradeFilter:
    """Validate query-string values into a :class:`TradeFilter` (raises :class:`FilterError`)."""
    account_id = _text("account", account)
    if account_id is not None:
        try:
            account_id = str(uuid.UUID(account_id))
        except ValueError:
            raise FilterError("account", "not an exchange account id") from None
    side_value = _text("side", side)
    if side_value is not None:
        try:
            side_value = normalise_side(side_value)
        except ValueError:
            raise FilterError("side", "expected LONG or SHORT") from None
    names: list[str] = []
    for raw in [*(tags or "").split(","), tag or ""]:
        name = raw.strip().lower()
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise FilterError("tags", f"at most {MAX_TAGS} tags")
    match = (tag_match or "any").strip().lower()
    if match not in ("any", "all"):
        raise FilterError("tag_match", "expected any or all")
    closed_from = parse_bound("date_from", date_from, upper=False) if date_from else None
    closed_before = parse_bound("date_to", date_to, upper=True) if date_to else None
    if closed_from is not None and closed_before is not None and closed_before <= closed_from:
        raise FilterError("date_to", "date_to is before date_from")
    exchange_value = _text("exchange", exchange)
    symbol_value = _text("symbol", symbol)
    return TradeFilter(
        exchange=exchange_value.lower() if exchange_value else None,
        account_id=account_id,
        symbol=symbol_value.upper() if symbol_value else None,
        side=side_value,
        source=_text("source", source),
        setup_tag=_text("setup_tag", setup_tag),
        tags=tuple(names),
        tag_match=match,
        closed_from=closed_from,
        closed_before=closed_before,
    )


TAG_ANY = sql.SQL(
    "EXISTS (SELECT 1 FROM journal_trade_tags ft JOIN journal_tags fg ON fg.id = ft.tag_id"
    " WHERE ft.trade_id = {alias}.id AND lower(fg.name) = ANY(%(f_tags)s))"
)
TAG_ALL = sql.SQL(
    "(SELECT count(DISTINCT lower(fg.name)) FROM journal_trade_tags ft"
    " JOIN journal_tags fg ON fg.id = ft.tag_id"
    " WHERE ft.trade_id = {alias}.id AND lower(fg.name) = ANY(%(f_tags)s))"
    " = cardinality(%(f_tags)s::text[])"
)


def where_clause(
    user_id: str, flt: TradeFilter, alias: str = "t"
) -> tuple[sql.Composable, dict[str, object]]:
    """``(condition, params)`` selecting ``user_id``'s trades that pass ``flt``."""
    a = sql.Identifier(alias)
    params: dict[str, object] = {"f_user": user_id}
    parts: list[sql.Composable] = [sql.SQL("{a}.user_id = %(f_user)s").format(a=a)]

    def equal(column: str, key: str, value: object) -> None:
        if value is not None:
            parts.append(
                sql.SQL("{a}.{c} = %({k})s").format(a=a, c=sql.Identifier(column), k=sql.SQL(key))
            )
            params[key] = value

    equal("exchange", "f_exchange", flt.exchange)
    equal("exchange_account_id", "f_account", flt.account_id)
    equal("symbol", "f_symbol", flt.symbol)
    equal("side", "f_side", flt.side)
    equal("source", "f_source", flt.source)
    if flt.setup_tag is not None:
        parts.append(sql.SQL("lower({a}.setup_tag) = lower(%(f_setup)s)").format(a=a))
        params["f_setup"] = flt.setup_tag
    if flt.closed_from is not None:
        parts.append(sql.SQL("{a}.closed_at >= %(f_from)s").format(a=a))
        params["f_from"] = flt.closed_from
    if flt.closed_before is not None:
        parts.append(sql.SQL("{a}.closed_at < %(f_before)s").format(a=a))
        params["f_before"] = flt.closed_before
    if flt.tags:
        template = TAG_ALL if flt.tag_match == "all" else TAG_ANY
        parts.append(template.format(alias=a))
        params["f_tags"] = list(flt.tags)
    return sql.SQL(" AND ").join(parts), params


def _midnight(moment: dt.datetime | None) -> bool:
    return moment is None or moment.astimezone(dt.UTC).time() == dt.time()


def uses_dimensions(flt: TradeFilter) -> bool:
    """Whether the filter narrows by anything other than the date range."""
    return any(
        v is not None
        for v in (flt.exchange, flt.account_id, flt.symbol, flt.side, flt.source, flt.setup_tag)
    ) or bool(flt.tags)


def rollup_compatible(flt: TradeFilter) -> bool:
    """Whether the per-day rollups can answer for this filter: no tags, whole-day bounds."""
    return not flt.tags and _midnight(flt.closed_from) and _midnight(flt.closed_before)


def rollup_where(
    user_id: str, flt: TradeFilter, alias: str = "r"
) -> tuple[sql.Composable, dict[str, object]]:
    """The filter over a rollup table (``day`` plus the dimensions it keeps)."""
    if not rollup_compatible(flt):
        raise ValueError("this filter needs the trades themselves")
    a = sql.Identifier(alias)
    params: dict[str, object] = {"r_user": user_id}
    parts: list[sql.Composable] = [sql.SQL("{a}.user_id = %(r_user)s").format(a=a)]
    values: list[tuple[str, str, object]] = [
        ("exchange", "r_exchange", flt.exchange),
        ("exchange_account_id", "r_account", flt.account_id),
        ("symbol", "r_symbol", flt.symbol),
        ("side", "r_side", flt.side),
        ("source", "r_source", flt.source),
        ("setup_key", "r_setup", flt.setup_tag.lower() if flt.setup_tag else None),
    ]
    for column, key, value in values:
        if value is not None:
            parts.append(
                sql.SQL("{a}.{c} = %({k})s").format(a=a, c=sql.Identifier(column), k=sql.SQL(key))
            )
            params[key] = value
    if flt.closed_from is not None:
        parts.append(sql.SQL("{a}.day >= %(r_from)s").format(a=a))
        params["r_from"] = flt.closed_from.astimezone(dt.UTC).date()
    if flt.closed_before is not None:
        parts.append(sql.SQL("{a}.day < %(r_before)s").format(a=a))
        params["r_before"] = flt.closed_before.astimezone(dt.UTC).date()
    return sql.SQL(" AND ").join(parts), params


def day_range_where(
    user_id: str, flt: TradeFilter, alias: str = "r"
) -> tuple[sql.Composable, dict[str, object]]:
    """Only the user and the whole-day range (for rollups without dimensions)."""
    return rollup_where(
        user_id, TradeFilter(closed_from=flt.closed_from, closed_before=flt.closed_before), alias
    )
