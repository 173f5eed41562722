"""Actor ``ask`` round trip vs a bare trio memory-channel round trip, in one process.

Each path is timed by the wall clock and by the process's CPU time (``process_time``): on a
shared machine the wall clock also counts other programs, the CPU time only this one.
"""

from __future__ import annotations

import time

import attrs
import pytest
import trio

from actors import Actor, Ask, ChildSpec, Supervisor

ROUNDS = 20_000


@attrs.frozen
class Ping(Ask[int]):
    value: int


class Echo(Actor[Ping]):
    kind = "echo"

    async def handle(self, message: Ping) -> int:
        return message.reply(message.value)


async def bare_round_trips(rounds: int) -> tuple[float, float]:
    """A server task answering on a reply channel carried by each request: the floor."""
    send, receive = trio.open_memory_channel[tuple[int, trio.MemorySendChannel[int]]](64)

    async def server() -> None:
        async for value, reply in receive:
            reply.send_nowait(value)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        began, cpu = time.perf_counter(), time.process_time()
        for i in range(rounds):
            reply_send, reply_receive = trio.open_memory_channel[int](1)
            await send.send((i, reply_send))
            await reply_receive.receive()
        elapsed = time.perf_counter() - began, time.process_time() - cpu
        nursery.cancel_scope.cancel()
    return elapsed


async def actor_round_trips(rounds: int) -> tuple[float, float]:
    async with trio.open_nursery() as nursery:
        root = Supervisor("root")
        await nursery.start(root.run)
        ref = await root.start_child(ChildSpec("echo", Echo))
        began, cpu = time.perf_counter(), time.process_time()
        for i in range(rounds):
            await ref.ask(Ping(i))
        elapsed = time.perf_counter() - began, time.process_time() - cpu
        nursery.cancel_scope.cancel()
    return elapsed


@pytest.mark.bench
async def test_actor_ask_overhead() -> None:
    from .harness import report

    await bare_round_trips(2000)  # warm-up
    await actor_round_trips(2000)
    bare = [await bare_round_trips(ROUNDS) for _ in range(3)]
    actor = [await actor_round_trips(ROUNDS) for _ in range(3)]
    rows = []
    for path, runs in (("bare memory channel", bare), ("actor ask", actor)):
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        rows.append(
            {
                "path": path,
                "us_per_round_trip": round(wall / ROUNDS * 1e6, 2),
                "cpu_us_per_round_trip": round(cpu / ROUNDS * 1e6, 2),
                "round_trips_per_s": round(ROUNDS / wall),
            }
        )
    for row in rows:
        row["ratio_to_bare"] = round(row["us_per_round_trip"] / rows[0]["us_per_round_trip"], 2)
        row["cpu_ratio_to_bare"] = round(
            row["cpu_us_per_round_trip"] / rows[0]["cpu_us_per_round_trip"], 2
        )
    columns = [
        "path",
        "us_per_round_trip",
        "cpu_us_per_round_trip",
        "round_trips_per_s",
        "ratio_to_bare",
        "cpu_ratio_to_bare",
    ]
    report("actors", rows, columns)
    assert all(r["us_per_round_trip"] > 0 for r in rows)
