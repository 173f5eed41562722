"""The SQL of sign-in, sessions, refresh families and pairing, as named queries + transactions.

Each ``*_tx`` function is one unit of work for :meth:`testudo.db.Database.run`: it runs inside a
single transaction on the connection it is given. Times come from the caller's clock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import attrs
import psycopg

from testudo.db.database import Conn

from .tokens import new_refresh_token, token_hash

REVOCATION_CHANNEL = "testudo_session_revoked"
PAIRING_LOCK_KEY = 0x7E57_0A1

INSERT_NONCE = "INSERT INTO auth_nonces (nonce, created_at, expires_at) VALUES (%s, %s, %s)"
PURGE_NONCES = "DELETE FROM auth_nonces WHERE expires_at <= %s"
CONSUME_NONCE = "DELETE FROM auth_nonces WHERE nonce = %s AND expires_at > %s RETURNING nonce"
UPSERT_USER = """
INSERT INTO users (wallet_address) VALUES (%s)
ON CONFLICT (wallet_address) DO UPDATE SET updated_at = now()
RETURNING id::text AS id, wallet_address, (xmax = 0) AS created"""
INSERT_SESSION = """
INSERT INTO sessions (user_id, kind, created_at, last_used_at, expires_at, ip_address, user_agent)
VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id::text AS id"""
INSERT_REFRESH = """
INSERT INTO refresh_tokens (session_id, token_hash, parent_id, issued_at, expires_at)
VALUES (%s, %s, %s, %s, %s) RETURNING id"""
SELECT_SESSION = """
SELECT s.id::text AS id, s.user_id::text AS user_id, u.wallet_address, s.kind,
       s.expires_at, s.revoked_at, s.revoke_reason, s.last_used_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = %s"""
LOCK_REFRESH = """
SELECT id, used_at, replaced_by, expires_at FROM refresh_tokens
WHERE token_hash = %s AND session_id = %s FOR UPDATE"""
LOCK_SESSION = "SELECT revoked_at, expires_at FROM sessions WHERE id = %s FOR UPDATE"
SUCCESSOR_USED = "SELECT used_at FROM refresh_tokens WHERE id = %s"
MARK_REFRESH_USED = "UPDATE refresh_tokens SET used_at = %s, replaced_by = %s WHERE id = %s"
EXTEND_SESSION = "UPDATE sessions SET last_used_at = %s, expires_at = %s WHERE id = %s"
TOUCH_SESSION = "UPDATE sessions SET last_used_at = %s WHERE id = %s AND last_used_at < %s"
REVOKE_SESSION = """
UPDATE sessions SET revoked_at = %s, revoke_reason = %s
WHERE id = %s AND revoked_at IS NULL RETURNING id::text AS id"""
REVOKE_USER_SESSIONS = """
UPDATE sessions SET revoked_at = %s, revoke_reason = %s
WHERE user_id = %s AND revoked_at IS NULL RETURNING id::text AS id"""
NOTIFY_REVOKED = "SELECT pg_notify(%s, %s)"
REVOKED_AMONG = "SELECT id::text AS id FROM sessions WHERE id = ANY(%s) AND revoked_at IS NOT NULL"

EXPIRE_PAIRING_CODES = """
UPDATE pairing_codes SET burned_at = %s
WHERE claimed_at IS NULL AND burned_at IS NULL AND expires_at <= %s"""
INSERT_PAIRING_CODE = """
INSERT INTO pairing_codes (user_id, desk_session_id, code, created_at, expires_at)
VALUES (%s, %s, %s, %s, %s)"""
PAIRED_RECENTLY = """
SELECT max(claimed_at) AS claimed_at FROM pairing_codes WHERE user_id = %s AND claimed_at > %s"""
PAIRING_FAILURES_SINCE = """
SELECT count(*) FILTER (WHERE client_ip = %(ip)s AND at > %(minute)s) AS ip,
       count(*) FILTER (WHERE client_ip = %(ip)s) AS ip_hour,
       count(*) FILTER (WHERE at > %(minute)s) AS total,
       min(at) FILTER (WHERE client_ip = %(ip)s AND at > %(minute)s) AS ip_oldest,
       min(at) FILTER (WHERE client_ip = %(ip)s) AS ip_hour_oldest,
       min(at) FILTER (WHERE at > %(minute)s) AS oldest
