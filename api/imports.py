"""``/api/v1/trades/import``: queue a history import and follow the user's import jobs."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field, model_validator
from quart import Blueprint
from quart_schema import tag, validate_request

from testudo.exchanges.errors import sanitize
from testudo.imports import queue
from testudo.journal.views import iso

from .auth_guard import authenticated
from .context import system
from .journal_common import run, user_id
from .problems import problem

imports_blueprint = Blueprint("imports", __name__, url_prefix="/api/v1/trades/import")
IMPORTS = tag(["trade history import"])
STATUS_LIMIT = 20

ACCOUNT_BY_ID = """
SELECT id::text AS id, exchange, status FROM exchange_accounts
WHERE id = %s AND user_id = %s AND status <> 'deleted'
"""
FIRST_ACTIVE = """
SELECT id::text AS id, exchange, status FROM exchange_accounts
WHERE user_id = %s AND exchange = %s AND status = 'active' ORDER BY created_at, id LIMIT 1
"""


class ImportRequest(BaseModel):
    exchange_account_id: uuid.UUID | None = None
    exchange_name: str | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def one_of(self) -> ImportRequest:
        if self.exchange_account_id is None and self.exchange_name is None:
            raise ValueError("give exchange_account_id (or exchange_name)")
        return self


def job_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "job_id": row["id"],
        "exchange_account_id": row["account_id"],
        "exchange_name": row.get("exchange"),
        "account_name": row.get("account_name"),
        "status": row["state"],
        "reason": row["reason"],
        "attempts": row["attempts"],
        "progress": row["progress"],
        "counters": row["counters"],
        # a failed attempt's text may quote a raw exception: never where requests went
        "error": sanitize(row["error"]) if row["error"] else None,
        "created_at": iso(row["created_at"]),
        "started_at": iso(row["started_at"]),
        "processed_at": iso(row["finished_at"]),
        "next_attempt_at": iso(row["run_after"]) if row["state"] == "queued" else None,
    }


@imports_blueprint.post("")
@IMPORTS
@authenticated
@validate_request(ImportRequest)
async def start_import(data: ImportRequest) -> tuple[dict[str, Any], int]:
    """Queue an import of the last 90 days (``{exchange_account_id}``, or ``{exchange_name}``
    for your first active account on that exchange). 202 with the job; when the account
    already has an import queued or running, that job is returned (``already_queued``)."""
    uid = user_id()
    now = system().clock.now()

    def work(conn: Any) -> tuple[dict[str, Any], bool, str] | None:
        if data.exchange_account_id is not None:
            account = conn.execute(ACCOUNT_BY_ID, (str(data.exchange_account_id), uid)).fetchone()
        else:
            name = (data.exchange_name or "").strip().lower()
            account = conn.execute(FIRST_ACTIVE, (uid, name)).fetchone()
        if account is None:
            return None
        if account["status"] != "active":
            raise problem("account_inactive", "The exchange account is not active.")
        job, created = queue.enqueue(conn, uid, account["id"], "manual", now)
        return job, created, account["exchange"]

    result = await run(work)
    if result is None:
        if data.exchange_account_id is not None:
            raise problem("not_found", "No such exchange account.")
        raise problem("not_found", f"No active account found for exchange: {data.exchange_name}.")
    job, created, exchange = result
    journal = system().journal
    if journal is not None:
        journal.wake_workers()
    body = job_json({**job, "exchange": exchange})
    body["already_queued"] = not created
    return body, 202


@imports_blueprint.get("/status")
@IMPORTS
@authenticated
async def import_status() -> list[dict[str, Any]]:
    """The caller's import jobs, newest first (at most 20): state (queued, running, completed,
    failed), progress (fills fetched, trades built, current window) and counters (imported,
    skipped, duplicates, errors)."""
    uid = user_id()
    rows = await run(lambda conn: queue.list_jobs(conn, uid, STATUS_LIMIT))
    return [job_json(r) for r in rows]
