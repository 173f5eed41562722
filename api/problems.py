"""RFC 9457 problem details: the one error shape of the whole API.

Every error response is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and a machine-readable ``error`` code, plus extension members where useful
(``errors`` for validation failures, ``request_id`` always). Handlers raise :class:`ApiError`;
the app's error handlers turn it, and every other exception, into a problem response.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from quart import Response, json

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://testudo.dev/problems/"


class ApiError(Exception):
    """An expected failure with its HTTP status and machine code (never a 500)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, error: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON members of a problem response."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "error": error,
    }
    body.update(extra)
    return body


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
