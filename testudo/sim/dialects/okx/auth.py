"""OKX request signing: ``OK-ACCESS-KEY`` / ``-PASSPHRASE`` / ``-TIMESTAMP`` / ``-SIGN``.

The signature is base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
where ``requestPath`` carries the query string of a GET (``/api/v5/trade/order?instId=...``)
and ``timestamp`` is the ISO 8601 time in the ``OK-ACCESS-TIMESTAMP`` header. OKX refuses
a timestamp more than 30 s away from its clock. Every failure is HTTP 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from testudo.sim.accounts import Credentials, Registry
from testudo.sim.dialects.okx.common import OkxError
from testudo.sim.dialects.wire import WireRequest

MAX_SKEW_MS = 30_000
_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")


def _refused(code: str, msg: str) -> OkxError:
    return OkxError(code, msg, 401, bare=True)


def sign(secret: str, timestamp: str, method: str, request_path: str, body: str) -> str:
    """OKX's signature of one request."""
    prehash = f"{timestamp}{method.upper()}{request_path}{body}"
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_timestamp(value: str) -> int | None:
    """Milliseconds of an ISO 8601 UTC timestamp (``2024-05-01T12:00:00.123Z``)."""
    for pattern in _FORMATS:
        try:
            parsed = datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(parsed.timestamp() * 1000)
    return None


def _header(request: WireRequest, name: str, code: str) -> str:
    value = request.header(name)
    if not value:
        raise _refused(code, f'Request header "{name}" can not be empty.')
    return value


def authenticate(request: WireRequest, registry: Registry, now_ms: int) -> Credentials:
    """The caller's credentials; raise ``OkxError`` (HTTP 401) as OKX would."""
    key = _header(request, "OK-ACCESS-KEY", "50103")
    passphrase = _header(request, "OK-ACCESS-PASSPHRASE", "50104")
    signature = _header(request, "OK-ACCESS-SIGN", "50106")
    timestamp = _header(request, "OK-ACCESS-TIMESTAMP", "50107")
    stamp_ms = parse_timestamp(timestamp)
    if stamp_ms is None:
        raise _refused("50112", "Invalid OK-ACCESS-TIMESTAMP")
    if abs(now_ms - stamp_ms) > MAX_SKEW_MS:
        raise _refused("50102", "Timestamp request expired")
    creds = registry.by_api_key.get(key)
    if creds is None:
        raise _refused("50111", "Invalid OK-ACCESS-KEY")
    if not hmac.compare_digest(passphrase, creds.passphrase):
        raise _refused("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
    path = request.path + (f"?{request.query}" if request.query else "")
    body = request.body.decode("utf-8", "replace")
    expected = sign(creds.secret, timestamp, request.method, path, body)
    if not hmac.compare_digest(expected, signature):
        raise _refused("50113", "Invalid Sign")
    return creds
