"""Testudo's actor runtime on trio: actors with bounded mailboxes, supervisors, a registry.

See ``docs/architecture.md`` for the model and ``docs/operations.md`` for the supervision log.
"""

from actors.runtime.actor import Actor, ActorContext, ActorRef, Ask
from actors.runtime.errors import (
    ActorCrashed,
    ActorError,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    RestartIntensityExceeded,
)
from actors.runtime.registry import Registry
from actors.runtime.supervisor import Backoff, ChildSpec, Restart, Supervisor, SupervisorRef

__all__ = [
    "Actor",
    "ActorContext",
    "ActorCrashed",
    "ActorError",
    "ActorInterrupted",
    "ActorRef",
    "ActorStopped",
    "Ask",
    "AskTimeout",
    "Backoff",
    "ChildSpec",
    "MailboxFull",
    "Registry",
    "Restart",
    "RestartIntensityExceeded",
    "Supervisor",
    "SupervisorRef",
]
