"""Problems: the one shape of an expected failure (a machine code, a detail, extra members).

Services and actors return or raise a :class:`Problem` for a failure the caller must see (a
refused stop change, a missing group, an exchange that refused an order, a sign-in that does not
verify). A problem says *what* went wrong in the domain's words; it carries no HTTP status. Only
the API package maps a code to a status (one table, ``api/problems.py``) and renders
``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class Problem(Exception):
    """An expected failure, never a crash.

    ``error`` is the stable machine code (the ``error`` member of the answer), ``detail`` the
    human sentence, ``extra`` more members of the answer (``errors``, ``decision``...).
    ``retry_after`` says when trying again makes sense (seconds). ``malformed`` marks a request
    whose *shape* is wrong, as opposed to one that was understood and refused (the same code,
    ``invalid_signature``, can be either).
    """

    error: str
    detail: str
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    retry_after: int | None = None
    malformed: bool = False

    def __str__(self) -> str:
        return f"{self.error}: {self.detail}"


def problem(
    error: str,
    detail: str,
    *,
    retry_after: int | None = None,
    malformed: bool = False,
    **extra: Any,
) -> Problem:
    """A :class:`Problem` with its extra members as keywords."""
    return Problem(error, detail, extra, retry_after=retry_after, malformed=malformed)


def malformed(error: str, detail: str, **extra: Any) -> Problem:
    """A :class:`Problem` with a request whose shape is wrong (not understood, not refused)."""
    return Problem(error, detail, extra, malformed=True)
