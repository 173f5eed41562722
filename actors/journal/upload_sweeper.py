"""Removes upload files that have no database row (a crash mid-upload or mid-delete).

Sweeps once when started and then every ``interval`` seconds; :class:`Sweep` asks for one now
(with an optional grace) and replies with the counts. See :mod:`testudo.journal.uploads`.
"""

from __future__ import annotations

import logging

import attrs
import trio

from actors.runtime.actor import Actor, ActorContext, Ask
from testudo.journal.uploads import SWEEP_GRACE_SECONDS, ImageService

log = logging.getLogger("testudo.journal.uploads")


@attrs.frozen
class Sweep(Ask[dict[str, int]]):
    """Sweep now; replies the counts."""

    grace_seconds: float = SWEEP_GRACE_SECONDS


class UploadSweeper(Actor[Sweep]):
    kind = "upload_sweeper"

    def __init__(self, images: ImageService, interval: float = 3600.0) -> None:
        self._images = images
        self._interval = interval

    async def started(self, ctx: ActorContext[Sweep]) -> None:
        ctx.nursery.start_soon(self._periodic)

    async def _periodic(self) -> None:
        while True:
            try:
                await self._images.sweep()
            except Exception:
                log.exception("upload sweep failed")
            await trio.sleep(self._interval)

    async def handle(self, message: Sweep) -> dict[str, int]:
        return message.reply(await self._images.sweep(message.grace_seconds))
