"""Framework-neutral HTTP request and response values the dialects work with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import parse_qsl

import attrs

from testudo.sim.faults import FaultResponse


@attrs.frozen
class WireRequest:
    """One HTTP request as the dialect sees it (path without the exchange prefix)."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    peer: str = ""  # the client's IP address (per-IP rate limits)

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def form(self) -> dict[str, str]:
        """Query-string and url-encoded body parameters (body wins)."""
        params = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.body and not self.body.lstrip().startswith((b"{", b"[")):
            params.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return params


@attrs.frozen
class WireResponse:
    """One HTTP response."""

    status: int
    body: str
    content_type: str = "application/json"
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def json(self) -> object:
        """The body parsed as JSON."""
        return json.loads(self.body)


def json_response(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> WireResponse:
    """A JSON response."""
    return WireResponse(
        status=status, body=json.dumps(payload, separators=(",", ":")), headers=dict(headers or {})
    )


def text_response(text: str, status: int, headers: Mapping[str, str] | None = None) -> WireResponse:
    """A plain-text response (what a proxy or load balancer answers)."""
    return WireResponse(
        status=status, body=text, content_type="text/plain", headers=dict(headers or {})
    )


class Dialect(Protocol):
    """An exchange's HTTP API on top of the simulator."""

    def fault_keys(self, request: WireRequest) -> list[str]:
        """Names the request can be targeted by in fault rules."""
        ...

    def handle(self, request: WireRequest) -> WireResponse:
        """Serve one request."""
        ...

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """The exchange's way of answering an injected error to ``request``.

        Mode ``reject`` carries the venue's own error ``code`` and ``message``: the dialect
        answers them in the venue's error envelope (for a batch or per-order API, as the
        venue reports a refused order).
        """
        ...


def generic_fault_response(fault: FaultResponse) -> WireResponse:
    """Plain-text gateway answers for injected errors, with ``Retry-After`` for 429s."""
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    reasons = {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    body = fault.body if fault.body is not None else reasons.get(fault.status, "Error")
    return text_response(body, fault.status, headers)
