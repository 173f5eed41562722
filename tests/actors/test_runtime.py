"""Rules of the actor runtime, each checked under trio's MockClock (autojump)."""

from __future__ import annotations

import itertools
import json
import logging
import random
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from actors import (
    Actor,
    ActorContext,
    ActorCrashed,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
    Backoff,
    ChildSpec,
    MailboxFull,
    Registry,
    Restart,
    RestartIntensityExceeded,
    Supervisor,
)
from actors.runtime.supervision_log import LOGGER_NAME


@attrs.frozen
class Add:
    amount: int


@attrs.frozen
class Get:
    pass


@attrs.frozen
class Boom:
    message: str = "boom"


@attrs.frozen
class Sleep:
    seconds: float


@attrs.frozen
class Quit:
    pass


class Counter(Actor[Any]):
    kind = "counter"
    incarnations = 0

    def __init__(self) -> None:
        self.total = 0
        self.ctx: ActorContext | None = None

    async def started(self, ctx: ActorContext) -> None:
        type(self).incarnations += 1
        self.ctx = ctx

    async def handle(self, message: Any) -> Any:
        match message:
            case Add(amount):
                self.total += amount
                return self.total
            case Get():
                return self.total
            case Boom(text):
                raise RuntimeError(text)
            case Sleep(seconds):
                await trio.sleep(seconds)
                return "slept"
            case Quit():
                assert self.ctx is not None
                self.ctx.stop("asked to quit")
                return "bye"
        return await super().handle(message)


