"""Errors raised by the actor runtime to the code that talks to actors.

Domain failures (an order rejected, a risk check failed) are *values* in replies, never these.
These exceptions describe the plumbing: the actor could not be reached, did not answer in time,
or crashed while handling the request.
"""

from __future__ import annotations

from collections.abc import Iterator

import trio


class ActorError(Exception):
    """Base class of every runtime error an actor reference can raise."""


class MailboxFull(ActorError):
    """``send_nowait`` found the actor's bounded mailbox full (backpressure)."""


class ActorStopped(ActorError):
    """The actor is not running (stopped, passivated, or its supervisor gave up)."""


class ActorInterrupted(ActorError):
    """The actor was cancelled (killed after its stop grace) while handling this request.

    Unlike :class:`ActorStopped`, the request may have had partial effects: do not resend it
    blindly.
    """


class AskTimeout(ActorError):
    """No reply arrived within the ``ask`` timeout. The request may still be processed."""


class ActorCrashed(ActorError):
    """The actor raised while handling this request; it is being restarted by its supervisor.

    ``error_type`` and ``error`` describe the original exception without carrying it across
    the boundary (the caller must not depend on the actor's internals).
    """

    def __init__(self, path: str, error_type: str, error: str) -> None:
        super().__init__(f"actor {path} crashed handling the request: {error_type}: {error}")
        self.path = path
        self.error_type = error_type
        self.error = error


class RestartIntensityExceeded(ActorError):
    """A child restarted more often than its supervisor allows; the supervisor fails upward."""

    def __init__(self, path: str, restarts: int, period: float) -> None:
        super().__init__(f"{path} restarted {restarts} times within {period:g}s; giving up")
        self.path = path
        self.restarts = restarts
        self.period = period


def without_cancelled(error: BaseException) -> BaseException | None:
    """``error`` minus trio's ``Cancelled`` members (which say only that a scope unwound), the
    structure of exception groups kept; None when nothing else is left. A group left with one
    member in all is that member (trio's strict nurseries wrap even a single error)."""
    if isinstance(error, trio.Cancelled):
        return None
    if not isinstance(error, BaseExceptionGroup):
        return error
    rest = error.subgroup(lambda e: not isinstance(e, trio.Cancelled))
    if rest is None:
        return None
    leaves = list(_leaves(rest))
    return leaves[0] if len(leaves) == 1 else rest


def describe_error(error: BaseException) -> tuple[str, str]:
    """The type and message of an error for a log line or an asker, an exception group with
    every member (``"ExceptionGroup", "2 errors: ValueError: a; KeyError: 'b'"``)."""
    if not isinstance(error, BaseExceptionGroup):
        return type(error).__name__, str(error)
    leaves = list(_leaves(error))
    parts = "; ".join(_one_line(leaf) for leaf in leaves)
    return type(error).__name__, f"{error.message} ({len(leaves)} errors: {parts})"


def _one_line(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for member in error.exceptions:
            yield from _leaves(member)
    else:
        yield error
