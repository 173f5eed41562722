"""The supervision log: one JSON line per actor lifecycle event, on stderr.

This is a product feature for operators (see ``docs/operations.md``): every start, normal stop,
crash, restart, passivation and escalation is exactly one line with a stable shape::

    {"ts": "2026-11-24T23:41:02.123456Z", "kind": "supervision", "event": "crash",
     "actor": "root/exchanges/acct-42", "actor_kind": "exchange_account",
     "reason": "ConnectionError: reset by peer", "error_type": "ConnectionError",
     "error": "reset by peer", "restart_count": 1}

Fields beyond ``ts``, ``kind``, ``event``, ``actor``, ``actor_kind`` and ``reason`` appear only
when they apply. The lines go through the ``testudo.supervision`` logger so tests can capture
them and deployments can reroute them; :func:`testudo.logs.configure` renders them as JSON.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from actors.runtime.errors import describe_error

LOGGER_NAME = "testudo.supervision"
_log = logging.getLogger(LOGGER_NAME)


class Event(enum.StrEnum):
    """The lifecycle events an operator can see."""

    START = "start"
    STOP = "stop"
    CRASH = "crash"
    RESTART = "restart"
    PASSIVATE = "passivate"
    ESCALATE = "escalate"
    KILL = "kill"
    LEASE_GAINED = "lease_gained"
    LEASE_LOST = "lease_lost"


def emit(
    event: Event,
    path: str,
    kind: str,
    reason: str,
    *,
    error: BaseException | None = None,
    **fields: Any,
) -> None:
    """Write one supervision line. ``fields`` are extra JSON members (counts, delays)."""
    record: dict[str, Any] = {
        "kind": "supervision",
        "event": str(event),
        "actor": path,
        "actor_kind": kind,
        "reason": reason,
    }
    if error is not None:
        record["error_type"], record["error"] = describe_error(error)
    record.update(fields)
    level = logging.ERROR if event in (Event.CRASH, Event.ESCALATE) else logging.INFO
    _log.log(level, "%s %s", event, path, extra={"json_fields": record})


def describe(error: BaseException) -> str:
    """A one-line reason for a crash: ``Type: message`` (an exception group with every
    member)."""
    error_type, message = describe_error(error)
    return f"{error_type}: {message}" if message else error_type