FROM pairing_attempts WHERE at > %(hour)s AND NOT succeeded"""
CLAIM_PAIRING_CODE = """
UPDATE pairing_codes SET claimed_at = %s
WHERE code = %s AND claimed_at IS NULL AND burned_at IS NULL AND expires_at > %s
RETURNING id, user_id::text AS user_id"""
SET_CLAIMED_SESSION = "UPDATE pairing_codes SET claimed_session_id = %s WHERE id = %s"
COUNT_FAILED_GUESS = """
UPDATE pairing_codes
SET failed_attempts = failed_attempts + 1,
    burned_at = CASE WHEN failed_attempts + 1 >= %s THEN %s ELSE NULL END
WHERE claimed_at IS NULL AND burned_at IS NULL AND expires_at > %s"""
INSERT_PAIRING_ATTEMPT = (
    "INSERT INTO pairing_attempts (client_ip, at, succeeded) VALUES (%s, %s, %s)"
)
PURGE_PAIRING_ATTEMPTS = "DELETE FROM pairing_attempts WHERE at < %s"
SELECT_USER = "SELECT id::text AS id, wallet_address FROM users WHERE id = %s"


@attrs.frozen
class NewSession:
    """A session just created, with its first refresh token (the raw value, shown once)."""

    session_id: str
    user_id: str
    wallet_address: str
    refresh_token: str
    user_created: bool


@attrs.frozen
class SessionRow:
    id: str
    user_id: str
    wallet_address: str
    kind: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    last_used_at: dt.datetime


class NonceRejected(Exception):
    """The nonce is unknown, expired or already used."""


def create_nonce_tx(conn: Conn, now: dt.datetime, ttl: int) -> str:
    nonce = _alphanumeric(32)
    conn.execute(PURGE_NONCES, (now,))
    conn.execute(INSERT_NONCE, (nonce, now, now + dt.timedelta(seconds=ttl)))
    return nonce


def open_session(
    conn: Conn,
    user_id: str,
    wallet: str,
    kind: str,
    now: dt.datetime,
    refresh_ttl: int,
    ip: str | None,
    user_agent: str | None,
    user_created: bool = False,
) -> NewSession:
    """Insert a session and its first refresh token (inside the caller's transaction)."""
    expires = now + dt.timedelta(seconds=refresh_ttl)
    row = conn.execute(
        INSERT_SESSION, (user_id, kind, now, now, expires, ip, (user_agent or "")[:512])
    ).fetchone()
    assert row is not None
    session_id = row["id"]
    refresh = new_refresh_token(session_id)
    conn.execute(INSERT_REFRESH, (session_id, token_hash(refresh), None, now, expires))
    return NewSession(session_id, user_id, wallet, refresh, user_created)


def sign_in_tx(
    conn: Conn,
    wallet: str,
    nonce: str,
    now: dt.datetime,
    refresh_ttl: int,
    ip: str | None,
    user_agent: str | None,
) -> NewSession:
    """Consume the nonce, find or create the user, open a web session: all or nothing."""
    if conn.execute(CONSUME_NONCE, (nonce, now)).fetchone() is None:
        raise NonceRejected(nonce)
    user = conn.execute(UPSERT_USER, (wallet,)).fetchone()
    assert user is not None
    return open_session(
        conn,
        user["id"],
        user["wallet_address"],
        "web",
        now,
        refresh_ttl,
        ip,
        user_agent,
        bool(user["created"]),
    )


def load_session_tx(conn: Conn, session_id: str) -> SessionRow | None:
    row = conn.execute(SELECT_SESSION, (session_id,)).fetchone()
    return None if row is None else SessionRow(**row)


@attrs.frozen
class RotationOutcome:
    """What a rotation attempt found: ``rotated`` (with the child), ``grace``, or a refusal."""

    kind: str  # rotated | grace | unknown | revoked | expired | reused
    child_token: str | None = None
    expires_at: dt.datetime | None = None


def rotate_tx(
    conn: Conn, session_id: str, presented: str, now: dt.datetime, refresh_ttl: int, grace: int
) -> RotationOutcome:
    """Rotate ``presented``; on reuse outside the grace window revoke the session (family)."""
    token = conn.execute(LOCK_REFRESH, (token_hash(presented), session_id)).fetchone()
    if token is None:
        return RotationOutcome("unknown")
    session = conn.execute(LOCK_SESSION, (session_id,)).fetchone()
    assert session is not None
    if session["revoked_at"] is not None:
        return RotationOutcome("revoked")
    if token["used_at"] is not None:
        in_window = now - token["used_at"] <= dt.timedelta(seconds=grace)
        if in_window and _successor_unused(conn, token["replaced_by"]):
            return RotationOutcome("grace")
        revoke_tx(conn, session_id, "refresh_token_reused", now)
        return RotationOutcome("reused")
    if token["expires_at"] <= now or session["expires_at"] <= now:
        return RotationOutcome("expired")
    child = new_refresh_token(session_id)
    expires = now + dt.timedelta(seconds=refresh_ttl)
    child_row = conn.execute(
        INSERT_REFRESH, (session_id, token_hash(child), token["id"], now, expires)
    ).fetchone()
    assert child_row is not None
    conn.execute(MARK_REFRESH_USED, (now, child_row["id"], token["id"]))
    conn.execute(EXTEND_SESSION, (now, expires, session_id))
    return RotationOutcome("rotated", child, expires)


def _successor_unused(conn: Conn, successor_id: Any) -> bool:
    """True when the token that replaced this one was not used yet: this is the newest used
    token of the family, the only one the grace window covers (two tabs refreshing at once).
    A token two or more rotations old is reuse, whenever it is presented."""
    if successor_id is None:
        return False
    row = conn.execute(SUCCESSOR_USED, (successor_id,)).fetchone()
    return row is not None and row["used_at"] is None


def revoke_tx(conn: Conn, session_id: str, reason: str, now: dt.datetime) -> bool:
    """Revoke one session and announce it to every node; False if it was already revoked."""
    row = conn.execute(REVOKE_SESSION, (now, reason, session_id)).fetchone()
    if row is None:
        return False
    conn.execute(NOTIFY_REVOKED, (REVOCATION_CHANNEL, session_id))
    return True


def revoke_user_tx(conn: Conn, user_id: str, reason: str, now: dt.datetime) -> list[str]:
    """Revoke every live session of a user in one transaction; return their ids."""
    ids = [r["id"] for r in conn.execute(REVOKE_USER_SESSIONS, (now, reason, user_id)).fetchall()]
    for session_id in ids:
        conn.execute(NOTIFY_REVOKED, (REVOCATION_CHANNEL, session_id))
    return ids


def revoked_among_tx(conn: Conn, session_ids: list[str]) -> list[str]:
    return [r["id"] for r in conn.execute(REVOKED_AMONG, (session_ids,)).fetchall()]


def touch_session_tx(conn: Conn, session_id: str, now: dt.datetime) -> None:
    conn.execute(TOUCH_SESSION, (now, session_id, now))


def create_pairing_code_tx(
    conn: Conn, user_id: str, desk_session_id: str, now: dt.datetime, ttl: int
) -> str:
    """A fresh 6-digit code, unique among live codes."""
    conn.execute(EXPIRE_PAIRING_CODES, (now, now))
    expires = now + dt.timedelta(seconds=ttl)
    for _ in range(20):
        code = f"{secrets.randbelow(1_000_000):06d}"
        try:
            with conn.transaction():
                conn.execute(INSERT_PAIRING_CODE, (user_id, desk_session_id, code, now, expires))
        except psycopg.errors.UniqueViolation:
            continue
        return code
    raise RuntimeError("could not find a free pairing code")


def paired_recently_tx(conn: Conn, user_id: str, since: dt.datetime) -> dt.datetime | None:
    row = conn.execute(PAIRED_RECENTLY, (user_id, since)).fetchone()
    return None if row is None else row["claimed_at"]


@attrs.frozen
class ClaimOutcome:
    """``session`` on success; else ``throttled_for`` seconds, or neither (a wrong code)."""

    session: NewSession | None = None
    throttled_for: int | None = None


@attrs.frozen
class PairingBudgets:
    """Failed claims allowed: per client per minute and per hour, in total per minute, and
    per live code during its life (then that code is burned). docs/auth.md says why these
    keep guessing infeasible."""

    client_per_minute: int
    client_per_hour: int
    total_per_minute: int
    per_code: int


def _throttled(conn: Conn, ip: str, now: dt.datetime, budgets: PairingBudgets) -> int | None:
    """Seconds the client must wait before its next claim, or None."""
    hour_ago = now - dt.timedelta(hours=1)
    conn.execute(PURGE_PAIRING_ATTEMPTS, (hour_ago,))
    window = {"ip": ip, "minute": now - dt.timedelta(seconds=60), "hour": hour_ago}
    counts = conn.execute(PAIRING_FAILURES_SINCE, window).fetchone()
    assert counts is not None
    if counts["ip"] >= budgets.client_per_minute:
        return _retry_after(counts["ip_oldest"], now)
    if counts["ip_hour"] >= budgets.client_per_hour:
        return _retry_after(counts["ip_hour_oldest"], now, 3600)
    if counts["total"] >= budgets.total_per_minute:
        return _retry_after(counts["oldest"], now)
    return None


def claim_pairing_tx(
    conn: Conn,
    code: str,
    now: dt.datetime,
    ip: str,
    user_agent: str | None,
    refresh_ttl: int,
    budgets: PairingBudgets,
) -> ClaimOutcome:
    """Throttle, then claim a live code and open an extension session, or count a failure.

    Claims serialise on a transaction advisory lock so the throttle counts are exact.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (PAIRING_LOCK_KEY,))
    wait = _throttled(conn, ip, now, budgets)
    if wait is not None:
        return ClaimOutcome(throttled_for=wait)
    per_code_failures = budgets.per_code
    claimed = conn.execute(CLAIM_PAIRING_CODE, (now, code, now)).fetchone()
    if claimed is None:
        conn.execute(INSERT_PAIRING_ATTEMPT, (ip, now, False))
        conn.execute(COUNT_FAILED_GUESS, (per_code_failures, now, now))
        return ClaimOutcome()
    user = conn.execute(SELECT_USER, (claimed["user_id"],)).fetchone()
    assert user is not None
    session = open_session(
        conn, user["id"], user["wallet_address"], "extension", now, refresh_ttl, ip, user_agent
    )
    conn.execute(SET_CLAIMED_SESSION, (session.session_id, claimed["id"]))
    conn.execute(INSERT_PAIRING_ATTEMPT, (ip, now, True))
    return ClaimOutcome(session=session)


def _retry_after(oldest: dt.datetime | None, now: dt.datetime, window: int = 60) -> int:
    if oldest is None:
        return window
    return max(1, int((oldest + dt.timedelta(seconds=window) - now).total_seconds()) + 1)


def _alphanumeric(length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def user_json(user_id: str, wallet: str) -> dict[str, Any]:
    return {"id": user_id, "wallet_address": wallet}
