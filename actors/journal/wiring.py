"""Start the journal's actors under the root supervisor and expose them as ``system.journal``.

Children of ``root``: ``imports`` (a supervisor of the import workers) and
``upload-sweeper``. :class:`Journal` is what the API layer uses: the image service, the import
runner, and :meth:`Journal.wake_workers` after queueing a job.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import attrs

from actors import ActorRef, ChildSpec, MailboxFull, Supervisor, SupervisorRef
from actors.imports.import_worker import ImportWorker, Wake
from actors.journal.upload_sweeper import UploadSweeper
from actors.runtime.errors import ActorStopped
from testudo.imports.runner import ImportRunner
from testudo.journal.storage import LocalImageStore
from testudo.journal.uploads import ImageService

if TYPE_CHECKING:
    from actors.system import System

IMPORT_WORKERS = 2


@attrs.define(eq=False)
class Journal:
    images: ImageService
    runner: ImportRunner
    workers: list[ActorRef[Any]] = attrs.Factory(list)
    imports: SupervisorRef | None = None
    sweeper: ActorRef[Any] | None = None

    def wake_workers(self) -> None:
        """Tell idle workers a job is waiting (best effort: they poll anyway)."""
        for worker in self.workers:
            with contextlib.suppress(MailboxFull, ActorStopped):
                worker.send_nowait(Wake())


async def start_journal(root: Supervisor, system: System, workers: int = IMPORT_WORKERS) -> Journal:
    images = ImageService(system.db, LocalImageStore(system.settings.data_dir / "uploads"))
    runner = ImportRunner(system.db, system.accounts, system.clock)
    journal = Journal(images, runner)

    def worker(index: int) -> ChildSpec:
        name = f"worker-{index}"
        return ChildSpec(name, lambda: ImportWorker(name, runner, system.db, system.clock))

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
    system.journal = journal
    return journal
