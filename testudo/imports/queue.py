"""The durable import job queue (table ``import_jobs``), popped with ``FOR UPDATE SKIP LOCKED``.

States: ``queued`` → ``running`` → ``completed`` | back to ``queued`` (a failed attempt, with
``run_after`` pushed back exponentially) | ``failed`` (attempts exhausted, or a failure that no
retry can fix). A running job holds a lease: its worker refreshes ``heartbeat_at``; a job whose
heartbeat is older than the stale limit is taken over by the next worker that polls (its
worker died), and every write of the old worker then fails its lease check (``locked_by``).
At most one job per account is queued or running (a partial unique index): asking again
returns the active job.

Times come from the service clock as parameters, so tests control them; a job is due when
``run_after`` is past by the service clock or by the database's own (jobs queued by other
code, such as adding an account, take the database's default ``now()``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs

from testudo.db.database import Conn

MAX_ATTEMPTS = 5
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(minutes=30)
STALE_AFTER = dt.timedelta(seconds=60)

JOB_COLUMNS = """
j.id::text AS id, j.user_id::text AS user_id, j.exchange_account_id::text AS account_id,
j.state, j.reason, j.attempts, j.run_after, j.locked_by, j.heartbeat_at, j.progress,
j.counters, j.error, j.created_at, j.started_at, j.finished_at, j.updated_at
"""
ENQUEUE = f"""
INSERT INTO import_jobs AS j (user_id, exchange_account_id, reason, run_after)
VALUES (%(user)s, %(account)s, %(reason)s, %(now)s)
ON CONFLICT (exchange_account_id) WHERE state IN ('queued', 'running') DO NOTHING
RETURNING {JOB_COLUMNS}
"""
ACTIVE_JOB = f"""
SELECT {JOB_COLUMNS} FROM import_jobs j
WHERE j.exchange_account_id = %s AND j.state IN ('queued', 'running')
"""
CLAIM = f"""
UPDATE import_jobs j
SET state = 'running', locked_by = %(worker)s, heartbeat_at = %(now)s,
    attempts = j.attempts + 1, started_at = coalesce(j.started_at, %(now)s), updated_at = %(now)s
WHERE j.id = (
    SELECT id FROM import_jobs
    WHERE ((state = 'queued' AND run_after <= greatest(%(now)s, now()))
       OR (state = 'running' AND (heartbeat_at < %(stale)s OR locked_by = %(worker)s)))
      AND NOT EXISTS (  -- the user's actors live on another live node: its workers run it
          SELECT 1 FROM user_leases l
          JOIN cluster_nodes n ON n.id = l.node_id AND n.expires_at > now()
          WHERE l.user_id = import_jobs.user_id AND l.node_id::text <> %(node)s)
    ORDER BY run_after, created_at
    FOR UPDATE SKIP LOCKED
    LIMIT 1
)
RETURNING {JOB_COLUMNS}
"""
HEARTBEAT = """
UPDATE import_jobs SET heartbeat_at = %(now)s, progress = %(progress)s::jsonb,
       counters = %(counters)s::jsonb, updated_at = %(now)s
WHERE id = %(id)s AND locked_by = %(worker)s AND state = 'running'
"""
COMPLETE = """
UPDATE import_jobs SET state = 'completed', finished_at = %(now)s, updated_at = %(now)s,
       progress = %(progress)s::jsonb, counters = %(counters)s::jsonb, error = NULL,
       locked_by = NULL
WHERE id = %(id)s AND locked_by = %(worker)s AND state = 'running'
"""
RETRY = """
UPDATE import_jobs SET state = 'queued', run_after = %(run_after)s, updated_at = %(now)s,
       error = %(error)s, locked_by = NULL
WHERE id = %(id)s AND locked_by = %(worker)s AND state = 'running'
"""
GIVE_UP = """
UPDATE import_jobs SET state = 'failed', finished_at = %(now)s, updated_at = %(now)s,
       error = %(error)s, locked_by = NULL
WHERE id = %(id)s AND locked_by = %(worker)s AND state = 'running'
"""
LIST_JOBS = f"""
SELECT {JOB_COLUMNS}, a.exchange AS exchange, a.account_name AS account_name
FROM import_jobs j JOIN exchange_accounts a ON a.id = j.exchange_account_id
WHERE j.user_id = %s ORDER BY j.created_at DESC, j.id DESC LIMIT %s
"""


@attrs.frozen
class Job:
    id: str
    user_id: str
    account_id: str
    attempts: int
    reason: str
    progress: dict[str, Any]
    counters: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            account_id=row["account_id"],
            attempts=int(row["attempts"]),
            reason=row["reason"],
            progress=dict(row["progress"] or {}),
            counters=dict(row["counters"] or {}),
        )


def backoff(attempts: int) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: 30 s, 1 min, 2 min... capped at 30 min."""
    delay: dt.timedelta = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(BACKOFF_CAP, delay)


def enqueue(
    conn: Conn, user_id: str, account_id: str, reason: str, now: dt.datetime
) -> tuple[dict[str, Any], bool]:
    """Queue an import of the account; ``(job, created)`` (the active job if one exists)."""
    params = {"user": user_id, "account": account_id, "reason": reason, "now": now}
    row = conn.execute(ENQUEUE, params).fetchone()
    if row is not None:
        return row, True
    existing = conn.execute(ACTIVE_JOB, (account_id,)).fetchone()
    if existing is None:  # finished between the two statements: queue again
        return enqueue(conn, user_id, account_id, reason, now)
    return existing, False


def claim(conn: Conn, worker: str, now: dt.datetime, node: str = "") -> Job | None:
    """Take the next due job (or a running one whose worker stopped heartbeating) of a user
    no other live node of the cluster owns (``node``: this node's id)."""
    params = {"worker": worker, "now": now, "stale": now - STALE_AFTER, "node": node}
    row = conn.execute(CLAIM, params).fetchone()
    return Job.from_row(row) if row else None


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, default=str)


def heartbeat(
    conn: Conn,
    job: Job,
    worker: str,
    now: dt.datetime,
    progress: dict[str, Any],
    counters: dict[str, Any],
) -> bool:
    """Refresh the lease and record progress; False when the job is no longer ours."""
    params = {
        "id": job.id,
        "worker": worker,
        "now": now,
        "progress": _json(progress),
        "counters": _json(counters),
    }
    return conn.execute(HEARTBEAT, params).rowcount == 1


def complete(
    conn: Conn,
    job: Job,
    worker: str,
    now: dt.datetime,
    progress: dict[str, Any],
    counters: dict[str, Any],
) -> bool:
    params = {
        "id": job.id,
        "worker": worker,
        "now": now,
        "progress": _json(progress),
        "counters": _json(counters),
    }
    return conn.execute(COMPLETE, params).rowcount == 1


def fail(
    conn: Conn, job: Job, worker: str, now: dt.datetime, error: str, *, permanent: bool
) -> str | None:
    """Record a failed attempt: ``queued`` again later, or ``failed``; None if not ours."""
    if permanent or job.attempts >= MAX_ATTEMPTS:
        params = {"id": job.id, "worker": worker, "now": now, "error": error}
        return "failed" if conn.execute(GIVE_UP, params).rowcount == 1 else None
    params = {
        "id": job.id,
        "worker": worker,
        "now": now,
        "error": error,
        "run_after": now + backoff(job.attempts),
    }
    return "queued" if conn.execute(RETRY, params).rowcount == 1 else None


def list_jobs(conn: Conn, user_id: str, limit: int = 20) -> list[dict[str, Any]]:
    return conn.execute(LIST_JOBS, (user_id, limit)).fetchall()
