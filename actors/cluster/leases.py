"""This node's part of the cluster: the user leases it holds, checked wherever a user's actor
starts or a user's order is written.

:class:`ClusterLeases` is shared by the services (which ask :meth:`ClusterLeases.owner` before
starting a user's actor and :meth:`ClusterLeases.fenced_run` to record a group's orders) and
by :class:`~actors.cluster.keeper.LeaseKeeper`, the actor that keeps the node alive in the
database and takes over the users of dead nodes. Nothing here talks HTTP: the API forwards a
request whose user another node owns (``api/cluster_routing.py``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import attrs
import trio
from prometheus_client import Counter, Gauge, Info

from actors.runtime import supervision_log
from testudo.cluster.leases import (
    Acquired,
    Elsewhere,
    Fenced,
    NodeIdentity,
    NotAlive,
    Term,
    acquire_tx,
    fence_tx,
)
from testudo.db import Database
from testudo.db.database import Conn
from testudo.problems import Problem

T = TypeVar("T")
log = logging.getLogger("testudo.cluster")

LEASES_HELD = Gauge("testudo_cluster_leases_held", "User leases this node holds.")
TAKEOVERS = Counter(
    "testudo_cluster_takeovers_total", "Users this node took over from a dead node."
)
NODE = Info("testudo_cluster_node", "This node: its name, incarnation id and peer URL.")
LEASES_LOST = Counter(
    "testudo_cluster_leases_lost_total", "User leases this node lost (its own row expired)."
)


@attrs.frozen
class Local:
    """This node owns the user: serve the request here."""

    token: int


Owner = Local | Elsewhere | NotAlive
Hook = Callable[[str], Awaitable[None]]
LossHook = Callable[[list[str]], Awaitable[None]]


def not_owner(owner: Elsewhere | NotAlive) -> Problem:
    """The problem a service raises for a user's actor this node may not run (answered 503)."""
    if isinstance(owner, Elsewhere):
        return Problem("not_owner", f"Node {owner.name} serves this user; retry.", retry_after=1)
    return Problem("node_unavailable", "This node is rejoining the cluster; retry.", retry_after=1)


class ClusterLeases:
    """The leases of one node: held users and their fencing tokens, and the term they last
    were confirmed for."""

    def __init__(self, db: Database, database_url: str, node: NodeIdentity, term: Term) -> None:
        self.db = db
        self.database_url = database_url
        self.node = node
        self.term = term
        self.takeovers = 0
        self._held: dict[str, int] = {}
        self._valid_until = 0.0  # time.monotonic(): counts on while the process is paused
        self._on_gained: list[Hook] = []
        self._on_lost: list[LossHook] = []
        #: Set once the services are wired: the keeper's takeover scans start then.
        self.serving = trio.Event()

    # -- what services ask -------------------------------------------------------------

    def alive(self) -> bool:
        """Whether the database's last word still covers this node's leases."""
        return time.monotonic() < self._valid_until

    def holds(self, user_id: str) -> bool:
        return user_id in self._held and self.alive()

    def held(self) -> list[str]:
        return sorted(self._held)

    async def owner(self, user_id: str) -> Owner:
        """Who serves ``user_id``: this node (taking the lease when it is free or its node is
        dead), another live node, or nobody until this node is alive again."""
        token = self._held.get(user_id)
        if token is not None and self.alive():
            return Local(token)
        if not self.alive():
            return NotAlive()
        found = await self.db.run(
            functools.partial(acquire_tx, user_id=user_id, node_id=self.node.id)
        )
        if isinstance(found, Acquired):
            await self._gained(user_id, found)
            return Local(found.token)
        return found

    async def require(self, user_id: str) -> None:
        """Raise the 503 problem unless this node serves ``user_id``."""
        found = await self.owner(user_id)
        if not isinstance(found, Local):
            raise not_owner(found)

    def check_write(self, user_id: str) -> None:
        """Raise :class:`Fenced` unless this node still holds the user's lease now; called in
        the account's worker thread just before an order is sent or cancelled."""
        if not self.holds(user_id):
            raise Fenced(f"user {user_id}: this node no longer holds the lease")

    async def fenced_run(self, user_id: str, work: Callable[[Conn], T]) -> T:
        """``work`` in a transaction that first proves this node holds the user's lease under
        its token (the lease row stays share-locked until the commit)."""
        token = self._held.get(user_id)
        if token is None or not self.alive():
            raise Fenced(f"user {user_id}: this node holds no lease")
        node_id = self.node.id

        def fenced(conn: Conn) -> T:
            fence_tx(conn, user_id, node_id, token)
            return work(conn)

        return await self.db.run(fenced)

    # -- what the keeper does ------------------------------------------------------------

    def on_gained(self, hook: Hook) -> None:
        """Run ``hook(user_id)`` after this node takes over a user (its groups rehydrate)."""
        self._on_gained.append(hook)

    def on_lost(self, hook: LossHook) -> None:
        """Run ``hook(user_ids)`` after this node lost its leases (its actors stop)."""
        self._on_lost.append(hook)

    def confirmed(self, until: float) -> None:
        self._valid_until = until

    def rejoined(self, node: NodeIdentity) -> None:
        """A new incarnation (after the node lost its row): new id, no leases."""
        self.node = node
        NODE.info({"name": node.name, "id": node.id, "url": node.url, "pid": str(node.pid)})

    async def lose_all(self, reason: str) -> list[str]:
        """Forget every lease at once (no write may rely on them any more), then stop the
        users' actors."""
        self._valid_until = 0.0
        lost, self._held = sorted(self._held), {}
        LEASES_HELD.set(0)
        LEASES_LOST.inc(len(lost))
        for user_id in lost:
            _lease_event(supervision_log.Event.LEASE_LOST, user_id, self.node, reason)
        for hook in self._on_lost:
            try:
                await hook(lost)
            except Exception:  # the others still run; the fence holds whatever keeps running
                log.exception(
                    "a lease-loss hook failed", extra={"json_fields": {"event": "lease_hook"}}
                )
        return lost

    async def _gained(self, user_id: str, acquired: Acquired) -> None:
        if self._held.get(user_id) == acquired.token:
            return  # a concurrent request of the same user took it a moment ago
        self._held[user_id] = acquired.token
        LEASES_HELD.set(len(self._held))
        reason = "takeover" if acquired.previous else "acquired"
        fields: dict[str, Any] = {"token": acquired.token}
        if acquired.previous:
            self.takeovers += 1
            TAKEOVERS.inc()
            fields["previous_node"] = acquired.previous
        _lease_event(supervision_log.Event.LEASE_GAINED, user_id, self.node, reason, **fields)
        for hook in self._on_gained:  # the user's live groups start here (idempotent)
            await hook(user_id)

    async def adopt(self, user_ids: Iterable[str]) -> int:
        """Take the leases of ``user_ids`` where free; start their live groups. The count
        taken (users already held or owned elsewhere are left)."""
        taken = 0
        for user_id in user_ids:
            if user_id not in self._held and isinstance(await self.owner(user_id), Local):
                taken += 1
        return taken


def _lease_event(
    event: supervision_log.Event, user_id: str, node: NodeIdentity, reason: str, **fields: Any
) -> None:
    """One supervision line per lease gained or lost (the operators' view of ownership)."""
    supervision_log.emit(
        event,
        f"cluster/{node.name}/user-{user_id}",
        "lease",
        reason,
        node=node.name,
        node_id=node.id,
        user_id=user_id,
        **fields,
    )
