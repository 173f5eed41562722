"""RFC 9457 problem details: the one error shape of the whole API.

Every error response is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and a machine-readable ``error`` code, plus extension members where useful
(``errors`` for validation failures, ``request_id`` always). Handlers raise :class:`ApiError`;
the app's error handlers turn it, and every other exception, into a problem response.
"""

from __future__ import annotations

from typing import Any

from quart import Response, json

from testudo.problems import PROBLEM_JSON, TYPE_BASE, ApiError, problem_body

__all__ = ["PROBLEM_JSON", "TYPE_BASE", "ApiError", "problem_body", "problem_response"]


def problem_response(
    status: int,
    error: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A ready ``application/problem+json`` response."""
    response = Response(
        json.dumps(problem_body(status, error, detail, **extra)),
        status=status,
        content_type=PROBLEM_JSON,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
