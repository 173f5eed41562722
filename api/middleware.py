"""Cross-cutting request handling: request ids, metrics, CORS, security headers."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

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


class _RouteMetrics:
    """Labelled metric children cached per (method, route, status): ``labels()`` is slow."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}
        self._errors: dict[tuple[str, int], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float | None) -> None:
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = HTTP_REQUESTS.labels(method, route, str(status))
        counter.inc()
        if seconds is not None:
            histogram = self._latency.get((method, route))
            if histogram is None:
                histogram = self._latency[(method, route)] = HTTP_LATENCY.labels(method, route)
            histogram.observe(seconds)
        if status >= 400:
            errors = self._errors.get((route, status))
            if errors is None:
                errors = self._errors[(route, status)] = HTTP_ERRORS.labels(route, str(status))
            errors.inc()


def install(app: Quart, cors_origins: tuple[str, ...]) -> None:
    """Register the before/after hooks on ``app``."""
    allowed = frozenset(cors_origins)
    route_metrics = _RouteMetrics()

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
        started = getattr(g, "started", None)
        elapsed = None if started is None else time.perf_counter() - started
        route_metrics.observe(request.method, route_label(), response.status_code, elapsed)
        return response
