"""Supervisors: nurseries that restart their children by policy (Erlang/OTP, one_for_one).

A :class:`Supervisor` owns a nursery. Each child lives in a *slot* that keeps the child's
mailbox across restarts and runs a restart loop:

* restart type (:class:`Restart`): ``PERMANENT`` children are always restarted, ``TRANSIENT``
  ones only after a crash, ``TEMPORARY`` ones never;
* restart intensity: more than ``intensity`` restarts (across all children) within ``period``
  seconds make the supervisor give up: it cancels its children and raises
  :class:`~actors.runtime.errors.RestartIntensityExceeded` to its own parent ("fail upward");
* isolation: an *isolated* child (``ChildSpec.isolated``; every per-user actor is one) has a
  restart budget of its own. When it exceeds it, the escalation is logged and the child is
  *parked* (restarted after ``park`` seconds) instead of failing its siblings and parents: one
  user's crashing actor can never stop, slow or restart another user's. A *top* supervisor
  (``top=True``, the root) parks any child that exhausts the budget, so an escalation at the
  top is logged and recovered, never a silent death of the actor system;
* adoption: ``adopt`` runs after every start of the supervisor (the first and every restart)
  and brings back the dynamic children that must outlive a restart (the trades supervisor
  rehydrates every live trade group: a live group is never simply cancelled);
* jittered exponential backoff between restarts of one child, reset after a healthy run;
* graceful stop: the child stops taking messages, gets ``grace`` seconds to finish the current
  one, then is cancelled; its ``stopping`` hook runs shielded with a time limit.

Every start, stop, crash, restart, passivation and escalation is one supervision log line.
Supervisors nest: a child spec's factory may build another :class:`Supervisor`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from actors.runtime import metrics, supervision_log as slog
from actors.runtime.actor import (
    Actor,
    ActorContext,
    ActorRef,
    fail_pending,
    open_mailbox,
    process,
    refuse,
)
from actors.runtime.errors import ActorStopped, RestartIntensityExceeded, without_cancelled

STOPPING_HOOK_TIMEOUT = 5.0


class Restart(enum.Enum):
    """When a child is restarted (OTP child restart types)."""

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


@attrs.frozen
class Backoff:
    """Jittered exponential backoff: ``initial * 2**n``, capped, times a factor in [1-j, 1+j]."""

    initial: float = 0.1
    maximum: float = 30.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.maximum, self.initial * 2.0 ** max(0, attempt - 1))
        return base * rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)


@attrs.frozen
class ChildSpec:
    """How to run one child.

    ``factory`` builds a fresh :class:`~actors.runtime.actor.Actor` (or :class:`Supervisor`) for
    each incarnation, so state is rebuilt in ``started`` after a restart. ``idle_timeout``
    enables passivation: after that many seconds without a message the child stops (reason
    ``passivated``) and ``on_exit`` runs. ``on_exit`` runs once when the slot ends for good.
    ``isolated`` gives the child its own restart budget (the supervisor's ``intensity`` within
    ``period``, counted for this child alone); a child that exceeds it is parked, never
    escalated.
    """

    name: str
    factory: Callable[[], Actor[Any] | Supervisor]
    restart: Restart = Restart.PERMANENT
    mailbox_size: int = 64
    idle_timeout: float | None = None
    grace: float = 5.0
    on_exit: Callable[[], None] | None = None
    isolated: bool = False


@attrs.define
class _Life:
    """A child's run across incarnations: whether it started once, its restart streak."""

    task_status: trio.TaskStatus[Any]
    ref: Any
    started: bool = False
    attempt: int = 0

    def ready(self) -> None:
        """The first incarnation is running: the starter gets the reference."""
        if not self.started:
            self.started = True
            self.task_status.started(self.ref)


class _Verdict(enum.Enum):
    """What a supervisor does after a child's crash or exit."""

    RESTART = "restart"
    PARK = "park"  # restart after the supervisor's ``park`` delay
    GIVE_UP = "give_up"  # the supervisor fails upward


class _Exit(enum.Enum):
    NORMAL = "normal"
    STOPPED = "stopped"
    PASSIVATED = "passivated"


