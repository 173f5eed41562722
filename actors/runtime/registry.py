"""The registry: find an actor by key, spawning it on demand, at most one per key per process.

Keys are tuples such as ``("trade_group", group_id)``. :meth:`Registry.ensure` returns the
running actor for a key or starts one under the given supervisor; concurrent callers for the
same key wait for the one start in progress instead of starting a second actor. When the actor
ends for good (stopped, passivated, given up on) its entry disappears, and the next
:meth:`ask` spawns it again, rehydrating from the database in its ``started`` hook.

Every actor the registry starts belongs to one user (a session, an account, a trader, a trade
group), so it is an *isolated* child: it has its own restart budget and is parked, never
escalated, when it exceeds it (``docs/architecture.md``, "Tenant isolation"). A key may also
name a per-user supervisor (:meth:`ensure_supervisor`), under which that user's actors live.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import trio

from actors.runtime.actor import DEFAULT_ASK_TIMEOUT, Actor, ActorRef, Ask
from actors.runtime.errors import ActorStopped
from actors.runtime.supervisor import ChildSpec, Restart, Supervisor, SupervisorRef

M = TypeVar("M")
R = TypeVar("R")

SupervisorFactory = Callable[[], Supervisor]


class Registry:
    """Key → running actor, for one process."""

    def __init__(self) -> None:
        self._refs: dict[Hashable, Any] = {}  # ActorRef, or SupervisorRef for a subtree
        self._starting: dict[Hashable, trio.Event] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def lookup(self, key: Hashable) -> ActorRef[Any] | None:
        """The running actor for ``key``, or None."""
        return self._refs.get(key)

    def running(self) -> list[Hashable]:
        """Every key with a running actor, now (a copy)."""
        return list(self._refs)

    async def ensure(
        self,
        key: Hashable,
        supervisor: Supervisor | SupervisorRef,
        factory: Callable[[], Actor[M]],
        *,
        name: str | None = None,
        restart: Restart = Restart.TRANSIENT,
        idle_timeout: float | None = None,
        mailbox_size: int = 64,
    ) -> ActorRef[M]:
        """Return the actor for ``key``, starting it under ``supervisor`` if needed (the key
        names one kind of actor: ``factory`` builds that kind)."""
        ref: ActorRef[M] = await self._ensure(
            key, supervisor, factory, name, restart, idle_timeout, mailbox_size
        )
        return ref

    async def ensure_supervisor(
        self,
        key: Hashable,
        supervisor: Supervisor | SupervisorRef,
        factory: SupervisorFactory,
        *,
        name: str | None = None,
    ) -> SupervisorRef:
        """Return the (permanent, isolated) subtree for ``key``, starting it if needed."""
        ref: SupervisorRef = await self._ensure(
            key, supervisor, factory, name, Restart.PERMANENT, None, 0
        )
        return ref

    async def _ensure(
        self,
        key: Hashable,
        supervisor: Supervisor | SupervisorRef,
        factory: Callable[[], Actor[Any] | Supervisor],
        name: str | None,
        restart: Restart,
        idle_timeout: float | None,
        mailbox_size: int,
    ) -> Any:
        while True:
            existing = self._refs.get(key)
            if existing is not None:
                return existing
            pending = self._starting.get(key)
            if pending is None:
                break
            await pending.wait()
        started = trio.Event()
        self._starting[key] = started
        try:
            spec = ChildSpec(
                name=name or _name_for(key),
                factory=factory,
                restart=restart,
                idle_timeout=idle_timeout,
                mailbox_size=mailbox_size,
                on_exit=lambda: self._forget(key),
                isolated=True,
            )
            ref = await supervisor.start_child(spec)
            self._refs[key] = ref
            return ref
        finally:
            del self._starting[key]
            started.set()

    async def ask(
        self,
        key: Hashable,
        supervisor: Supervisor | SupervisorRef,
        factory: Callable[[], Actor[M]],
        message: Ask[R],
        *,
        timeout: float = DEFAULT_ASK_TIMEOUT,
        idle_timeout: float | None = None,
    ) -> R:
        """Ask the actor for ``key``, (re)spawning it if it is not running.

        An actor that passivates between lookup and delivery refuses the message with
        :class:`ActorStopped`; the message is then delivered to a fresh incarnation.
        """
        for attempt in range(3):
            ref = await self.ensure(key, supervisor, factory, idle_timeout=idle_timeout)
            try:
                return await ref.ask(message, timeout=timeout)
            except ActorStopped:
                if self._refs.get(key) is ref:
                    self._forget(key)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _forget(self, key: Hashable) -> None:
        self._refs.pop(key, None)


def _name_for(key: Hashable) -> str:
    if isinstance(key, tuple):
        return "-".join(str(part) for part in key)
    return str(key)