class LogLines:
    """Supervision records captured from the logger, as dicts."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def events(self, actor: str | None = None) -> list[dict[str, Any]]:
        out = []
        for record in self.caplog.records:
            if record.name == LOGGER_NAME:
                fields = record.json_fields  # type: ignore[attr-defined]
                if actor is None or fields["actor"] == actor:
                    out.append(fields)
        return out

    def names(self, actor: str) -> list[str]:
        return [e["event"] for e in self.events(actor)]


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> LogLines:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    return LogLines(caplog)


def no_jitter() -> Backoff:
    return Backoff(initial=1.0, maximum=8.0, jitter=0.0)


async def start_root(nursery: trio.Nursery, **kwargs: Any) -> Supervisor:
    root = Supervisor("root", **kwargs)
    await nursery.start(root.run)
    return root


async def test_ask_returns_the_reply_and_state_is_private(nursery: trio.Nursery) -> None:
    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("counter", Counter))
    assert await ref.ask(Add(2)) == 2
    await ref.send(Add(3))
    assert await ref.ask(Get()) == 5
    assert ref.path == "root/counter"
    await root.stop()


async def test_crash_restarts_permanent_child_and_surfaces_to_asker(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter())
    ref = await root.start_child(ChildSpec("counter", Counter))
    await ref.ask(Add(7))
    with pytest.raises(ActorCrashed) as info:
        await ref.ask(Boom("kaput"))
    assert info.value.error_type == "RuntimeError"
    assert info.value.error == "kaput"
    # The same reference reaches the restarted incarnation, with fresh state.
    assert await ref.ask(Get()) == 0
    assert log.names("root/counter") == ["start", "crash", "restart", "start"]
    crash = log.events("root/counter")[1]
    assert crash["error_type"] == "RuntimeError" and crash["reason"] == "RuntimeError: kaput"
    restart = log.events("root/counter")[2]
    assert restart["restart_count"] == 1 and restart["delay_s"] == 1.0


async def test_backoff_grows_exponentially_between_restarts(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter(), intensity=10, period=100)
    ref = await root.start_child(ChildSpec("counter", Counter))
    times = []
    for _ in range(4):
        with pytest.raises(ActorCrashed):
            await ref.ask(Boom())
        await ref.ask(Get())  # waits until restarted
        times.append(trio.current_time())
    delays = [e["delay_s"] for e in log.events("root/counter") if e["event"] == "restart"]
    assert delays == [1.0, 2.0, 4.0, 8.0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([2.0, 4.0, 8.0])


def test_backoff_jitter_stays_within_bounds() -> None:
    backoff = Backoff(initial=0.5, maximum=10, jitter=0.5)
    rng = random.Random(1)
    for attempt in range(1, 12):
        base = min(10, 0.5 * 2 ** (attempt - 1))
        assert base * 0.5 <= backoff.delay(attempt, rng) <= base * 1.5


async def test_restart_intensity_escalates_to_the_parent(
    autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    inner = Supervisor("inner", intensity=2, period=60, backoff=no_jitter())
    with pytest.RaisesGroup(RestartIntensityExceeded, flatten_subgroups=True):
        async with trio.open_nursery() as nursery:
            await nursery.start(inner.run)
            ref = await inner.start_child(ChildSpec("counter", Counter))
            for attempt in range(3):
                with pytest.raises(ActorCrashed):
                    await ref.ask(Boom())
                if attempt < 2:
                    await ref.ask(Get())  # restarted
            await trio.sleep_forever()  # the supervisor's failure ends this
    assert log.names("inner") == ["escalate"]
    assert log.names("inner/counter") == ["start", "crash", "restart"] * 2 + ["start", "crash"]


async def test_parent_restarts_a_failed_child_supervisor(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter())
    spec = ChildSpec(
        "accounts",
        lambda: Supervisor("accounts", intensity=0, period=60, backoff=no_jitter()),
    )
    accounts = await root.start_child(spec)
    ref = await accounts.start_child(ChildSpec("acct-1", Counter))
    with pytest.raises(ActorCrashed):
        await ref.ask(Boom())
    await trio.sleep(5)
    assert log.names("root/accounts")[:5] == ["start", "escalate", "crash", "restart", "start"]
    assert accounts.current is not None and accounts.current.children == {}
    again = await accounts.start_child(ChildSpec("acct-1", Counter))
    assert again.path == "root/accounts/acct-1"
    assert await again.ask(Add(1)) == 1


async def test_transient_and_temporary_children(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter())
    transient = await root.start_child(ChildSpec("t", Counter, restart=Restart.TRANSIENT))
    assert await transient.ask(Quit()) == "bye"
    await trio.sleep(1)
    assert log.names("root/t") == ["start", "stop"]
    assert log.events("root/t")[-1]["reason"] == "asked to quit"
    with pytest.raises(ActorStopped):
        await transient.ask(Get())

    crashed = await root.start_child(ChildSpec("t2", Counter, restart=Restart.TRANSIENT))
    with pytest.raises(ActorCrashed):
        await crashed.ask(Boom())
    assert await crashed.ask(Get()) == 0  # transient: restarted after a crash

    temporary = await root.start_child(ChildSpec("tmp", Counter, restart=Restart.TEMPORARY))
    with pytest.raises(ActorCrashed):
        await temporary.ask(Boom())
    await trio.sleep(1)
    with pytest.raises(ActorStopped):
        await temporary.ask(Get())
    assert log.names("root/tmp") == ["start", "crash"]

    permanent = await root.start_child(ChildSpec("p", Counter))
    assert await permanent.ask(Quit()) == "bye"
    assert await permanent.ask(Get()) == 0  # permanent: restarted even after a normal exit


async def test_ask_timeout(nursery: trio.Nursery, autojump_clock: trio.testing.MockClock) -> None:
    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("counter", Counter))
    before = trio.current_time()
    with pytest.raises(AskTimeout):
        await ref.ask(Sleep(60), timeout=2)
    assert trio.current_time() - before == pytest.approx(2)
    assert await ref.ask(Get(), timeout=120) == 0  # actor still alive once the sleep ends


async def test_backpressure_send_waits_and_send_nowait_raises(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("counter", Counter, mailbox_size=2))
    await ref.send(Sleep(10))  # taken by the actor at once
    await trio.testing.wait_all_tasks_blocked()
    ref.send_nowait(Add(1))
    ref.send_nowait(Add(1))
    with pytest.raises(MailboxFull):
        ref.send_nowait(Add(1))
    assert ref.statistics().current_buffer_used == 2
    before = trio.current_time()
    await ref.send(Add(1))  # blocks until the actor makes room
    assert trio.current_time() - before == pytest.approx(10)
    assert await ref.ask(Get()) == 3


async def test_graceful_stop_then_cancel_after_grace(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    stopped: list[str] = []

    class Slow(Counter):
        async def stopping(self) -> None:
            stopped.append("cleanup ran")

    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("slow", Slow, grace=3))
    outcome: list[BaseException] = []

    async def ask_slow() -> None:
        try:
            await ref.ask(Sleep(100), timeout=1000)
        except ActorInterrupted as exc:
            outcome.append(exc)

    async with trio.open_nursery() as inner:
        inner.start_soon(ask_slow)
        await trio.testing.wait_all_tasks_blocked()
        before = trio.current_time()
        await root.stop_child("slow")
    assert len(outcome) == 1  # the asker learns its request was interrupted
    assert trio.current_time() - before == pytest.approx(3)
    assert stopped == ["cleanup ran"]
    assert log.names("root/slow") == ["start", "kill", "stop"]


async def test_graceful_stop_finishes_current_message(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("c", Counter, grace=30))
    results: list[Any] = []

    async def ask_slow() -> None:
        results.append(await ref.ask(Sleep(5), timeout=60))

    async with trio.open_nursery() as inner:
        inner.start_soon(ask_slow)
        await trio.testing.wait_all_tasks_blocked()
        await root.stop_child("c")
    assert results == ["slept"]


async def test_asks_queued_behind_a_stopping_actor_are_refused_at_once(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A request waiting in the mailbox when the actor stops is answered ActorStopped as soon
    as the actor is gone (so the caller can go to the next incarnation), never left waiting
    for its ask timeout."""
    root = await start_root(nursery)
    ref = await root.start_child(ChildSpec("c", Counter, grace=30))
    outcomes: list[str] = []

    async def ask_queued() -> None:
        try:
            await ref.ask(Get(), timeout=600)
        except ActorStopped:
            outcomes.append(f"stopped at {trio.current_time() - began:g}")

    began = trio.current_time()
    async with trio.open_nursery() as inner:
        inner.start_soon(ref.ask, Sleep(5))
        await trio.testing.wait_all_tasks_blocked()
        inner.start_soon(ask_queued)
        await trio.testing.wait_all_tasks_blocked()
        await root.stop_child("c")
    assert outcomes == ["stopped at 5"]


