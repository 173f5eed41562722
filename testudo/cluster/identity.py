"""One cluster, one identity: every node on a database signs tokens with the same JWT secret
and seals exchange secrets with the same master key ring.

The database records the cluster's fingerprints (table ``cluster_identity``): a keyed,
domain-separated SHA-256 of the JWT secret (never the secret) and the id of the active master
key (already a SHA-256 prefix). The first node to start records them; every later node compares
its own at start-up, before it serves anything, and refuses to start (:class:`IdentityMismatch`,
one line naming what differs and what to share) when its JWT secret differs or its key ring
lacks the cluster's active key. A node whose active key is new while its ring still holds the
cluster's (``TESTUDO_MASTER_KEY`` changed, old ring kept) moves the record forward: that is a
rotation by configuration. A node whose active key a rotation retired is stale and refused.
``testudo rotate-key`` moves the record to its new key (:func:`record_rotation`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

import attrs
import psycopg
from psycopg.rows import DictRow

from testudo.db import Database
from testudo.exchanges.vault import Vault

Conn = psycopg.Connection[DictRow]

#: The HMAC key of the JWT secret's fingerprint: separates it from any other hash of the secret.
JWT_DOMAIN = b"testudo/cluster-identity/jwt-secret/v1"

JWT_HOW = "give every node the same TESTUDO_JWT_SECRET (or a copy of <data dir>/keys/jwt.key)"
KEY_HOW = (
    "give every node the same TESTUDO_MASTER_KEY (or a copy of <data dir>/keys/master-keys.json)"
)


class IdentityMismatch(Exception):
    """This node's secrets are not the cluster's: one line saying which and what to share."""


def jwt_fingerprint(secret: bytes) -> str:
    """A fingerprint of the JWT secret safe to store: HMAC-SHA-256 under :data:`JWT_DOMAIN`."""
    return "j" + hmac.new(JWT_DOMAIN, secret, hashlib.sha256).hexdigest()[:32]


@attrs.frozen
class Fingerprints:
    """What this node would sign and seal with."""

    jwt: str
    master_key_id: str
    #: Every key id of this node's ring (the active one included).
    key_ids: frozenset[str]


@attrs.frozen
class Recorded:
    """The cluster's identity as the database records it."""

    jwt: str
    master_key_id: str
    retired: tuple[str, ...] = ()


Action = Literal["record", "keep", "advance", "refuse"]


@attrs.frozen
class Decision:
    """What a starting node does about the recorded identity."""

    action: Action
    message: str = ""


def judge(recorded: Recorded | None, mine: Fingerprints) -> Decision:
    """Compare this node's fingerprints with the cluster's (None: nothing recorded yet)."""
    if recorded is None:
        return Decision("record")
    if recorded.jwt != mine.jwt:
        return Decision("refuse", f"this node's JWT secret differs from the cluster's: {JWT_HOW}")
    if recorded.master_key_id not in mine.key_ids:
        return Decision(
            "refuse",
            f"this node's master key ring lacks the cluster's active key "
            f"{recorded.master_key_id}: {KEY_HOW}",
        )
    if mine.master_key_id == recorded.master_key_id:
        return Decision("keep")
    if mine.master_key_id in recorded.retired:
        return Decision(
            "refuse",
            f"this node's active master key {mine.master_key_id} was replaced by "
            f"{recorded.master_key_id} (testudo rotate-key): {KEY_HOW}",
        )
    return Decision("advance")


SELECT = """
SELECT jwt_fingerprint, master_key_id, retired_key_ids FROM cluster_identity FOR UPDATE"""
INSERT = """
INSERT INTO cluster_identity (jwt_fingerprint, master_key_id) VALUES (%s, %s)
ON CONFLICT DO NOTHING"""
ADVANCE = """
UPDATE cluster_identity
SET retired_key_ids = array_append(retired_key_ids, master_key_id),
    master_key_id = %s, updated_at = now()
WHERE master_key_id <> %s"""


def read(conn: Conn) -> Recorded | None:
    """The recorded identity (locked until the transaction ends), or None."""
    row = conn.execute(SELECT).fetchone()
    if row is None:
        return None
    return Recorded(row["jwt_fingerprint"], row["master_key_id"], tuple(row["retired_key_ids"]))


def claim(conn: Conn, mine: Fingerprints) -> Decision:
    """Record this node's identity if none is, else judge it against the recorded one (and
    move the active key forward when that is the decision). One transaction: the caller's."""
    recorded = read(conn)
    if recorded is None:
        conn.execute(INSERT, (mine.jwt, mine.master_key_id))
        recorded = read(conn)  # another node may have recorded first
        if recorded == Recorded(mine.jwt, mine.master_key_id):
            return Decision("record")
    decision = judge(recorded, mine)
    if decision.action == "advance":
        conn.execute(ADVANCE, (mine.master_key_id, mine.master_key_id))
    return decision


def record_rotation(conn: Conn, active_key_id: str) -> bool:
    """After ``testudo rotate-key``: the cluster's active key is now ``active_key_id`` (the old
    one retired). False when nothing changed (no identity recorded yet, or already that key)."""
    return conn.execute(ADVANCE, (active_key_id, active_key_id)).rowcount > 0


def fingerprints(jwt_secret: bytes, vault: Vault) -> Fingerprints:
    """This node's fingerprints: its JWT secret's and its key ring's."""
    return Fingerprints(jwt_fingerprint(jwt_secret), vault.active, vault.key_ids)


async def enforce(db: Database, jwt_secret: bytes, vault: Vault) -> Decision:
    """Record or check this node's identity at start-up; raise :class:`IdentityMismatch`
    (one line) when the node must not start."""
    mine = fingerprints(jwt_secret, vault)
    decision = await db.run(lambda conn: claim(conn, mine))
    if decision.action == "refuse":
        raise IdentityMismatch(decision.message)
    return decision
