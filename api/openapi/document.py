"""Complete the document quart-schema derives from the routes into a full OpenAPI 3.1 one.

quart-schema knows the paths, parameters and request bodies. This adds, from
:data:`api.openapi.operations.OPERATIONS`: unique operation ids, the success body of every
operation and its problem responses (all one ``Problem`` schema), the security of each
operation (public ones carry an empty list) and the multipart body of the upload.
"""

from __future__ import annotations

import copy
from typing import Any

from .operations import COMPONENTS, JSON, PUBLIC, REFRESH_COOKIE, SESSION, Op
from .schemas_base import PROBLEM, Schema, ref
from .schemas_journal import UPLOAD_BODY

PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch")
UPLOAD = ("post", "/api/v1/journal/upload")
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Malformed request: invalid JSON, a bad cursor or a refused value."),
    401: ("Unauthorized", "No valid credentials, or the session was revoked."),
    403: ("Forbidden", "A cookie-authenticated write from another site (use a bearer token)."),
    404: ("NotFound", "Not found, or not yours."),
    409: ("Conflict", "The state does not allow it (already exists, closed, inactive)."),
    413: ("PayloadTooLarge", "The file is over 5 MiB, or the storage quota is used up."),
    415: ("UnsupportedMediaType", "Not a PNG, JPEG, WEBP or GIF image."),
    422: ("ValidationError", "The body or query is invalid; ``errors`` names each field."),
    429: ("RateLimited", "Too many requests; retry after the Retry-After header's seconds."),
    502: ("BadGateway", "The exchange answered with an error."),
    503: ("Unavailable", "A part of the service is restarting or busy; retry shortly."),
}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    SESSION: [{"bearerAuth": []}, {"cookieAuth": []}],
    REFRESH_COOKIE: [{"refreshCookie": []}],
    PUBLIC: [],
}


def security_schemes(access_cookie: str, refresh_cookie: str) -> dict[str, Schema]:
    return {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token of a web or extension session.",
        },
        "cookieAuth": {
            "type": "apiKey",
            "in": "cookie",
            "name": access_cookie,
            "description": "The web session's access cookie (set by verify-siwe); writes also "
            "need a same-origin Origin or Sec-Fetch-Site.",
        },
        "refreshCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": refresh_cookie,
            "description": "The web session's refresh cookie (sent only to /auth/refresh).",
        },
    }


def complete(
    document: dict[str, Any], operations: dict[tuple[str, str], Op], schemes: dict[str, Schema]
) -> dict[str, Any]:
    """A copy of ``document`` with every operation of ``operations`` fully described."""
    out = copy.deepcopy(document)
    components = out.setdefault("components", {})
    components.setdefault("schemas", {}).update({"Problem": PROBLEM, **COMPONENTS})
    components["securitySchemes"] = schemes
    components["responses"] = {
        name: _content(description, PROBLEM_JSON, ref("Problem"))
        for name, description in PROBLEMS.values()
    }
    components["responses"]["Error"] = _content(
        "Any other error (500 internal_error, ...).", PROBLEM_JSON, ref("Problem")
    )
    for path, item in out.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                _operation(item[method], method, path, operations.get((method, path)))
    return out


def _operation(operation: dict[str, Any], method: str, path: str, op: Op | None) -> None:
    if not operation.get("description"):
        operation.pop("description", None)
    if op is None:  # a route with no entry yet: still a valid document (a test names it)
        operation["operationId"] = f"{method}_{path.strip('/').replace('/', '_')}"
        operation["responses"] = {"default": {"$ref": "#/components/responses/Error"}}
        return
    operation["operationId"] = op.id
    operation.setdefault("tags", ["service"])  # health and metrics
    if op.summary and not operation.get("summary"):
        operation["summary"] = op.summary
    operation["security"] = SECURITY[op.auth]
    if (method, path) == UPLOAD:
        operation["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": UPLOAD_BODY}},
        }
    elif "requestBody" in operation:
        operation["requestBody"]["required"] = True
    operation["responses"] = _responses(operation, method, path, op)


def _responses(operation: dict[str, Any], method: str, path: str, op: Op) -> dict[str, Any]:
    responses: dict[str, Any] = {str(op.status): _success(op)}
    for status, schema in op.also:
        responses[str(status)] = _content("Not ready: ``failed`` names the parts.", JSON, schema)
    for status in sorted(_problem_statuses(operation, method, path, op)):
        responses[str(status)] = {"$ref": f"#/components/responses/{PROBLEMS[status][0]}"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return responses


def _problem_statuses(operation: dict[str, Any], method: str, path: str, op: Op) -> set[int]:
    statuses = set(op.problems)
    if op.auth == SESSION:
        statuses |= {401, 429}
        if method != "get":
            statuses.add(403)
    if "{" in path:
        statuses.add(404)
    body = operation.get("requestBody", {}).get("content", {})
    query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    if body or query:
        statuses.add(422)
    if JSON in body:
        statuses.add(400)
    return statuses


def _success(op: Op) -> dict[str, Any]:
    description = "No content." if op.status == 204 else "Success."
    if op.body is not None:
        return _content(description, op.content, op.body)
    if op.content == JSON:
        return {"description": description}
    binary = "image" in op.content
    schema: Schema = {"type": "string"}
    if binary:
        schema["contentMediaType"] = op.content
    return _content(description, op.content, schema)


def _content(description: str, media_type: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}