async def test_passivation_and_respawn_through_the_registry(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery)
    registry = Registry()
    key = ("counter", 42)
    assert await registry.ask(key, root, Counter, Add(5), idle_timeout=60) == 5
    await trio.sleep(30)
    assert await registry.ask(key, root, Counter, Add(1), idle_timeout=60) == 6
    await trio.sleep(61)
    assert registry.lookup(key) is None
    assert log.names("root/counter-42") == ["start", "passivate"]
    # Rehydrated on demand (state here is in memory, so it starts fresh).
    assert await registry.ask(key, root, Counter, Get(), idle_timeout=60) == 0
    assert log.names("root/counter-42") == ["start", "passivate", "start"]


async def test_no_duplicate_actor_per_key_under_concurrent_spawns(nursery: trio.Nursery) -> None:
    root = await start_root(nursery)
    registry = Registry()
    Counter.incarnations = 0
    refs = []

    async def get() -> None:
        refs.append(await registry.ensure(("counter", 1), root, Counter))

    async with trio.open_nursery() as many:
        for _ in range(50):
            many.start_soon(get)
    assert len({id(r) for r in refs}) == 1
    assert Counter.incarnations == 1
    assert list(root.children) == ["counter-1"]


async def test_first_start_failure_is_raised_to_the_starter(log: LogLines) -> None:
    class Broken(Actor[Any]):
        kind = "broken"

        async def started(self, ctx: ActorContext) -> None:
            raise ValueError("cannot load state")

    async with trio.open_nursery() as nursery:
        root = await start_root(nursery)
        with pytest.raises(ValueError, match="cannot load state"):
            await root.start_child(ChildSpec("b", Broken))
        assert log.names("root/b") == ["crash"]
        await root.stop()


