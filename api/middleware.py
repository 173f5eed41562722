"""Cross-cutting request handling: request ids, metrics, CORS, security headers."""

from __future__ import annotations

import re
import time
import uuid

from quart import Quart, Response, g, request

from .http_metrics import HTTP_ERRORS, HTTP_LATENCY, HTTP_REQUESTS

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-store",
}


def current_request_id() -> str:
    """The id of the request being handled (accepted from ``X-Request-Id`` or generated)."""
    return str(getattr(g, "request_id", "-"))


def route_label() -> str:
    """The route template (``/api/v1/trades/<id>``), never the raw path (bounded labels)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def install(app: Quart, cors_origins: tuple[str, ...]) -> None:
    """Register the before/after hooks on ``app``."""
    allowed = frozenset(cors_origins)

    @app.before_request
    async def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    async def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = current_request_id()
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        origin = request.headers.get("Origin")
        if origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After"
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = "3600"
        route = route_label()
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        started = getattr(g, "started", None)
        if started is not None:
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            HTTP_ERRORS.labels(route, str(response.status_code)).inc()
        return response
