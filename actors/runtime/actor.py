"""Actors, their references and their mailboxes.

An :class:`Actor` is a trio task that owns private state and handles one message at a time from
a bounded mailbox (a trio memory channel). Nothing else touches its state: other code holds an
:class:`ActorRef` and can

* ``await ref.send(msg)``: enqueue, waiting while the mailbox is full (backpressure);
* ``ref.send_nowait(msg)``: enqueue or raise :class:`~actors.runtime.errors.MailboxFull` at once;
* ``await ref.ask(msg, timeout=...)``: enqueue and wait for the reply, which is whatever
  :meth:`Actor.handle` returned (domain errors are values too). A crash while handling the
  request raises :class:`~actors.runtime.errors.ActorCrashed` in the asker.

The mailbox belongs to the supervisor's child slot, not to one incarnation of the actor, so a
reference stays valid across restarts: messages sent while the actor restarts wait in the mailbox.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import attrs
import trio

from actors.runtime import metrics
from actors.runtime.errors import (
    ActorCrashed,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
    MailboxFull,
)

M = TypeVar("M")
R = TypeVar("R")

DEFAULT_ASK_TIMEOUT = 10.0


class Reply:
    """A one-shot slot the actor fills with the answer to an ``ask``."""

    __slots__ = ("_error", "_event", "_value")

    def __init__(self) -> None:
        self._event = trio.Event()
        self._value: object = None
        self._error: BaseException | None = None

    def set(self, value: object) -> None:
        if not self._event.is_set():
            self._value = value
            self._event.set()

    def fail(self, error: BaseException) -> None:
        if not self._event.is_set():
            self._error = error
            self._event.set()

    async def wait(self) -> object:
        await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value


class Envelope(NamedTuple, Generic[M]):
    """A message in a mailbox, with the reply slot when it was sent by ``ask``.

    A named tuple rather than an attrs class: it is built on every send, on the hot path.
    """

    message: M
    reply: Reply | None = None


class ActorRef(Generic[M]):
    """The only handle other code gets on an actor: send, send_nowait, ask."""

    __slots__ = ("_depth", "_latency", "_send", "kind", "path")

    def __init__(self, path: str, kind: str, send: trio.MemorySendChannel[Envelope[M]]) -> None:
        self.path = path
        self.kind = kind
        self._send = send
        self._depth = metrics.MAILBOX_DEPTH.labels(kind)
        self._latency = metrics.ASK_LATENCY.labels(kind)

    def __repr__(self) -> str:
        return f"<ActorRef {self.path}>"

    async def send(self, message: M) -> None:
        """Enqueue ``message``, waiting while the mailbox is full."""
        try:
            await self._send.send(Envelope(message))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ActorStopped(f"actor {self.path} is not running") from None
        self._depth.inc()

    def send_nowait(self, message: M) -> None:
        """Enqueue ``message`` or raise :class:`MailboxFull` without waiting."""
        try:
            self._send.send_nowait(Envelope(message))
        except trio.WouldBlock:
            raise MailboxFull(f"mailbox of {self.path} is full") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ActorStopped(f"actor {self.path} is not running") from None
        self._depth.inc()

    async def ask(self, message: M, *, timeout: float = DEFAULT_ASK_TIMEOUT) -> Any:
        """Send ``message`` and return the actor's reply.

        The timeout covers waiting for mailbox space and for the reply. On timeout the
        request may still be processed later; its reply is then discarded.
        """
        reply = Reply()
        started = trio.current_time()
        # A bare CancelScope (not fail_after) keeps the hot path cheap.
        with trio.CancelScope(deadline=started + timeout) as scope:
            try:
                await self._send.send(Envelope(message, reply))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                raise ActorStopped(f"actor {self.path} is not running") from None
            self._depth.inc()
            result = await reply.wait()
        if scope.cancelled_caught:
            raise AskTimeout(f"{self.path} did not reply within {timeout:g}s")
        self._latency.observe(trio.current_time() - started)
        return result

    def statistics(self) -> trio.MemoryChannelStatistics:
        """The mailbox's statistics (buffer used, senders waiting...)."""
        return self._send.statistics()


@attrs.define(eq=False)
class ActorContext:
    """What a running actor knows about its place in the system.

    ``nursery`` is owned by the actor's current incarnation: tasks started there (timers,
    pollers) are cancelled when the actor stops, and their crash crashes the actor.
    """

    path: str
    kind: str
    ref: ActorRef[Any]
    nursery: trio.Nursery
    stop_requested: bool = False
    stop_reason: str = "stopped"
    _wait_scope: trio.CancelScope | None = None
    _waiting: bool = False

    def stop(self, reason: str = "stopped") -> None:
        """Ask this actor to stop after the current message (normal exit, no restart)."""
        self.stop_requested = True
        self.stop_reason = reason
        if self._waiting and self._wait_scope is not None:
            self._wait_scope.cancel()


class Actor(Generic[M]):
    """Base class of all actors. Subclasses implement :meth:`handle`.

    ``kind`` names the class of actor in logs and metrics (``"session"``, ``"trade_group"``).
    """

    kind: ClassVar[str] = "actor"

    async def started(self, ctx: ActorContext) -> None:
        """Called once per incarnation before the first message (load state here)."""

    async def handle(self, message: M) -> Any:
        """Handle one message; the return value is the reply to ``ask``."""
        raise TypeError(f"{type(self).__name__} does not handle {type(message).__name__}")

    async def stopping(self) -> None:
        """Called when the incarnation ends for any reason; shielded, with a time limit."""


def open_mailbox(size: int) -> tuple[trio.MemorySendChannel[Any], trio.MemoryReceiveChannel[Any]]:
    """A bounded mailbox. ``size`` 0 means rendezvous; ``math.inf`` is refused (unbounded)."""
    if size == math.inf or size < 0:
        raise ValueError("mailboxes are bounded: size must be a finite number >= 0")
    return trio.open_memory_channel[Envelope[Any]](size)


def fail_pending(receive: trio.MemoryReceiveChannel[Envelope[Any]], path: str, kind: str) -> None:
    """Drain a closing mailbox, telling every waiting asker that the actor stopped."""
    while True:
        try:
            envelope = receive.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            return
        metrics.MAILBOX_DEPTH.labels(kind).dec()
        if envelope.reply is not None:
            envelope.reply.fail(ActorStopped(f"actor {path} stopped before handling the request"))


async def process(actor: Actor[Any], envelope: Envelope[Any], path: str) -> None:
    """Handle one envelope, routing the result or the crash to its reply slot."""
    try:
        result = await actor.handle(envelope.message)
    except Exception as exc:
        if envelope.reply is not None:
            envelope.reply.fail(ActorCrashed(path, type(exc).__name__, str(exc)))
        raise
    except BaseException:
        if envelope.reply is not None:
            envelope.reply.fail(
                ActorInterrupted(f"actor {path} was cancelled handling the request")
            )
        raise
    if envelope.reply is not None:
        envelope.reply.set(result)
