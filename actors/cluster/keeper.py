"""The lease keeper: keeps this node alive in the database and takes over dead nodes' users.

On its own autocommit connection it takes the node's session advisory lock, then registers
the node's row; every ``renew_every`` seconds it renews the row (each renewal confirms the
node's leases for the lease term, counted from when it was sent). A renewal that fails or
finds the row expired means the other nodes may have taken the users over: the node forgets
every lease at once, stops the users' actors, and joins again as a new incarnation. Every
``scan_every`` seconds it removes dead nodes (expired, or their lock free because their
process is gone) and adopts the users that have a live trade group and no live owner.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
import uuid
from typing import Any

import attrs
import psycopg
import trio
from psycopg.rows import dict_row

from actors.cluster.leases import ClusterLeases
from actors.runtime.actor import Actor, ActorContext, Ask
from testudo.cluster.leases import (
    LOCK_CLASS,
    LOCK_NODE,
    NodeIdentity,
    dead_nodes_tx,
    leave_tx,
    register_tx,
    renew_tx,
    unowned_live_users_tx,
)

log = logging.getLogger("testudo.cluster")
REJOIN_DELAY = 1.0  # seconds between two attempts to join again after losing the database


@attrs.frozen
class ClusterStatus:
    node_id: str
    name: str
    alive: bool
    leases: int
    takeovers: int


@attrs.frozen
class Status(Ask[ClusterStatus]):
    """This node as the cluster knows it (for /health/ready)."""


@attrs.frozen
class ScanNow(Ask[int]):
    """Run one takeover scan now; replies how many users were taken."""


KeeperMessage = Status | ScanNow


def new_incarnation(node: NodeIdentity) -> NodeIdentity:
    """The same node under a new id and lock key (a fresh start or a rejoin)."""
    return attrs.evolve(node, id=str(uuid.uuid4()), lock_key=secrets.randbelow(2**31 - 1))


class LeaseKeeper(Actor[KeeperMessage]):
    kind = "lease_keeper"

    def __init__(self, leases: ClusterLeases, renew_every: float, scan_every: float) -> None:
        self.leases = leases
        self.renew_every = renew_every
        self.scan_every = scan_every
        self._conn: psycopg.Connection[Any] | None = None

    async def started(self, ctx: ActorContext[KeeperMessage]) -> None:
        if self.leases.held():  # a restart: the last incarnation's leases are not ours
            await self.leases.lose_all("lease keeper restarted")
        await self._join()
        ctx.nursery.start_soon(self._renew_loop)
        ctx.nursery.start_soon(self._scan_loop)

    async def handle(self, message: KeeperMessage) -> ClusterStatus | int:
        if isinstance(message, Status):
            leases = self.leases
            return message.reply(
                ClusterStatus(
                    leases.node.id,
                    leases.node.name,
                    leases.alive(),
                    len(leases.held()),
                    leases.takeovers,
                )
            )
        if isinstance(message, ScanNow):
            return message.reply(await self._scan())
        self.unhandled(message)

    async def stopping(self) -> None:
        """A graceful stop frees the node's leases at once (the others need not wait)."""
        node_id = self.leases.node.id
        await self.leases.lose_all("released: node stopping")
        try:
            await self.leases.db.run(lambda conn: leave_tx(conn, node_id))
        except Exception:  # the database is gone: the leases expire on their own
            log.warning("could not leave the cluster", extra={"json_fields": {"event": "leave"}})
        await self._close()

    # -- membership ----------------------------------------------------------------------

    async def _join(self) -> None:
        """Lock, then register a new incarnation (a lock free while a row lives means dead)."""
        await self._close()
        node = new_incarnation(self.leases.node)
        url, ttl = self.leases.database_url, self.leases.term.ttl

        def join() -> psycopg.Connection[Any]:
            conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
            try:
                locked = conn.execute(LOCK_NODE, (LOCK_CLASS, node.lock_key)).fetchone()
                if not (locked and locked["locked"]):
                    raise RuntimeError("lock key in use")  # retried with another key
                sent = time.monotonic()
                register_tx(conn, node, ttl)
                self.leases.confirmed(self.leases.term.valid_until(sent))
            except BaseException:
                conn.close()
                raise
            return conn

        self._conn = await trio.to_thread.run_sync(join)
        self.leases.rejoined(node)
        log.info(
            "joined the cluster",
            extra={"json_fields": {"event": "cluster_joined", "node": node.name, "id": node.id}},
        )

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await trio.to_thread.run_sync(conn.close)

    async def _renew_loop(self) -> None:
        while True:
            await trio.sleep(self.renew_every)
            if await self._renew():
                continue
            await self.leases.lose_all("lease expired")
            await self._rejoin()

    async def _renew(self) -> bool:
        conn, node_id, ttl = self._conn, self.leases.node.id, self.leases.term.ttl
        if conn is None:
            return False
        sent = time.monotonic()
        with trio.move_on_after(self.leases.term.ttl):
            try:
                renewed = await trio.to_thread.run_sync(
                    lambda: renew_tx(conn, node_id, ttl), abandon_on_cancel=True
                )
            except psycopg.Error:
                return False
            if renewed:
                self.leases.confirmed(self.leases.term.valid_until(sent))
            return renewed
        return False

    async def _rejoin(self) -> None:
        while True:
            try:
                await self._join()
            except (psycopg.Error, RuntimeError):
                await trio.sleep(REJOIN_DELAY)
                continue
            await self._scan()
            return

    # -- takeovers -----------------------------------------------------------------------

    async def _scan_loop(self) -> None:
        await self.leases.serving.wait()  # the services are wired: adopted groups can start
        while True:
            with contextlib.suppress(psycopg.Error):  # the database is away: renewals tell
                await self._scan()
            await trio.sleep(self.scan_every)

    async def _scan(self) -> int:
        """Remove dead nodes, then adopt the users with live groups and no live owner."""
        if not self.leases.alive():
            return 0
        node_id = self.leases.node.id
        dead = await self.leases.db.run(lambda conn: dead_nodes_tx(conn, node_id))
        for dead_id, name in dead:
            log.warning(
                "node declared dead",
                extra={
                    "json_fields": {
                        "event": "node_dead",
                        "node": name,
                        "id": dead_id,
                        "by": self.leases.node.name,
                    }
                },
            )
        users = await self.leases.db.run(unowned_live_users_tx)
        return await self.leases.adopt(users)
