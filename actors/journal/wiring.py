"""Start the journal's actors under the root supervisor and expose them as ``system.journal``.

Children of ``root``: ``imports`` (a supervisor of the import workers) and
``upload-sweeper``. :class:`Journal` is what the API layer uses: the image service, the import
runner, and :meth:`Journal.wake_workers` after queueing a job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import attrs

from actors import ActorRef, ChildSpec, MailboxFull, Supervisor, SupervisorRef
from actors.imports.import_worker import ImportWorker, ImportWorkerMessage, Wake
from actors.journal.upload_sweeper import Sweep, UploadSweeper
from actors.runtime.errors import ActorStopped
from testudo.clock import Clock
from testudo.db import Database
from testudo.imports.runner import AccountsPort, ImportRunner
from testudo.journal.storage import LocalImageStore
from testudo.journal.uploads import ImageService

IMPORT_WORKERS = 2


@attrs.define(eq=False)
class Journal:
    images: ImageService
    runner: ImportRunner
    workers: list[ActorRef[ImportWorkerMessage]] = attrs.Factory(list)
    imports: SupervisorRef | None = None
    sweeper: ActorRef[Sweep] | None = None

    def wake_workers(self) -> None:
        """Tell idle workers a job is waiting (best effort: they poll anyway)."""
        for worker in self.workers:
            with contextlib.suppress(MailboxFull, ActorStopped):
                worker.send_nowait(Wake())


async def start_journal(
    root: Supervisor,
    db: Database,
    accounts: AccountsPort,
    clock: Clock,
    uploads_dir: Path,
    workers: int = IMPORT_WORKERS,
    node: Callable[[], str] = lambda: "",
) -> Journal:
    """Start the import workers and the upload sweeper under ``root``; return the journal."""
    images = ImageService(db, LocalImageStore(uploads_dir))
    runner = ImportRunner(db, accounts, clock)
    journal = Journal(images, runner)

    def worker(index: int) -> ChildSpec:
        name = f"worker-{index}"
        return ChildSpec(name, lambda: ImportWorker(name, runner, db, clock, node=node))

    journal.imports = await root.start_child(
        ChildSpec(
            "imports",
            lambda: Supervisor(
                "imports",
                children=tuple(worker(i + 1) for i in range(workers)),
                intensity=20,
                period=60,
            ),
        )
    )
    current = journal.imports.current if journal.imports else None
    if current is not None:
        journal.workers = list(current.children.values())
    journal.sweeper = await root.start_child(
        ChildSpec("upload-sweeper", lambda: UploadSweeper(images))
    )
    return journal
