"""Testudo's actor runtime on trio: actors with bounded mailboxes, supervisors, a registry.

See ``docs/architecture.md`` for the model and ``docs/operations.md`` for the supervision log.
"""

from .actor import Actor, ActorContext, ActorRef
from .errors import (
    ActorCrashed,
    ActorError,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    RestartIntensityExceeded,
)
from .registry import Registry
from .supervisor import Backoff, ChildSpec, Restart, Supervisor, SupervisorRef

__all__ = [
    "Actor",
    "ActorContext",
    "ActorCrashed",
    "ActorError",
    "ActorInterrupted",
    "ActorRef",
    "ActorStopped",
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
