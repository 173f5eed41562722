"""Leases on PostgreSQL: which node of the cluster owns each user's actors.

A node (one incarnation of a process) has a row in ``cluster_nodes`` that it renews; the row
names the session advisory lock the node holds on its own connection while it lives. A user's
lease (``user_leases``) names the owning node and a fencing token. A lease is valid while its
node is alive: its row unexpired and its advisory lock held. A node killed with ``kill -9``
loses its lock the moment its connections close, so survivors take its users over at once; a
node that is paused or cut off keeps its lock but stops renewing, and its users are taken over
when its row expires. Every takeover draws a new token from ``lease_tokens``; the owner's
transactions that record or save a group's orders check the token (:func:`fence_tx`), so a
node that lost a lease cannot record an order for it, whatever it believes.

These are one-transaction units of work for :meth:`testudo.db.Database.run`, plus the pure
arithmetic of how long a node may trust its lease without hearing from the database.
"""

from __future__ import annotations

import attrs

from testudo.db.database import Conn

#: The class id of the nodes' session advisory locks (two-key form: ``(class, lock_key)``).
LOCK_CLASS = 0x7E57

REGISTER_NODE = """
INSERT INTO cluster_nodes (id, name, url, pid, lock_key, expires_at)
VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))"""
RENEW_NODE = """
UPDATE cluster_nodes SET expires_at = now() + make_interval(secs => %s)
WHERE id = %s AND expires_at > now() RETURNING id"""
LOCK_NODE = "SELECT pg_try_advisory_lock(%s, %s) AS locked"
ACQUIRE_USER = """
WITH previous AS (SELECT node_id FROM user_leases WHERE user_id = %(user)s)
INSERT INTO user_leases AS l (user_id, node_id, token)
SELECT %(user)s, %(node)s, nextval('lease_tokens')
WHERE EXISTS (SELECT 1 FROM cluster_nodes WHERE id = %(node)s AND expires_at > now())
ON CONFLICT (user_id) DO UPDATE
SET node_id = EXCLUDED.node_id, acquired_at = now(),
    token = CASE WHEN l.node_id = EXCLUDED.node_id THEN l.token ELSE EXCLUDED.token END
WHERE l.node_id = EXCLUDED.node_id
   OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.id = l.node_id AND n.expires_at > now())
RETURNING token, (SELECT node_id::text FROM previous) AS previous"""
OWNER_OF = """
SELECT l.node_id::text AS node_id, n.name, n.url FROM user_leases l
JOIN cluster_nodes n ON n.id = l.node_id AND n.expires_at > now()
WHERE l.user_id = %s"""
OTHER_NODES = """
SELECT id::text AS id, name, lock_key, expires_at <= now() AS expired
FROM cluster_nodes WHERE id <> %s"""
PROBE_LOCK = "SELECT pg_try_advisory_xact_lock(%s, %s) AS free"
REMOVE_NODE = "DELETE FROM cluster_nodes WHERE id = %s"
#: Users with a live trade group and no live owner: they need a node now (their stops).
UNOWNED_LIVE_USERS = """
SELECT DISTINCT g.user_id::text AS user_id FROM trade_groups g
LEFT JOIN user_leases l ON l.user_id = g.user_id
LEFT JOIN cluster_nodes n ON n.id = l.node_id AND n.expires_at > now()
WHERE g.status IN ('pending', 'active', 'awaiting_reconciliation') AND n.id IS NULL"""
FENCE = """
SELECT 1 FROM user_leases WHERE user_id = %s AND node_id = %s AND token = %s FOR SHARE"""
RELEASE_USERS = "DELETE FROM user_leases WHERE node_id = %s"
NODES = """
SELECT id::text AS id, name, url, pid, started_at, expires_at > now() AS alive,
       (SELECT count(*) FROM user_leases l WHERE l.node_id = n.id) AS leases
FROM cluster_nodes n ORDER BY started_at"""


