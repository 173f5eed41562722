"""Pytest fixtures: ``sim`` starts a simulator on a free port in the test's nursery."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import trio

from testudo.sim.client import SimClient
from testudo.sim.server import SimHandle, serve_simulator
from testudo.sim.simulator import SimConfig


@pytest.fixture
def sim_config() -> SimConfig:
    """Configuration of the ``sim`` fixture (override to change seed, walk, prices)."""
    return SimConfig(
        host="127.0.0.1", port=0, seed=0, walk_interval_s=None, scheduled_funding=False
    )


@pytest.fixture
async def sim(nursery: trio.Nursery, sim_config: SimConfig) -> AsyncIterator[SimClient]:
    """A running simulator and a client of its control API; stopped with the test."""
    handle: SimHandle = await nursery.start(serve_simulator, sim_config)
    async with httpx.AsyncClient(base_url=handle.base_url, timeout=30) as http:
        yield SimClient(handle, http)
