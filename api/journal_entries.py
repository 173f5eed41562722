"""``/api/v1/journal/entries``: free-form markdown notes, optionally linked to a trade."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request

from testudo.journal import entries
from testudo.journal.entries import EntryDraft, TradeNotFound
from testudo.journal.views import entry_json

from .auth_guard import authenticated
from .journal_common import clamp, not_found, run, user_id

entries_blueprint = Blueprint("journal_entries", __name__, url_prefix="/entries")
ENTRIES = tag(["journal"])
EntryType = Literal["note", "pre-trade", "post-trade", "daily-review", "weekly-review"]


class EntryQuery(BaseModel):
    page: int | None = None
    limit: int | None = None
    trade_id: uuid.UUID | None = None
    entry_type: EntryType | None = None


class EntryBody(BaseModel):
    title: str = Field(max_length=200)
    body: str = Field(max_length=100_000)
    entry_type: EntryType | None = None
    trade_id: uuid.UUID | None = None
    entry_date: dt.date | None = None

    @field_validator("title", "body")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    def draft(self) -> EntryDraft:
        fields = self.model_fields_set
        return EntryDraft(
            title=self.title.strip(),
            body=self.body,
            entry_type=self.entry_type,
            trade_id=str(self.trade_id) if self.trade_id else None,
            entry_date=self.entry_date,
            set_trade="trade_id" in fields,
            set_date="entry_date" in fields,
        )


def _trade_missing(result: TradeNotFound) -> Exception:
    return not_found("trade")


@entries_blueprint.get("")
@ENTRIES
@authenticated
@validate_querystring(EntryQuery)
async def list_entries(query_args: EntryQuery) -> dict[str, Any]:
    """Entries, newest first: ``{entries, total, page, limit}`` (filters: trade_id, entry_type)."""
    uid = user_id()
    limit = clamp(query_args.limit, 50, 1, 100)
    page = clamp(query_args.page, 1, 1, 10_000_000)
    trade_id = str(query_args.trade_id) if query_args.trade_id else None
    rows, total = await run(
        lambda conn: entries.list_entries(
            conn, uid, limit=limit, page=page, trade_id=trade_id, entry_type=query_args.entry_type
        )
    )
    return {"entries": [entry_json(r) for r in rows], "total": total, "page": page, "limit": limit}


@entries_blueprint.post("")
@ENTRIES
@authenticated
@validate_request(EntryBody)
async def create_entry(data: EntryBody) -> tuple[dict[str, Any], int]:
    """Create an entry (type ``note`` by default); a trade link must be one of your trades."""
    uid = user_id()
    result = await run(lambda conn: entries.create_entry(conn, uid, data.draft()))
    if isinstance(result, TradeNotFound):
        raise _trade_missing(result)
    return entry_json(result), 201


@entries_blueprint.get("/<uuid:entry_id>")
@ENTRIES
@authenticated
async def get_entry(entry_id: uuid.UUID) -> dict[str, Any]:
    uid = user_id()
    row = await run(lambda conn: entries.get_entry(conn, uid, str(entry_id)))
    if row is None:
        raise not_found("entry")
    return entry_json(row)


@entries_blueprint.put("/<uuid:entry_id>")
@ENTRIES
@authenticated
@validate_request(EntryBody)
async def update_entry(entry_id: uuid.UUID, data: EntryBody) -> dict[str, Any]:
    """Replace title and body; type, trade link and date change only when given."""
    uid = user_id()
    result = await run(lambda conn: entries.update_entry(conn, uid, str(entry_id), data.draft()))
    if isinstance(result, TradeNotFound):
        raise _trade_missing(result)
    if result is None:
        raise not_found("entry")
    return entry_json(result)


@entries_blueprint.delete("/<uuid:entry_id>")
@ENTRIES
@authenticated
async def delete_entry(entry_id: uuid.UUID) -> dict[str, bool]:
    uid = user_id()
    if not await run(lambda conn: entries.delete_entry(conn, uid, str(entry_id))):
        raise not_found("entry")
    return {"deleted": True}
