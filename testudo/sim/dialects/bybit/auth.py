"""Bybit v5 request authentication: ``X-BAPI-*`` headers, HMAC-SHA256, time window.

The signed string is ``timestamp + api_key + recv_window + payload``, where the payload is
the query string of a GET exactly as sent, or the raw body of a POST. The timestamp must
satisfy ``server_time - recv_window <= timestamp < server_time + 1000``.
"""

from __future__ import annotations

import hashlib
import hmac

from testudo.sim.accounts import Credentials, Registry
from testudo.sim.dialects.bybit.errors import BybitError
from testudo.sim.dialects.wire import WireRequest

DEFAULT_RECV_WINDOW = 5_000
MAX_AHEAD_MS = 1_000


def sign(payload: str, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_payload(request: WireRequest) -> str:
    """What follows ``timestamp + key + recv_window`` in the signed string."""
    if request.method == "GET":
        return request.query
    return request.body.decode("utf-8", "replace")


def authenticate(request: WireRequest, registry: Registry, now_ms: int) -> Credentials:
    """The caller's credentials; raise ``BybitError`` as Bybit would.

    Missing headers answer ``10001 ... openapi sign params error!``, an unknown key ``10003``
    (HTTP 401), a timestamp outside the window ``10002``, a wrong signature ``10004``.
    """
    key = request.header("X-BAPI-API-KEY") or ""
    timestamp = request.header("X-BAPI-TIMESTAMP") or ""
    signature = request.header("X-BAPI-SIGN") or ""
    if not (key and timestamp and signature):
        raise BybitError(
            10001,
            f"empty value: apiTimestamp[{timestamp}] apiKey[{key}] "
            f"apiSignature[{signature}]: openapi sign params error!",
        )
    creds = registry.by_api_key.get(key)
    if creds is None:
        raise BybitError(10003, "API key is invalid.", 401)
    window = request.header("X-BAPI-RECV-WINDOW") or str(DEFAULT_RECV_WINDOW)
    if not timestamp.isdigit() or not window.isdigit():
        raise BybitError(10001, "params error: timestamp or recv_window invalid")
    _check_window(int(timestamp), int(window), now_ms)
    payload = timestamp + key + window + signed_payload(request)
    if not hmac.compare_digest(sign(payload, creds.secret), signature.lower()):
        raise BybitError(10004, f"error sign! origin_string[{payload}]")
    return creds


def _check_window(timestamp: int, recv_window: int, now_ms: int) -> None:
    if now_ms - recv_window <= timestamp < now_ms + MAX_AHEAD_MS:
        return
    raise BybitError(
        10002,
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
    )
