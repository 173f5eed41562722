"""The event pruner: deletes events older than the retention period, on a timer.

Every ``prune_interval`` seconds (and on :class:`PruneNow`) it calls ``prune_events`` in small
transactions until a batch comes back short. Several nodes may run one: the SQL function takes a
transaction advisory lock and returns 0 on the nodes that did not get it. The cut-off is taken
from the service clock, so tests move time instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import logging

import attrs
import psycopg
import trio
from psycopg_pool import PoolTimeout

from actors.runtime.actor import Actor, ActorContext, Ask
from testudo.clock import Clock
from testudo.db import Database
from testudo.realtime import events
from testudo.realtime.settings import RealtimeSettings

log = logging.getLogger("testudo.realtime")


@attrs.frozen
class PruneNow(Ask[int]):
    """Prune now; replies the number of events deleted."""


class EventPruner(Actor[PruneNow]):
    kind = "event_pruner"

    def __init__(self, db: Database, clock: Clock, settings: RealtimeSettings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    async def started(self, ctx: ActorContext[PruneNow]) -> None:
        ctx.nursery.start_soon(self._timer, ctx)

    async def handle(self, message: PruneNow) -> int:
        return message.reply(await self._prune())

    async def _timer(self, ctx: ActorContext[PruneNow]) -> None:
        while True:
            await trio.sleep(self._settings.prune_interval)
            await ctx.ref.send(PruneNow())

    async def _prune(self) -> int:
        before = self._clock.now() - dt.timedelta(days=self._settings.retention_days)
        batch = self._settings.prune_batch
        total = 0
        try:
            while True:
                deleted = await self._db.run(lambda conn: events.prune(conn, before, batch))
                total += deleted
                if deleted < batch:
                    break
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning(
                "event pruning failed; will retry",
                extra={"json_fields": {"event": "prune_failed", "error": str(exc).strip()[:200]}},
            )
        if total:
            log.info(
                "events pruned",
                extra={"json_fields": {"event": "events_pruned", "count": total}},
            )
        return total
