"""Several nodes of one cluster in a test: in-process services on one database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import attrs
import httpx
import trio

from api.process import Running
from api.testing.service import running_service
from tests.support import make_settings
from testudo.clock import Clock
from testudo.cluster.settings import ClusterSettings
from testudo.config import Settings
from testudo.sim.client import SimClient

#: What every node of one cluster shares (docs/operations.md, "Running several nodes").
JWT_SECRET = secrets.token_hex(32)
MASTER_KEY = secrets.token_hex(32)


def node_settings(
    db_url: str, data_dir: Path, sim: SimClient, cluster: ClusterSettings | None = None
) -> Settings:
    from api.testing.settings import on_simulator

    settings = on_simulator(make_settings(db_url, data_dir), sim.base_url)
    return attrs.evolve(
        settings,
        jwt_secret=JWT_SECRET,
        master_key=MASTER_KEY,
        cluster=cluster or ClusterSettings(),
    )


@attrs.frozen
class Node:
    running: Running
    http: httpx.AsyncClient


@asynccontextmanager
async def cluster(
    nursery: trio.Nursery,
    db_url: str,
    root: Path,
    sim: SimClient,
    clock: Clock,
    size: int = 2,
) -> AsyncIterator[list[Node]]:
    """``size`` nodes on ``db_url``, each with its own data dir, ports and HTTP client."""
    async with AsyncExitStack() as stack:
        nodes = []
        for i in range(size):
            settings = node_settings(db_url, root / f"node{i}", sim)
            running = await stack.enter_async_context(running_service(nursery, settings, clock))
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=running.http_url, timeout=60)
            )
            nodes.append(Node(running, http))
        yield nodes
