"""Actors, their references, their mailboxes and the typed protocol they speak.

An :class:`Actor` is a trio task that owns private state and handles one message at a time from
a bounded mailbox (a trio memory channel). Nothing else touches its state: other code holds an
:class:`ActorRef` and can

* ``await ref.send(msg)``: enqueue, waiting while the mailbox is full (backpressure);
* ``ref.send_nowait(msg)``: enqueue or raise :class:`~actors.runtime.errors.MailboxFull` at once;
* ``await ref.ask(msg, timeout=...)``: enqueue and wait for the reply, which is whatever
  :meth:`Actor.handle` returned (domain errors are values too). A crash while handling the
  request raises :class:`~actors.runtime.errors.ActorCrashed` in the asker.

The protocol is typed. An actor declares the union of the messages it takes
(``class TraderActor(Actor[TraderMessage])``), so ``send`` of anything else is a type error. A
message that is answered derives from :class:`Ask` with its reply's type
(``class Snapshot(Ask[AccountSnapshot | ExchangeFailure])``): ``ask`` returns exactly that type,
and the handler returns ``message.reply(value)``, which the type checker holds to it.

The reply travels as an :mod:`outcome` (a value, or the error the asker is to raise) and wakes
the asker directly (``trio.lowlevel.reschedule``): no event, no queue per request.

The mailbox belongs to the supervisor's child slot, not to one incarnation of the actor, so a
reference stays valid across restarts: messages sent while the actor restarts wait in the mailbox.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Generic, NamedTuple, NoReturn, TypeVar

import attrs
import outcome
import trio

from actors.runtime import metrics
from actors.runtime.errors import (
    ActorCrashed,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    describe_error,
    without_cancelled,
)

M = TypeVar("M")
R = TypeVar("R")

DEFAULT_ASK_TIMEOUT = 10.0


class Ask(Generic[R]):
    """Base of every message answered by ``ask``; ``R`` is the type of its reply.

    Derive the (attrs) message from ``Ask[R]``; its handler answers ``message.reply(value)``.
    """

    __slots__ = ()

    def reply(self, value: R) -> R:
        """``value``, checked by the type checker to be this message's reply type."""
        return value


