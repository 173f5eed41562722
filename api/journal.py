"""``/api/v1/journal``: journal trades (list, detail, notes, tags, CSV export).

The blueprint also carries the entries, tags, analytics and storage routes, which live in
their own modules and are registered here, so the app registers the journal once.
"""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, Field, model_validator
from quart import Blueprint, Response
from quart_schema import tag, validate_querystring, validate_request

from testudo.journal import trades
from testudo.journal.trades import Cursor, CursorError, MissingTags, Sort
from testudo.journal.views import entry_json, iso, tag_json, trade_json
from testudo.money import wire

from .auth_guard import authenticated
from .context import system
from .journal_analytics import analytics_blueprint
from .journal_common import TradeFilterQuery, clamp, invalid, not_found, run, user_id
from .journal_entries import entries_blueprint
from .journal_storage import storage_blueprint
from .journal_tags import tags_blueprint
from .problems import problem

journal_blueprint = Blueprint("journal", __name__, url_prefix="/api/v1/journal")
for child in (entries_blueprint, tags_blueprint, analytics_blueprint, storage_blueprint):
    journal_blueprint.register_blueprint(child)
JOURNAL = tag(["journal"])
DEFAULT_LIMIT = 50
EXPORT_PAGE = 2000


class TradeListQuery(TradeFilterQuery):
    page: int | None = Field(default=None, description="1-based page (offset paging)")
    limit: int | None = Field(default=None, description="1-100, default 50")
    cursor: str | None = Field(
        default=None, max_length=512, description="opaque: next_cursor of the previous page"
    )
    sort: str | None = Field(
        default=None, max_length=20, description="closed_at | net_pnl | r_multiple | duration_secs"
    )
    order: str | None = Field(default=None, max_length=4, description="asc or desc (default)")


class ExportQuery(TradeFilterQuery):
    sort: str | None = Field(default=None, max_length=20)
    order: str | None = Field(default=None, max_length=4)


class NotesBody(BaseModel):
    notes: str | None = Field(max_length=20_000)


class TagLinks(BaseModel):
    tag_id: uuid.UUID | None = None
    tag_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def one_of(self) -> TagLinks:
        if self.tag_id is None and not self.tag_ids:
            raise ValueError("give tag_id or a non-empty tag_ids")
        return self

    def ids(self) -> list[str]:
        found = [str(i) for i in self.tag_ids or []]
        if self.tag_id is not None:
            found.append(str(self.tag_id))
        return list(dict.fromkeys(found))


def _sort(query: TradeListQuery | ExportQuery) -> Sort:
    try:
        return Sort.parse(query.sort, query.order)
    except ValueError as exc:
        raise invalid("sort", str(exc)) from None


@journal_blueprint.get("/trades")
@JOURNAL
@authenticated
@validate_querystring(TradeListQuery)
async def list_trades(query_args: TradeListQuery) -> dict[str, Any]:
    """Trades, newest close first by default; offset pages or an opaque keyset cursor.

    Filters: exchange, account, symbol, side, source, setup_tag, tags/tag (+ tag_match),
    date_from, date_to (inclusive day). ``next_cursor`` continues exactly where the page
    ended, whatever was inserted meanwhile; ``page`` is ignored when ``cursor`` is given.
    """
    flt = query_args.to_filter()
    sort = _sort(query_args)
    limit = clamp(query_args.limit, DEFAULT_LIMIT, 1, trades.MAX_LIMIT)
    page = clamp(query_args.page, 1, 1, 10_000_000)
    cursor = None
    if query_args.cursor:
        try:
            cursor = Cursor.decode(query_args.cursor, sort)
        except CursorError as exc:
            raise problem("invalid_cursor", f"{exc}.") from None
    uid = user_id()
    result = await run(
        lambda conn: trades.list_trades(conn, uid, flt, sort, limit=limit, page=page, cursor=cursor)
    )
    return {
        "trades": [trade_json(r, result.tags[str(r["id"])]) for r in result.rows],
        "total": result.total,
        "page": None if cursor else page,
        "limit": limit,
        "has_more": result.next_cursor is not None,
        "next_cursor": result.next_cursor,
        "filter": flt.describe(),
    }


@journal_blueprint.get("/trades/<uuid:trade_id>")
@JOURNAL
@authenticated
async def get_trade(trade_id: uuid.UUID) -> dict[str, Any]:
    """One trade with its notes, tags and linked journal entries (newest first)."""
    uid = user_id()
    row = await run(lambda conn: trades.get_trade(conn, uid, str(trade_id)))
    if row is None:
        raise not_found("trade")
    body = trade_json(row, row["tags"])
    body["entries"] = [entry_json(e) for e in row["entries"]]
    return body


