"""Error handlers: every failure becomes ``application/problem+json``, never HTML, never a trace.

* a :class:`~testudo.problems.Problem` → its code, the status :data:`~api.problems.STATUS`
  gives it, ``Retry-After`` when it says when (an :class:`~api.problems.EdgeAnswer` adds its
  headers);
* request-body schema failures (quart-schema) → 422 ``validation_error`` with ``errors``;
* malformed JSON → 400 ``invalid_json``;
* any other HTTP exception (404, 405, 413, ...) → its status with a stable code;
* anything else → 500 ``internal_error``, logged with the request id, no details leaked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from actors.runtime.errors import ActorCrashed, ActorError

from .middleware import current_request_id
from .problems import STATUS, EdgeAnswer, Problem, problem_response, status_of

log = logging.getLogger("testudo.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def validation_errors(error: Exception) -> list[dict[str, Any]]:
    """Field-level messages from a pydantic (or other) validation error."""
    if isinstance(error, ValidationError):
        out = []
        for item in error.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in item.get("loc", ())) or "body"
            out.append({"field": field, "message": item.get("msg", "invalid")})
        return out
    return [{"field": "body", "message": str(error) or "invalid body"}]


def render(found: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """The problem+json response of a :class:`Problem` (with the request id)."""
    extra = dict(headers or {})
    if found.retry_after is not None:
        extra["Retry-After"] = str(found.retry_after)
    return problem_response(
        status_of(found),
        found.error,
        found.detail,
        headers=extra,
        request_id=current_request_id(),
        **found.extra,
    )


def install(app: Quart) -> None:
    """Register the problem+json handlers on ``app``."""
    app.register_error_handler(Problem, _problem)
    app.register_error_handler(EdgeAnswer, _edge_answer)
    app.register_error_handler(ActorError, _actor_error)
    app.register_error_handler(RequestSchemaValidationError, _schema_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


async def _problem(found: Problem) -> Response:
    return render(found)


async def _edge_answer(answer: EdgeAnswer) -> Response:
    return render(answer.problem, answer.headers)


async def _actor_error(error: ActorError) -> Response:
    """An actor that could not answer: busy or restarting is 503 (retry shortly); a crash is
    our bug, 500 (logged with the request id)."""
    if isinstance(error, ActorCrashed):
        log.error(
            "actor crashed serving a request",
            extra={"json_fields": {"event": "actor_crashed", "error": str(error)}},
        )
        return problem_response(
            STATUS["internal_error"],
            "internal_error",
            "An internal error occurred.",
            request_id=current_request_id(),
        )
    return problem_response(
        STATUS["temporarily_unavailable"],
        "temporarily_unavailable",
        "The service is restarting or busy; retry shortly.",
        headers={"Retry-After": "1"},
        request_id=current_request_id(),
    )


async def _schema_error(error: RequestSchemaValidationError) -> Response:
    cause = error.validation_error
    if _is_json_decode_error(cause):
        return problem_response(
            STATUS["invalid_json"],
            "invalid_json",
            "The request body is not valid JSON.",
            request_id=current_request_id(),
        )
    return problem_response(
        STATUS["validation_error"],
        "validation_error",
        "The request body does not match the schema.",
        errors=validation_errors(cause),
        request_id=current_request_id(),
    )


async def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_CODES.get(status, "http_error")
    detail = error.description or code.replace("_", " ")
    headers = {}
    if status == 413:
        # The unread body is still on the wire: end the connection so it cannot stall the
        # next request on this keep-alive connection.
        headers["Connection"] = "close"
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    if status == 400 and type(error).__name__ == "InvalidJson":
        code = "invalid_json"
    return problem_response(status, code, detail, headers=headers, request_id=current_request_id())


async def _unexpected(error: Exception) -> Response:
    log.error(
        "unhandled error",
        exc_info=error,
        extra={
            "json_fields": {
                "event": "unhandled_error",
                "request_id": current_request_id(),
                "error_type": type(error).__name__,
            }
        },
    )
    return problem_response(
        STATUS["internal_error"],
        "internal_error",
        "An unexpected error occurred. Quote the request id when reporting it.",
        request_id=current_request_id(),
    )


def _is_json_decode_error(error: Exception) -> bool:
    if isinstance(error, ValidationError):
        return any(item.get("type") == "json_invalid" for item in error.errors())
    return "JSON" in type(error).__name__ or "Expecting value" in str(error)
