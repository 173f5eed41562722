"""Prometheus metrics of the WebSocket feed (beyond the connection gauge and sent counter)."""

from __future__ import annotations

from prometheus_client import Counter

WS_CLOSES = Counter(
    "testudo_ws_server_closes_total",
    "WebSocket connections closed by the server, by close code.",
    ["code"],
)