class ReplySlot(Generic[R]):
    """Where the answer to one ``ask`` goes: the first :class:`outcome.Outcome` settled wins
    and is handed to the waiting asker (or kept until it waits)."""

    __slots__ = ("_asker", "_result")

    def __init__(self) -> None:
        self._asker: trio.lowlevel.Task | None = None
        self._result: outcome.Outcome[R] | None = None

    def settle(self, result: outcome.Outcome[R]) -> None:
        if self._result is not None:
            return
        self._result = result
        asker = self._asker
        if asker is not None:
            self._asker = None
            trio.lowlevel.reschedule(asker, result)

    async def wait(self) -> R:
        """The reply's value, or raise its error (cancellable: then the reply is dropped)."""
        result = self._result
        if result is None:
            self._asker = trio.lowlevel.current_task()
            value: R = await trio.lowlevel.wait_task_rescheduled(self._abort)
            return value
        await trio.lowlevel.checkpoint()
        return result.unwrap()

    def _abort(self, _: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
        self._asker = None
        return trio.lowlevel.Abort.SUCCEEDED


class Envelope(NamedTuple, Generic[M]):
    """A message in a mailbox, with the reply slot when it was sent by ``ask``.

    A named tuple rather than an attrs class: it is built on every send, on the hot path.
    """

    message: M
    reply: ReplySlot[Any] | None = None


class ActorRef(Generic[M]):
    """The only handle other code gets on an actor: send, send_nowait, ask."""

    __slots__ = ("_depth", "_latency", "_send", "kind", "path")

    def __init__(self, path: str, kind: str, send: trio.MemorySendChannel[Envelope[Any]]) -> None:
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

    async def ask(self, message: Ask[R], *, timeout: float = DEFAULT_ASK_TIMEOUT) -> R:
        """Send ``message`` and return the actor's reply (of the message's reply type).

        The timeout covers waiting for mailbox space and for the reply. On timeout the
        request may still be processed later; its reply is then discarded.
        """
        reply: ReplySlot[R] = ReplySlot()
        started = trio.current_time()
        # The mailbox holds envelopes of any message: ``send`` is where ``M`` is checked, an
        # ``Ask[R]`` says only what the reply is.
        envelope = Envelope(message, reply)
        # A bare CancelScope (not fail_after) keeps the hot path cheap.
        with trio.CancelScope(deadline=started + timeout) as scope:
            try:
                await self._send.send(envelope)
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
class ActorContext(Generic[M]):
    """What a running actor knows about its place in the system.

    ``nursery`` is owned by the actor's current incarnation: tasks started there (timers,
    pollers) are cancelled when the actor stops, and their crash crashes the actor. ``ref`` is
    the actor's own reference (to send itself messages).
    """

    path: str
    kind: str
    ref: ActorRef[M]
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
    """Base class of all actors; ``M`` is the union of the messages it takes.

    Subclasses implement :meth:`handle`. ``kind`` names the class of actor in logs and metrics
    (``"session"``, ``"trade_group"``).
    """

    kind: ClassVar[str] = "actor"

    async def started(self, ctx: ActorContext[M]) -> None:
        """Called once per incarnation before the first message (load state here)."""

    async def handle(self, message: M) -> object:
        """Handle one message; the return value is the reply to ``ask``
        (``message.reply(value)`` for an :class:`Ask`)."""
        self.unhandled(message)

    def unhandled(self, message: object) -> NoReturn:
        """A message outside the actor's protocol: a crash (a bug in the sender)."""
        raise TypeError(f"{type(self).__name__} does not handle {type(message).__name__}")

    async def stopping(self) -> None:
        """Called when the incarnation ends for any reason; shielded, with a time limit."""


def open_mailbox(size: int) -> tuple[trio.MemorySendChannel[Any], trio.MemoryReceiveChannel[Any]]:
    """A bounded mailbox. ``size`` 0 means rendezvous; ``math.inf`` is refused (unbounded)."""
    if size == math.inf or size < 0:
        raise ValueError("mailboxes are bounded: size must be a finite number >= 0")
    return trio.open_memory_channel[Envelope[Any]](size)


def refuse(envelope: Envelope[Any], path: str) -> None:
    """Answer an ask that will never be handled: the actor stopped first (safe to resend)."""
    if envelope.reply is not None:
        stopped = ActorStopped(f"actor {path} stopped before handling the request")
        envelope.reply.settle(outcome.Error(stopped))


def fail_pending(receive: trio.MemoryReceiveChannel[Envelope[Any]], path: str, kind: str) -> None:
    """Drain a closing mailbox, telling every waiting asker that the actor stopped."""
    while True:
        try:
            envelope = receive.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            return
        metrics.MAILBOX_DEPTH.labels(kind).dec()
        refuse(envelope, path)


async def process(actor: Actor[Any], envelope: Envelope[Any], path: str) -> None:
    """Handle one envelope, routing the result or the crash to its reply slot.

    A crash reaches the asker as :class:`ActorCrashed` describing the whole error (every
    member of an exception group); the error itself goes on to the supervisor.
    """
    try:
        result = await actor.handle(envelope.message)
    except Exception as exc:
        if envelope.reply is not None:
            error_type, error = describe_error(without_cancelled(exc) or exc)
            envelope.reply.settle(outcome.Error(ActorCrashed(path, error_type, error)))
        raise
    except BaseException:
        if envelope.reply is not None:
            interrupted = ActorInterrupted(f"actor {path} was cancelled handling the request")
            envelope.reply.settle(outcome.Error(interrupted))
        raise
    if envelope.reply is not None:
        envelope.reply.settle(outcome.Value(result))