async def test_crash_in_actor_owned_task_crashes_the_actor(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    class Poller(Actor[Any]):
        kind = "poller"

        async def started(self, ctx: ActorContext) -> None:
            ctx.nursery.start_soon(self.poll)

        async def poll(self) -> None:
            await trio.sleep(5)
            raise ConnectionError("exchange went away")

    root = await start_root(nursery, backoff=no_jitter(), intensity=100, period=1)
    await root.start_child(ChildSpec("poller", Poller))
    await trio.sleep(5.5)
    crash = log.events("root/poller")[1]
    assert crash["event"] == "crash" and crash["error_type"] == "ConnectionError"


def test_log_lines_render_as_one_json_object(caplog: pytest.LogCaptureFixture) -> None:
    from actors.runtime import supervision_log as slog
    from testudo.logs import JsonFormatter

    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    slog.emit(slog.Event.RESTART, "root/x", "counter", "restart 1", restart_count=1, delay_s=0.5)
    line = JsonFormatter().format(caplog.records[-1])
    data = json.loads(line)
    assert "\n" not in line
    assert data["event"] == "restart" and data["actor"] == "root/x"
    assert data["restart_count"] == 1 and data["delay_s"] == 0.5
    assert data["ts"].endswith("Z") and data["level"] == "info"


async def test_an_isolated_child_is_parked_and_never_touches_its_siblings(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter(), intensity=2, period=60, park=30)
    sibling = await root.start_child(ChildSpec("sibling", Counter))
    await sibling.ask(Add(5))
    hostile = await root.start_child(ChildSpec("hostile", Counter, isolated=True))
    for _ in range(3):
        with pytest.raises(ActorCrashed):
            await hostile.ask(Boom())
        await trio.sleep(0.001)
    parked_at = trio.current_time()
    assert await hostile.ask(Get(), timeout=60) == 0  # restarted after the park
    assert trio.current_time() - parked_at == pytest.approx(30, abs=0.01)
    escalate = [e for e in log.events("root/hostile") if e["event"] == "escalate"]
    assert len(escalate) == 1 and "parked for 30s" in escalate[0]["reason"]
    assert escalate[0]["restart_count"] == 3
    # The sibling kept its state: nothing restarted it, and the supervisor never gave up.
    assert await sibling.ask(Get()) == 5
    assert log.names("root/sibling") == ["start"]
    assert log.names("root") == []


async def test_a_shared_budget_still_fails_upward(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    """Without isolation, the same crashes exhaust the supervisor's shared budget."""
    inner = Supervisor("inner", intensity=2, period=60, backoff=no_jitter())
    with pytest.RaisesGroup(RestartIntensityExceeded, flatten_subgroups=True):
        async with trio.open_nursery() as inner_nursery:
            await inner_nursery.start(inner.run)
            sibling = await inner.start_child(ChildSpec("sibling", Counter))
            hostile = await inner.start_child(ChildSpec("hostile", Counter))
            for _ in range(3):
                with pytest.raises(ActorCrashed):
                    await hostile.ask(Boom())
                await trio.sleep(0.001)
            await trio.sleep_forever()
    with pytest.raises(ActorStopped):
        await sibling.ask(Get())


async def test_the_top_parks_a_child_instead_of_dying(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter(), intensity=1, period=60, park=10, top=True)
    ref = await root.start_child(ChildSpec("listener", Counter))
    for _ in range(2):
        with pytest.raises(ActorCrashed):
            await ref.ask(Boom())
        await trio.sleep(0.001)
    assert await ref.ask(Get(), timeout=30) == 0
    assert [e["event"] for e in log.events("root/listener")].count("escalate") == 1
    assert log.names("root") == []


async def test_adopt_runs_after_every_start_of_a_supervisor(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    adopted: list[str] = []

    async def adopt(supervisor: Supervisor) -> None:
        adopted.append(supervisor.path)
        await supervisor.start_child(ChildSpec("adopted", Counter))

    root = await start_root(nursery, backoff=no_jitter())
    spec = ChildSpec("groups", lambda: Supervisor("groups", intensity=0, period=60, adopt=adopt))
    groups = await root.start_child(spec)
    await trio.sleep(0.01)
    assert adopted == ["root/groups"]
    assert groups.current is not None
    child = groups.current.children["adopted"]
    with pytest.raises(ActorCrashed):
        await child.ask(Boom())  # intensity 0: the subtree fails and is restarted
    await trio.sleep(5)
    assert adopted == ["root/groups", "root/groups"]
    assert groups.current is not None and "adopted" in groups.current.children


class SlowToStop(Counter):
    kind = "slow"

    async def stopping(self) -> None:
        await trio.sleep(2)


async def test_a_new_child_waits_for_its_namesake_to_finish_stopping(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A group that just ended is still running its stopping hook when the next request
    for it arrives: the new incarnation starts after it, never beside it or as an error."""
    root = await start_root(nursery)
    first = await root.start_child(ChildSpec("g", SlowToStop, restart=Restart.TRANSIENT))
    assert await first.ask(Quit()) == "bye"
    began = trio.current_time()
    second = await root.start_child(ChildSpec("g", Counter, restart=Restart.TRANSIENT))
    assert trio.current_time() - began == pytest.approx(2, abs=0.01)
    assert await second.ask(Add(1)) == 1


async def _fail(error: Exception) -> None:
    raise error


class Pair(Actor[Any]):
    """Handles every message (and starts) in a nursery where two tasks fail."""

    kind = "pair"
    fail_start = False

    async def started(self, ctx: ActorContext[Any]) -> None:
        if self.fail_start:
            await self.handle(None)

    async def handle(self, message: Any) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_fail, ValueError("left"))
            nursery.start_soon(_fail, KeyError("right"))


async def test_an_exception_group_reaches_the_asker_and_the_log_whole(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, log: LogLines
) -> None:
    root = await start_root(nursery, backoff=no_jitter())
    ref = await root.start_child(ChildSpec("pair", Pair))
    with pytest.raises(ActorCrashed) as info:
        await ref.ask(Get())
    assert info.value.error_type == "ExceptionGroup"
    assert "ValueError: left" in info.value.error and "KeyError: 'right'" in info.value.error
    await trio.testing.wait_all_tasks_blocked()  # the supervisor logs after the asker wakes
    crash = log.events("root/pair")[1]
    assert crash["event"] == "crash" and crash["error_type"] == "ExceptionGroup"
    assert "ValueError: left" in crash["reason"] and "KeyError: 'right'" in crash["reason"]


async def test_a_start_failing_with_several_errors_raises_them_all(
    nursery: trio.Nursery, log: LogLines
) -> None:
    class PairAtStart(Pair):
        fail_start = True

    root = await start_root(nursery)
    with pytest.RaisesGroup(ValueError, KeyError, flatten_subgroups=True):
        await root.start_child(ChildSpec("pair", PairAtStart))
    assert log.names("root/pair") == ["crash"]
    await root.stop()
