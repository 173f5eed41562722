"""Migration 0013: keys finished before it (an HTTP status and body) are converted to outcomes
that answer exactly as the stored answer did."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
from psycopg.rows import dict_row

from api.problems import Answer, answer_of
from api.trades import answer_to
from testudo.db.migrations import discover
from testudo.problems import Problem, malformed, problem
from testudo.trading.idempotency import SELECT_KEY, replay

USER = "00000000-0000-4000-8000-000000000001"
GROUP = {"id": "g-1", "status": "active", "decision": {"approved": True}, "warnings": []}
OLD_ANSWERS = {
    "created": Answer(201, GROUP),
    "reconciling": Answer(
        202,
        {"id": "g-2", "status": "awaiting_reconciliation", "decision_id": "d", "warnings": ["w"]},
    ),
    "rejected": answer_of(
        problem("risk_rejected", "No.", failed_checks=[{"code": "x"}], decision_id="d")
    ),
    "refused": answer_of(problem("entry_rejected", "Refused.", group={**GROUP, "id": "g-3"})),
    "malformed": answer_of(malformed("invalid_signature", "not hex")),
    "accounts": answer_of(problem("no_exchange_account", "Add an exchange account first.")),
}


def test_old_answers_are_converted_to_outcomes_answering_the_same(empty_db_url: str) -> None:
    found = discover()
    at = [m.name for m in found].index("idempotency_outcomes")
    migrations = found[: at + 1]  # everything up to it, then it
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(empty_db_url, autocommit=True, row_factory=dict_row) as conn:
        for migration in migrations[:-1]:
            conn.execute(migration.sql.encode())
        conn.execute(
            "INSERT INTO users (id, wallet_address) VALUES (%s, %s)", (USER, "0x" + "a" * 40)
        )
        for key, answer in OLD_ANSWERS.items():
            conn.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, state, status, body,"
                " created_at) VALUES (%s, %s, 'fp', 'done', %s, %s, %s)",
                (USER, key, answer.status, json.dumps(answer.body), now),
            )
        conn.execute(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)"
            " VALUES (%s, 'running', 'fp', 'running', %s)",
            (USER, now),
        )
        conn.execute(migrations[-1].sql.encode())
        for key, answer in OLD_ANSWERS.items():
            row = conn.execute(SELECT_KEY, (USER, key, now - dt.timedelta(hours=1))).fetchone()
            assert row is not None
            assert answer_to(replay(row, "fp")) == without_headers(answer), key
        running = conn.execute(SELECT_KEY, (USER, "running", now - dt.timedelta(hours=1)))
        still = replay(running.fetchone() or {}, "fp")
        assert isinstance(still, Problem) and still.error == "idempotency_in_progress"


def without_headers(answer: Answer) -> Answer:
    """What an old row replayed: its status and body, never headers."""
    return Answer(answer.status, answer.body)