@journal_blueprint.patch("/trades/<uuid:trade_id>/notes")
@JOURNAL
@authenticated
@validate_request(NotesBody)
async def update_notes(trade_id: uuid.UUID, data: NotesBody) -> dict[str, Any]:
    """Replace the trade's notes (markdown; null clears them). Returns the trade."""
    uid = user_id()

    def work(conn: Any) -> dict[str, Any] | None:
        if not trades.update_notes(conn, uid, str(trade_id), data.notes):
            return None
        return trades.get_trade(conn, uid, str(trade_id))

    row = await run(work)
    if row is None:
        raise not_found("trade")
    return trade_json(row, row["tags"])


@journal_blueprint.post("/trades/<uuid:trade_id>/tags")
@JOURNAL
@authenticated
@validate_request(TagLinks)
async def add_trade_tags(trade_id: uuid.UUID, data: TagLinks) -> list[dict[str, Any]]:
    """Link tags (``{"tag_id"}`` or ``{"tag_ids": [...]}``); returns the trade's tags."""
    uid = user_id()
    result = await run(lambda conn: trades.add_tags(conn, uid, str(trade_id), data.ids()))
    if result is None:
        raise not_found("trade")
    if isinstance(result, MissingTags):
        raise problem(
            "not_found", f"Tag {result.tag_ids[0]} not found.", tag_ids=list(result.tag_ids)
        )
    return [tag_json(t) for t in result]


@journal_blueprint.delete("/trades/<uuid:trade_id>/tags/<uuid:tag_id>")
@JOURNAL
@authenticated
async def remove_trade_tag(trade_id: uuid.UUID, tag_id: uuid.UUID) -> dict[str, bool]:
    """Unlink one tag from the trade."""
    uid = user_id()
    if not await run(lambda conn: trades.remove_tag(conn, uid, str(trade_id), str(tag_id))):
        raise problem("not_found", "Tag not linked to this trade.")
    return {"deleted": True}


CSV_COLUMNS = (
    "id",
    "closed_at",
    "opened_at",
    "exchange",
    "exchange_account_id",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "realized_pnl",
    "fees",
    "net_pnl",
    "realized_pnl_pct",
    "r_multiple",
    "risk_amount",
    "stop_price",
    "duration_secs",
    "source",
    "setup_tag",
    "trade_group_id",
    "tags",
    "notes",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: str | None) -> str:
    """Free text for a spreadsheet: a leading formula character is neutralised."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_row(row: dict[str, Any], tags: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for column in CSV_COLUMNS:
        if column == "tags":
            out.append(_cell_text(";".join(t["name"] for t in tags)))
        elif column in ("notes", "source", "setup_tag"):
            out.append(_cell_text(row[column]))
        elif column in ("closed_at", "opened_at"):
            out.append(iso(row[column]) or "")
        elif column in ("id", "exchange_account_id", "trade_group_id"):
            out.append("" if row[column] is None else str(row[column]))
        elif column == "side":
            out.append(str(row["side"]).upper())
        elif column in ("duration_secs",):
            out.append(str(row[column]))
        elif column in ("exchange", "symbol"):
            out.append(row[column])
        else:
            out.append(wire(row[column]) or "")
    return out


@journal_blueprint.get("/trades.csv")
@JOURNAL
@authenticated
@validate_querystring(ExportQuery)
async def export_csv(query_args: ExportQuery) -> Response:
    """Every trade passing the filter as CSV (streamed in pages; same filters as the list)."""
    flt = query_args.to_filter()
    sort = _sort(query_args)
    uid = user_id()
    db = system().db

    async def page_after(cursor: Cursor | None) -> trades.TradePage:
        return await db.run(
            functools.partial(
                trades.list_trades,
                user_id=uid,
                flt=flt,
                sort=sort,
                limit=EXPORT_PAGE,
                cursor=cursor,
                with_total=False,
            )
        )

    first = await page_after(None)  # fails here, as a problem, not after a 200 has started

    async def body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        page = first
        while True:
            for row in page.rows:
                writer.writerow(csv_row(row, page.tags[str(row["id"])]))
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if page.next_cursor is None:
                return
            page = await page_after(Cursor.decode(page.next_cursor, sort))

    return Response(
        body(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="testudo-journal.csv"'},
    )
