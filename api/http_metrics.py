"""Prometheus metrics of the HTTP and WebSocket layers, and the ``/metrics`` endpoint."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from quart import Blueprint, Response

HTTP_REQUESTS = Counter(
    "testudo_http_requests_total",
    "HTTP requests served, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "testudo_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_ERRORS = Counter(
    "testudo_errors_total",
    "Error responses (4xx and 5xx), by route template and status code.",
    ["endpoint", "status_code"],
)
WS_CONNECTIONS = Gauge(
    "testudo_ws_connections",
    "Open WebSocket connections.",
)
WS_MESSAGES_SENT = Counter(
    "testudo_ws_messages_sent_total",
    "Messages sent to WebSocket clients.",
)

metrics_blueprint = Blueprint("metrics", __name__)


@metrics_blueprint.get("/metrics")
@metrics_blueprint.get("/api/v1/metrics")
async def metrics() -> Response:
    """Prometheus text exposition of every Testudo metric and the process metrics."""
    return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
