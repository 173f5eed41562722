"""Problems: expected failures with an HTTP status and a machine code (RFC 9457 bodies).

Domain services raise :class:`ApiError` for failures the caller must see as a 4xx (a refused
stop change, a missing group); the API layer renders it as ``application/problem+json``. It
lives here, below the API package, so actors and services never import the web layer.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

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
