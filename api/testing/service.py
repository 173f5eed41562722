"""The whole service in a test's nursery."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from api.process import Running, run_service
from testudo.clock import Clock
from testudo.config import Settings


@asynccontextmanager
async def running_service(
    nursery: trio.Nursery, settings: Settings, clock: Clock
) -> AsyncIterator[Running]:
    """Run the whole service in ``nursery`` for the duration of the block."""
    running: Running = await nursery.start(
        functools.partial(run_service, settings, handle_signals=False, clock=clock)
    )
    try:
        yield running
    finally:
        running.shutdown()
