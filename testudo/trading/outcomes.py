"""What creating a trade comes to, in the domain's words (no HTTP status, no headers).

The user's trader answers ``POST /trades`` with one of these: :class:`Created` (the group, its
entry acknowledged), :class:`AwaitingReconciliation` (the group is recorded but its actor is
being restarted, so the exchange's word on the entry is not known yet) or a
:class:`~testudo.problems.Problem`. Only ``api/`` turns an outcome into an HTTP answer.

An outcome is kept with its idempotency key so a duplicate gets the same answer:
:func:`outcome_json` and :func:`outcome_of` are its stored form and back.
"""

from __future__ import annotations

from typing import Any

import attrs

from testudo.problems import Problem


@attrs.frozen
class Created:
    """The group was opened: its description (with the decision), entry acknowledged."""

    group: dict[str, Any]


@attrs.frozen
class AwaitingReconciliation:
    """The group is recorded but its actor is restarting; it will reconcile with the exchange.

    ``decision`` holds the members the answer carries besides the group's id and status
    (``decision``, ``decision_id``, ``warnings``).
    """

    group_id: str
    decision: dict[str, Any] = attrs.field(factory=dict)

    def body(self) -> dict[str, Any]:
        """The group as it can be described now."""
        return {"id": self.group_id, "status": "awaiting_reconciliation", **self.decision}


TradeOutcome = Created | AwaitingReconciliation | Problem


def outcome_json(outcome: TradeOutcome) -> dict[str, Any]:
    """The stored form of ``outcome`` (a JSON object tagged by ``outcome``)."""
    if isinstance(outcome, Created):
        return {"outcome": "created", "group": outcome.group}
    if isinstance(outcome, AwaitingReconciliation):
        return {
            "outcome": "awaiting_reconciliation",
            "group_id": outcome.group_id,
            "decision": outcome.decision,
        }
    return {
        "outcome": "problem",
        "error": outcome.error,
        "detail": outcome.detail,
        "extra": dict(outcome.extra),
        "retry_after": outcome.retry_after,
        "malformed": outcome.malformed,
    }


def outcome_of(stored: dict[str, Any]) -> TradeOutcome:
    """The outcome a stored form (:func:`outcome_json`) was made from."""
    kind = stored["outcome"]
    if kind == "created":
        return Created(dict(stored["group"]))
    if kind == "awaiting_reconciliation":
        return AwaitingReconciliation(stored["group_id"], dict(stored["decision"]))
    if kind != "problem":
        raise ValueError(f"unknown stored outcome {kind!r}")
    return Problem(
        stored["error"],
        stored["detail"],
        dict(stored.get("extra") or {}),
        retry_after=stored.get("retry_after"),
        malformed=bool(stored.get("malformed")),
    )
