"""Actor ``ask`` round trip vs a bare trio memory-channel round trip, in one process."""

from __future__ import annotations

import time
from typing import Any

import pytest
import trio

from actors import Actor, ChildSpec, Supervisor

ROUNDS = 20_000


class Echo(Actor[Any]):
    kind = "echo"

    async def handle(self, message: Any) -> Any:
        return message


async def bare_round_trips(rounds: int) -> float:
    """A server task answering on a reply channel carried by each request: the floor."""
    send, receive = trio.open_memory_channel[tuple[int, trio.MemorySendChannel[int]]](64)

    async def server() -> None:
        async for value, reply in receive:
            reply.send_nowait(value)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        began = time.perf_counter()
        for i in range(rounds):
            reply_send, reply_receive = trio.open_memory_channel[int](1)
            await send.send((i, reply_send))
            await reply_receive.receive()
        elapsed = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    return elapsed


async def actor_round_trips(rounds: int) -> float:
    async with trio.open_nursery() as nursery:
        root = Supervisor("root")
        await nursery.start(root.run)
        ref = await root.start_child(ChildSpec("echo", Echo))
        began = time.perf_counter()
        for i in range(rounds):
            await ref.ask(i)
        elapsed = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    return elapsed


@pytest.mark.bench
async def test_actor_ask_overhead() -> None:
    from .harness import report

    await bare_round_trips(2000)  # warm-up
    await actor_round_trips(2000)
    bare = min([await bare_round_trips(ROUNDS) for _ in range(3)])
    actor = min([await actor_round_trips(ROUNDS) for _ in range(3)])
    rows = [
        {
            "path": "bare memory channel",
            "us_per_round_trip": round(bare / ROUNDS * 1e6, 2),
            "round_trips_per_s": round(ROUNDS / bare),
        },
        {
            "path": "actor ask",
            "us_per_round_trip": round(actor / ROUNDS * 1e6, 2),
            "round_trips_per_s": round(ROUNDS / actor),
        },
    ]
    rows[1]["ratio_to_bare"] = round(actor / bare, 2)
    rows[0]["ratio_to_bare"] = 1.0
    report("actors", rows, ["path", "us_per_round_trip", "round_trips_per_s", "ratio_to_bare"])
    assert actor > 0 and bare > 0
