"""Import workers: actors that pop history-import jobs from the durable queue and run them.

Each worker loops: claim the next due job (``FOR UPDATE SKIP LOCKED``; also a running job
whose worker stopped heartbeating, or one this worker held before it restarted), run it with a
heartbeat task refreshing the lease every few seconds, then record the outcome: completed,
queued again with backoff, or failed for good (with a final ``import_complete`` event saying
so). Between jobs it sleeps until woken (:class:`Wake`, sent when a job is queued through the
API) or until the poll interval passes (jobs queued by other code). A crash restarts the actor
(supervisor), and the job it held is claimed again at once.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable

import attrs
import psycopg
import trio

from actors.runtime.actor import Actor, ActorContext, Ask
from testudo.clock import Clock
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.errors import ExchangeFailure
from testudo.imports import queue
from testudo.imports.runner import (
    ImportFailed,
    ImportRunner,
    JobRun,
    LeaseLost,
    complete_event,
    publish,
)

log = logging.getLogger("testudo.imports")


@attrs.frozen
class Wake(Ask[bool]):
    """A job may be waiting: poll now."""


@attrs.frozen
class WorkerStatus(Ask[str | None]):
    """Replies with the id of the job being run, or None."""


def worker_id(name: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{name}"


ImportWorkerMessage = Wake | WorkerStatus


class ImportWorker(Actor[ImportWorkerMessage]):
    kind = "import_worker"

    def __init__(
        self,
        name: str,
        runner: ImportRunner,
        db: Database,
        clock: Clock,
        *,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 10.0,
        node: Callable[[], str] = lambda: "",
    ) -> None:
        self.worker = worker_id(name)
        self._node = node  # this node's id in the cluster: the jobs of its users
        self._runner = runner
        self._db = db
        self._clock = clock
        self._poll = poll_interval
        self._heartbeat = heartbeat_interval
        self._wake = trio.Event()
        self._current: str | None = None
        self._nursery: trio.Nursery | None = None

    async def started(self, ctx: ActorContext[ImportWorkerMessage]) -> None:
        self._nursery = ctx.nursery
        ctx.nursery.start_soon(self._loop)

    async def handle(self, message: ImportWorkerMessage) -> bool | str | None:
        match message:
            case Wake():
                self._wake.set()
                return message.reply(True)
            case WorkerStatus():
                return message.reply(self._current)
        self.unhandled(message)

    async def _loop(self) -> None:
        while True:
            claim = functools.partial(
                queue.claim, worker=self.worker, now=self._clock.now(), node=self._node()
            )
            job = await self._db.run(claim)
            if job is None:
                with trio.move_on_after(self._poll):
                    await self._wake.wait()
                self._wake = trio.Event()
                continue
            await self._execute(job)

    async def _execute(self, job: queue.Job) -> None:
        run = JobRun(job, self.worker)
        self._current = job.id
        log.info(
            "import started",
            extra={
                "json_fields": {
                    "event": "import_started",
                    "job_id": job.id,
                    "attempt": job.attempts,
                    "worker": self.worker,
                }
            },
        )
        lease = trio.CancelScope()
        beats = trio.CancelScope()
        assert self._nursery is not None
        self._nursery.start_soon(self._beat, run, lease, beats)
        try:
            with lease:
                await self._runner.run(run)
            if lease.cancelled_caught:
                raise LeaseLost(job.id)
            log.info(
                "import completed",
                extra={
                    "json_fields": {"event": "import_completed", "job_id": job.id, **run.counters}
                },
            )
        except LeaseLost:
            log.warning(
                "import lease lost",
                extra={"json_fields": {"event": "import_lease_lost", "job_id": job.id}},
            )
        except ImportFailed as exc:
            await self._fail(run, exc.detail, permanent=exc.permanent)
        except ExchangeFailure as exc:
            permanent = not exc.transient and exc.about_request
            await self._fail(run, f"{exc.error}: {exc.detail}", permanent=permanent)
        except Exception:
            log.exception(
                "import attempt failed",
                extra={"json_fields": {"event": "import_error", "job_id": job.id}},
            )
            # The exception's text is ours (paths, hosts, queries): logged above, never shown.
            await self._fail(run, "internal error; the import is retried", permanent=False)
        finally:
            beats.cancel()
            self._current = None

    async def _beat(self, run: JobRun, lease: trio.CancelScope, scope: trio.CancelScope) -> None:
        """Refresh the job's lease; cancel the run when another worker has taken it."""
        with scope:
            while True:
                await trio.sleep(self._heartbeat)

                def work(conn: Conn) -> bool:
                    return queue.heartbeat(
                        conn, run.job, run.worker, self._clock.now(), run.progress, run.counters
                    )

                try:
                    if not await self._db.run(work):
                        lease.cancel()
                        return
                except psycopg.Error as exc:
                    log.warning("heartbeat failed", extra={"json_fields": {"error": str(exc)}})

    async def _fail(self, run: JobRun, error: str, *, permanent: bool) -> None:
        now = self._clock.now()

        def work(conn: Conn) -> str | None:
            state = queue.fail(conn, run.job, run.worker, now, error, permanent=permanent)
            if state == "failed":
                publish(conn, run.job.user_id, complete_event(run, now, "failed", error=error))
            return state

        state = await self._db.run(work)
        log.warning(
            "import attempt failed",
            extra={
                "json_fields": {
                    "event": "import_failed",
                    "job_id": run.job.id,
                    "state": state,
                    "error": error,
                    "permanent": permanent,
                }
            },
        )