class Fenced(Exception):
    """This node no longer holds the user's lease: the write was not made."""


@attrs.frozen
class NodeIdentity:
    """One incarnation of a node, as the other nodes see it."""

    id: str
    name: str
    url: str
    pid: int
    lock_key: int


@attrs.frozen
class Acquired:
    """The lease is this node's, under ``token``; ``previous`` names the node it was taken
    from (None: new, or already ours)."""

    token: int
    previous: str | None


@attrs.frozen
class Elsewhere:
    """Another live node owns the user: requests for the user go there."""

    node_id: str
    name: str
    url: str


@attrs.frozen
class NotAlive:
    """This node's own row expired: it may own nothing until it registers again."""


Ownership = Acquired | Elsewhere | NotAlive


@attrs.frozen
class Term:
    """How long a node may trust its leases without hearing from the database.

    The database grants ``ttl`` seconds from when it ran the renewal, which is after the node
    sent it; counting from the send (on the node's monotonic clock, which runs on while the
    process is paused) and keeping ``margin`` back is never later than what the database grants.
    """

    ttl: float
    margin: float

    def valid_until(self, renewal_sent_at: float) -> float:
        return renewal_sent_at + self.ttl - self.margin


def register_tx(conn: Conn, node: NodeIdentity, ttl: float) -> None:
    conn.execute(REGISTER_NODE, (node.id, node.name, node.url, node.pid, node.lock_key, ttl))


def renew_tx(conn: Conn, node_id: str, ttl: float) -> bool:
    """Extend the node's row; False when it had already expired (its leases may be gone)."""
    return conn.execute(RENEW_NODE, (ttl, node_id)).fetchone() is not None


def acquire_tx(conn: Conn, user_id: str, node_id: str) -> Ownership:
    """Take the user's lease when it is free or its node is dead; else say who owns it."""
    row = conn.execute(ACQUIRE_USER, {"user": user_id, "node": node_id}).fetchone()
    if row is not None:
        previous = row["previous"]
        return Acquired(int(row["token"]), previous if previous != node_id else None)
    owner = conn.execute(OWNER_OF, (user_id,)).fetchone()
    if owner is None or owner["node_id"] == node_id:
        return NotAlive()
    return Elsewhere(owner["node_id"], owner["name"], owner["url"])


def dead_nodes_tx(conn: Conn, node_id: str) -> list[tuple[str, str]]:
    """Remove the other nodes that are dead (expired, or their advisory lock is free: their
    process is gone); their ids and names. Removing a node frees every lease it held."""
    dead = []
    for row in conn.execute(OTHER_NODES, (node_id,)).fetchall():
        if row["expired"] or _lock_free(conn, row["lock_key"]):
            conn.execute(REMOVE_NODE, (row["id"],))
            dead.append((row["id"], row["name"]))
    return dead


def _lock_free(conn: Conn, lock_key: int) -> bool:
    probe = conn.execute(PROBE_LOCK, (LOCK_CLASS, lock_key)).fetchone()
    return probe is not None and bool(probe["free"])


def unowned_live_users_tx(conn: Conn) -> list[str]:
    return [row["user_id"] for row in conn.execute(UNOWNED_LIVE_USERS).fetchall()]


def fence_tx(conn: Conn, user_id: str, node_id: str, token: int) -> None:
    """Raise :class:`Fenced` unless this node still holds the user's lease under ``token``;
    the row stays share-locked until the caller's transaction ends, so no takeover can land
    between this check and the caller's write."""
    if conn.execute(FENCE, (user_id, node_id, token)).fetchone() is None:
        raise Fenced(f"user {user_id}: this node's lease was taken over")


def leave_tx(conn: Conn, node_id: str) -> None:
    """A graceful stop: free the node's leases and remove its row."""
    conn.execute(RELEASE_USERS, (node_id,))
    conn.execute(REMOVE_NODE, (node_id,))
