"""WOO X request authentication: ``x-api-key``, ``x-api-timestamp``, ``x-api-signature``.

Both schemes sign with HMAC-SHA256 (hex) keyed by the API secret:

- **v3**: ``timestamp + METHOD + path [+ "?" + query] + body`` (the query of a GET/DELETE as
  sent, the JSON body of a POST/PUT exactly as received);
- **v1**: the request's parameters (query and url-encoded body) sorted by name, joined as a query
  string, then ``"|" + timestamp``.

Failures answer ``-1001`` (missing or malformed key or signature header) or ``-1002`` (unknown
key, wrong signature, missing or stale timestamp, key without the needed permission), HTTP 401.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from testudo.sim.accounts import Credentials, Registry
from testudo.sim.dialects.wire import WireRequest
from testudo.sim.dialects.woo.errors import BAD_KEY_FORMAT, UNAUTHORIZED, WooError

TIMESTAMP_WINDOW_MS = 300_000
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")
_TIMESTAMP = re.compile(r"^\d{13}$")


def sign(payload: str, secret: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def v3_payload(request: WireRequest, timestamp: str) -> str:
    """What a v3 request signs: timestamp, method, path, query (if any), body (if any)."""
    path = request.path + (f"?{request.query}" if request.query else "")
    body = request.body.decode("utf-8", "replace") if request.body else ""
    return f"{timestamp}{request.method}{path}{body}"


def v1_payload(request: WireRequest, timestamp: str) -> str:
    """What a v1 request signs: its parameters sorted by name, ``|``, the timestamp."""
    pairs = [p for p in request.query.split("&") if p] if request.query else []
    if request.body:
        pairs.extend(p for p in request.body.decode("utf-8", "replace").split("&") if p)
    pairs.sort(key=lambda pair: pair.partition("=")[0])
    return "&".join(pairs) + "|" + timestamp


def authenticate(
    request: WireRequest, registry: Registry, now_ms: int, *, trading: bool
) -> Credentials:
    """The caller's credentials; raise ``WooError`` as WOO X would.

    ``trading`` routes (placing, cancelling, changing leverage) also need the key's futures
    trading permission.
    """
    key = request.header("x-api-key")
    signature = request.header("x-api-signature")
    if not key or not signature or not _SIGNATURE.match(signature):
        raise WooError(BAD_KEY_FORMAT)
    timestamp = request.header("x-api-timestamp") or ""
    if not _TIMESTAMP.match(timestamp):
        raise WooError(UNAUTHORIZED, "x-api-timestamp is missing or malformed.")
    creds = registry.by_api_key.get(key)
    if creds is None or not creds.permissions.get("enableReading", True):
        raise WooError(UNAUTHORIZED)
    v1 = request.path.startswith("/v1/")
    payload = v1_payload(request, timestamp) if v1 else v3_payload(request, timestamp)
    if not hmac.compare_digest(sign(payload, creds.secret), signature.lower()):
        raise WooError(UNAUTHORIZED)
    if abs(now_ms - int(timestamp)) > TIMESTAMP_WINDOW_MS:
        raise WooError(UNAUTHORIZED, "x-api-timestamp is outside the 300 s window.")
    if trading and not creds.permissions.get("enableFutures", True):
        raise WooError(UNAUTHORIZED)
    return creds
