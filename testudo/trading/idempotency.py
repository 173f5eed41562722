"""Idempotency keys of ``POST /trades``: claimed with the trade's own records, answered once.

A key is claimed (``state = 'running'``) inside the transaction that records the decision and
the group (:func:`testudo.trading.opening.open_tx`), so claiming costs no database hop of its
own; the outcome (:mod:`testudo.trading.outcomes`) is stored when it is known. A duplicate gets
the stored outcome, ``idempotency_key_reused`` when its body differs. Keys live 24 hours.

A key still ``running`` when a duplicate reaches the user's trader (which handles one request
at a time) was orphaned: its process died between the exchange's acceptance and the answer.
The key remembers the decision its request recorded (``decision_id``, same transaction), so the
duplicate is answered from that decision and its group, as it is now, and the key is finished
with that outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from testudo.db.database import Conn
from testudo.problems import Problem
from testudo.trading.outcomes import TradeOutcome, outcome_of

IDEMPOTENCY_TTL = dt.timedelta(hours=24)
EXPIRE_KEY = "DELETE FROM idempotency_keys WHERE user_id = %s AND key = %s AND created_at < %s"
CLAIM_KEY = """
INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)
VALUES (%s, %s, %s, 'running', %s) ON CONFLICT DO NOTHING RETURNING key"""
SELECT_KEY = """
SELECT fingerprint, state, outcome, created_at FROM idempotency_keys
WHERE user_id = %s AND key = %s AND created_at >= %s"""
FINISH_KEY = """
UPDATE idempotency_keys SET state = 'done', outcome = %s
WHERE user_id = %s AND key = %s"""
NOTE_DECISION = "UPDATE idempotency_keys SET decision_id = %s WHERE user_id = %s AND key = %s"
KEY_DECISION = """
SELECT k.decision_id::text AS decision_id, d.approved, d.trade_group_id::text AS group_id
FROM idempotency_keys k JOIN risk_decisions d ON d.id = k.decision_id
WHERE k.user_id = %s AND k.key = %s AND k.state = 'running'"""


@attrs.frozen
class Claim:
    """What a request with an ``Idempotency-Key`` claims."""

    user_id: str
    key: str
    fingerprint: str


class KeyTaken(Exception):
    """The key already belongs to a request: its stored row says what to answer."""

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__("idempotency key taken")
        self.row = row


def queue_claim(conn: Conn, claim: Claim, now: dt.datetime) -> Any:
    """Queue the expiry of an old row and the claim (pipeline-friendly); return the cursor
    whose ``fetchone()`` is None when the key was already taken."""
    conn.execute(EXPIRE_KEY, (claim.user_id, claim.key, now - IDEMPOTENCY_TTL))
    return conn.execute(CLAIM_KEY, (claim.user_id, claim.key, claim.fingerprint, now))


def taken(conn: Conn, claim: Claim, now: dt.datetime) -> KeyTaken:
    """The :class:`KeyTaken` to raise for a key another request holds."""
    row = stored_tx(conn, claim, now)
    if row is None:  # released by its request since the conflict: still settling, retry
        row = {"fingerprint": claim.fingerprint, "state": "running"}
    return KeyTaken(row)


def stored_tx(conn: Conn, claim: Claim, now: dt.datetime) -> dict[str, Any] | None:
    """The live row of ``claim``'s key, if any."""
    row: dict[str, Any] | None = conn.execute(
        SELECT_KEY, (claim.user_id, claim.key, now - IDEMPOTENCY_TTL)
    ).fetchone()
    return row


def orphan_decision_tx(conn: Conn, claim: Claim) -> dict[str, Any] | None:
    """The decision (``decision_id``, ``approved``, ``group_id``) of a key left running."""
    row: dict[str, Any] | None = conn.execute(KEY_DECISION, (claim.user_id, claim.key)).fetchone()
    return row


def replay(row: dict[str, Any], fingerprint: str) -> TradeOutcome:
    """What a duplicate gets: the recorded outcome, or the problem with the key."""
    if row["fingerprint"] != fingerprint:
        return Problem(
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request body.",
        )
    if row["state"] != "done":
        return Problem(
            "idempotency_in_progress",
            "A request with this Idempotency-Key is still being processed.",
        )
    return outcome_of(row["outcome"])