class SupervisorRef:
    """A stable handle on a supervisor child whose incarnations change across restarts."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.current: Supervisor | None = None
        self._ready = trio.Event()

    def _attach(self, supervisor: Supervisor | None) -> None:
        self.current = supervisor
        if supervisor is None:
            self._ready = trio.Event()
        else:
            self._ready.set()

    async def start_child(self, spec: ChildSpec, *, timeout: float = 10.0) -> Any:
        """Start ``spec`` under the current incarnation, waiting for a restart in progress."""
        with trio.move_on_after(timeout):
            await self._ready.wait()
        if self.current is None:
            raise ActorStopped(f"supervisor {self.path} is not running")
        return await self.current.start_child(spec)


@attrs.define(eq=False)
class _Slot:
    spec: ChildSpec
    path: str
    kind: str
    ref: Any
    send: trio.MemorySendChannel[Any] | None
    receive: trio.MemoryReceiveChannel[Any] | None
    scope: trio.CancelScope = attrs.Factory(trio.CancelScope)
    first: Actor[Any] | Supervisor | None = None
    ctx: ActorContext[Any] | None = None
    child_supervisor: Supervisor | None = None
    stop_requested: bool = False
    sleeping: bool = False
    exit_logged: bool = False
    detached: bool = False
    done: trio.Event = attrs.Factory(trio.Event)
    restarts: list[float] = attrs.Factory(list)  # restart times (isolated children only)


class Supervisor:
    """A one_for_one supervisor over a nursery of children.

    Run it with ``await nursery.start(supervisor.run)``; ``children`` are started in order
    and stopped in reverse order. Dynamic children are added with :meth:`start_child`.
    """

    kind = "supervisor"

    def __init__(
        self,
        name: str,
        *,
        children: tuple[ChildSpec, ...] = (),
        intensity: int = 5,
        period: float = 60.0,
        backoff: Backoff = Backoff(),
        parent_path: str = "",
        rng: random.Random | None = None,
        top: bool = False,
        park: float = 30.0,
        adopt: Callable[[Supervisor], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.path = f"{parent_path}/{name}" if parent_path else name
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self._static = children
        self._rng = rng or random.Random()
        self._slots: dict[str, _Slot] = {}
        self._restarts: list[float] = []
        self._nursery: trio.Nursery | None = None
        self._stop = trio.Event()
        self._finished = trio.Event()
        self._failure: RestartIntensityExceeded | None = None
        self.top = top
        self.park = park
        self._adopt = adopt

    def __repr__(self) -> str:
        return f"<Supervisor {self.path} children={len(self._slots)}>"

    @property
    def children(self) -> dict[str, Any]:
        """Name → reference of every running child."""
        return {name: slot.ref for name, slot in self._slots.items()}

    async def run(
        self, *, task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run until :meth:`stop`; raises when restart intensity is exceeded."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for spec in self._static:
                    await self.start_child(spec)
                task_status.started(self)
                if self._adopt is not None:
                    nursery.start_soon(self._adopt, self)
                await self._stop.wait()
                if self._failure is None:
                    await self._stop_children()
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self._finished.set()
        if self._failure is not None:
            raise self._failure

    async def start_child(self, spec: ChildSpec) -> Any:
        """Start a child and return its reference once it is running.

        A failure of the *first* start is raised here; later crashes are restarted by policy.
        """
        if self._nursery is None or self._stop.is_set():
            raise ActorStopped(f"supervisor {self.path} is not running")
        ending = self._slots.get(spec.name)
        if ending is not None and _ending(ending):
            # The previous holder of the name is on its way out (its stopping hook runs):
            # a new incarnation starts once it is gone, never beside it.
            with trio.move_on_after(ending.spec.grace + STOPPING_HOOK_TIMEOUT):
                await ending.done.wait()
        if spec.name in self._slots:
            raise ValueError(f"{self.path} already has a child named {spec.name!r}")
        if self._nursery is None or self._stop.is_set():
            raise ActorStopped(f"supervisor {self.path} is not running")
        return await self._nursery.start(self._run_slot, spec)

    async def stop_child(self, name: str, reason: str = "stopped") -> None:
        """Stop one child gracefully; it is not restarted."""
        slot = self._slots.get(name)
        if slot is not None:
            await self._stop_slot(slot, reason)

    async def stop(self) -> None:
        """Stop every child (reverse start order), then the supervisor itself."""
        self._stop.set()

    async def wait_stopped(self) -> None:
        """Wait until :meth:`run` has returned (all children stopped)."""
        await self._finished.wait()

    async def _stop_children(self) -> None:
        for slot in reversed(list(self._slots.values())):
            await self._stop_slot(slot, "shutdown")

    async def _stop_slot(self, slot: _Slot, reason: str) -> None:
        slot.stop_requested = True
        if slot.sleeping:
            slot.scope.cancel()
        if slot.ctx is not None:
            slot.ctx.stop(reason)
        if slot.child_supervisor is not None:
            await slot.child_supervisor.stop()
        with trio.move_on_after(slot.spec.grace):
            await slot.done.wait()
        if not slot.done.is_set():
            slog.emit(
                slog.Event.KILL, slot.path, slot.kind, f"grace of {slot.spec.grace:g}s expired"
            )
            slot.scope.cancel()
            await slot.done.wait()

    # -- the slot: one child's life, across restarts --------------------------------------

    def _new_slot(self, spec: ChildSpec) -> _Slot:
        path = f"{self.path}/{spec.name}"
        first = spec.factory()
        if isinstance(first, Supervisor):
            return _Slot(spec, path, "supervisor", SupervisorRef(path), None, None, first=first)
        send, receive = open_mailbox(spec.mailbox_size)
        return _Slot(
            spec, path, first.kind, ActorRef(path, first.kind, send), send, receive, first=first
        )

    async def _run_slot(self, spec: ChildSpec, *, task_status: trio.TaskStatus[Any]) -> None:
        """One child's life across its incarnations: run, then restart, park or end."""
        slot = self._new_slot(spec)
        self._slots[spec.name] = slot
        life = _Life(task_status, slot.ref)
        try:
            while True:
                began = trio.current_time()
                if not await self._incarnate(slot, life):
                    return
                if not await self._before_restart(slot, life, began):
                    return
        finally:
            self._end(slot)

    async def _incarnate(self, slot: _Slot, life: _Life) -> bool:
        """Run one incarnation; True when the child is to be restarted."""
        exit_kind = _Exit.STOPPED
        try:
            with slot.scope:
                exit_kind = await self._incarnation(slot, life.ready)
        except Exception as exc:
            return self._crashed(slot, life, exc)
        return self._exited(slot, exit_kind)

    def _crashed(self, slot: _Slot, life: _Life, exc: Exception) -> bool:
        """Log a crash; a crash before the first start is raised to the starter."""
        # An exception group is kept whole (only trio's Cancelled members are dropped).
        error = without_cancelled(exc) or exc
        metrics.ACTOR_CRASHES.labels(slot.kind).inc()
        slot.exit_logged = True
        if not life.started:
            reason = f"failed to start: {slog.describe(error)}"
            slog.emit(slog.Event.CRASH, slot.path, slot.kind, reason, error=error)
            raise error from None
        slog.emit(
            slog.Event.CRASH,
            slot.path,
            slot.kind,
            slog.describe(error),
            error=error,
            restart_count=life.attempt,
        )
        return not (slot.stop_requested or slot.spec.restart is Restart.TEMPORARY)

    def _exited(self, slot: _Slot, exit_kind: _Exit) -> bool:
        """Log a normal end; only a permanent child is restarted after one."""
        slot.exit_logged = True
        if slot.stop_requested or slot.scope.cancelled_caught:
            slog.emit(slog.Event.STOP, slot.path, slot.kind, _reason(slot))
            return False
        if exit_kind is _Exit.PASSIVATED:
            idle = f"idle for {slot.spec.idle_timeout:g}s"
            slog.emit(slog.Event.PASSIVATE, slot.path, slot.kind, idle)
            return False
        slog.emit(slog.Event.STOP, slot.path, slot.kind, _reason(slot))
        return slot.spec.restart is Restart.PERMANENT

    async def _before_restart(self, slot: _Slot, life: _Life, began: float) -> bool:
        """Count the restart against the budget (an isolated child, or any child of the top,
        is parked instead of escalating), wait the backoff; False when it is not to happen."""
        now = trio.current_time()
        if now - began > self.period:
            life.attempt = 0
        life.attempt += 1
        verdict = self._count_restart(now, slot)
        if verdict is _Verdict.GIVE_UP:
            return False
        delay = self.backoff.delay(life.attempt, self._rng)
        if verdict is _Verdict.PARK:
            delay, life.attempt = self.park, 0
        slog.emit(
            slog.Event.RESTART,
            slot.path,
            slot.kind,
            f"restart {life.attempt} in {delay:.3f}s",
            restart_count=life.attempt,
            delay_s=round(delay, 6),
        )
        metrics.ACTOR_RESTARTS.labels(slot.kind).inc()
        slot.scope = trio.CancelScope()
        slot.sleeping = True
        with slot.scope:
            await trio.sleep(delay)
        slot.sleeping = False
        if slot.stop_requested:
            slog.emit(slog.Event.STOP, slot.path, slot.kind, _reason(slot))
            return False
        slot.scope = trio.CancelScope()
        slot.exit_logged = False
        return True

    def _end(self, slot: _Slot) -> None:
        """The slot ends for good: log it if nothing did, fail waiting askers, forget it."""
        if not slot.exit_logged:
            slog.emit(slog.Event.STOP, slot.path, slot.kind, "cancelled with its supervisor")
        if slot.receive is not None:
            # Drain before closing: a closed receive channel yields nothing, and an asker
            # left in it would wait for its whole timeout instead of trying a new incarnation.
            fail_pending(slot.receive, slot.path, slot.kind)
            slot.receive.close()
        self._detach(slot)
        slot.done.set()

    def _detach(self, slot: _Slot) -> None:
        """Forget a slot that will take no more messages (runs ``on_exit`` exactly once)."""
        if slot.detached:
            return
        slot.detached = True
        if self._slots.get(slot.spec.name) is slot:
            del self._slots[slot.spec.name]
        if slot.spec.on_exit is not None:
            slot.spec.on_exit()

    def _count_restart(self, now: float, slot: _Slot) -> _Verdict:
        """Record a restart against the child's budget (its own when isolated, else the
        supervisor's) and say what happens: restart, park, or give up (fail upward)."""
        budget = slot.restarts if slot.spec.isolated else self._restarts
        budget[:] = [t for t in budget if now - t <= self.period]
        budget.append(now)
        if len(budget) <= self.intensity:
            return _Verdict.RESTART
        if slot.spec.isolated or self.top:
            count = len(budget)
            budget.clear()
            where = "its own budget" if slot.spec.isolated else "the top's budget"
            slog.emit(
                slog.Event.ESCALATE,
                slot.path,
                slot.kind,
                f"exceeded {where} of {self.intensity} restarts in {self.period:g}s; "
                f"parked for {self.park:g}s, then restarted",
                restart_count=count,
                delay_s=self.park,
            )
            return _Verdict.PARK
        self._failure = RestartIntensityExceeded(self.path, len(self._restarts), self.period)
        slog.emit(
            slog.Event.ESCALATE,
            self.path,
            self.kind,
            f"{slot.path} exceeded {self.intensity} restarts in {self.period:g}s",
            error=self._failure,
        )
        self._stop.set()
        return _Verdict.GIVE_UP

    async def _incarnation(self, slot: _Slot, ready: Callable[[], None]) -> _Exit:
        child = slot.first if slot.first is not None else slot.spec.factory()
        slot.first = None
        if isinstance(child, Supervisor):
            return await self._run_supervisor_child(slot, child, ready)
        return await self._run_actor(slot, child, ready)

    async def _run_supervisor_child(
        self, slot: _Slot, child: Supervisor, ready: Callable[[], None]
    ) -> _Exit:
        child.path = slot.path
        ref: SupervisorRef = slot.ref
        slot.child_supervisor = child
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(child.run)
                ref._attach(child)
                slog.emit(slog.Event.START, slot.path, slot.kind, "started")
                metrics.ACTORS_ALIVE.labels(slot.kind).inc()
                ready()
        finally:
            if ref.current is child:
                metrics.ACTORS_ALIVE.labels(slot.kind).dec()
            ref._attach(None)
            slot.child_supervisor = None
        return _Exit.NORMAL

    async def _run_actor(self, slot: _Slot, actor: Actor[Any], ready: Callable[[], None]) -> _Exit:
        assert slot.receive is not None
        alive = False
        try:
            async with trio.open_nursery() as nursery:
                ctx: ActorContext[Any] = ActorContext(slot.path, slot.kind, slot.ref, nursery)
                slot.ctx = ctx
                if slot.stop_requested:
                    ctx.stop()
                await actor.started(ctx)
                alive = True
                metrics.ACTORS_ALIVE.labels(slot.kind).inc()
                slog.emit(slog.Event.START, slot.path, slot.kind, "started")
                ready()
                exit_kind = await self._message_loop(slot, actor, ctx)
                nursery.cancel_scope.cancel()
            return exit_kind
        finally:
            if alive:
                metrics.ACTORS_ALIVE.labels(slot.kind).dec()
            with trio.move_on_after(STOPPING_HOOK_TIMEOUT, shield=True):
                await actor.stopping()

    async def _message_loop(self, slot: _Slot, actor: Actor[Any], ctx: ActorContext[Any]) -> _Exit:
        receive = slot.receive
        assert receive is not None
        depth = metrics.MAILBOX_DEPTH.labels(slot.kind)
        if slot.spec.idle_timeout is not None:
            return await self._idle_loop(slot, actor, ctx, receive, depth, slot.spec.idle_timeout)
        # Without passivation one scope serves the whole incarnation; stop() cancels it only
        # while the actor waits for a message, so a message being handled always finishes.
        with trio.CancelScope() as scope:
            ctx._wait_scope = scope
            while not ctx.stop_requested:
                ctx._waiting = True
                envelope = await receive.receive()
                ctx._waiting = False
                depth.dec()
                if scope.cancel_called:
                    # stop() raced with the delivery: refuse it unhandled (safe to resend).
                    refuse(envelope, slot.path)
                    break
                await process(actor, envelope, slot.path)
        return _Exit.STOPPED if slot.stop_requested else _Exit.NORMAL

    async def _idle_loop(
        self,
        slot: _Slot,
        actor: Actor[Any],
        ctx: ActorContext[Any],
        receive: trio.MemoryReceiveChannel[Any],
        depth: Any,
        idle: float,
    ) -> _Exit:
        while not ctx.stop_requested:
            with trio.CancelScope(deadline=trio.current_time() + idle) as wait_scope:
                ctx._wait_scope = wait_scope
                ctx._waiting = True
                envelope = await receive.receive()
            ctx._waiting = False
            if wait_scope.cancelled_caught:
                if ctx.stop_requested:
                    break
                if receive.statistics().current_buffer_used:
                    continue
                # Idle with an empty mailbox: close it before any checkpoint so that no
                # message can slip in; senders now get ActorStopped and respawn via a registry.
                receive.close()
                self._detach(slot)
                return _Exit.PASSIVATED
            depth.dec()
            await process(actor, envelope, slot.path)
        return _Exit.STOPPED if slot.stop_requested else _Exit.NORMAL


def _ending(slot: _Slot) -> bool:
    """Whether a child is stopping for good (asked to, or asked itself to)."""
    if slot.stop_requested or slot.done.is_set():
        return True
    return slot.ctx is not None and slot.ctx.stop_requested


def _reason(slot: _Slot) -> str:
    if slot.ctx is not None and slot.ctx.stop_requested:
        return slot.ctx.stop_reason
    return "stopped" if slot.stop_requested else "exited normally"
