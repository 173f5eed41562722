"""Binance request authentication: API key, HMAC-SHA256 signature, timestamp window."""

from __future__ import annotations

import hashlib
import hmac
import re

from testudo.sim.accounts import Credentials, Registry
from testudo.sim.dialects.wire import WireRequest

MAX_RECV_WINDOW = 60_000
DEFAULT_RECV_WINDOW = 5_000
MAX_AHEAD_MS = 1_000
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{64}$")


class BinanceError(Exception):
    """An error Binance answers with ``{"code": ..., "msg": ...}``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def mandatory(name: str) -> BinanceError:
    """The error for a missing parameter."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def split_signature(request: WireRequest) -> tuple[str, str | None]:
    """The signed payload (query string then body, ``signature`` removed) and the signature."""
    signature: str | None = None

    def strip(raw: str) -> str:
        nonlocal signature
        kept = []
        for part in raw.split("&") if raw else []:
            if part.startswith("signature="):
                signature = part[len("signature=") :]
            else:
                kept.append(part)
        return "&".join(kept)

    body = request.body.decode("utf-8", "replace") if request.body else ""
    return strip(request.query) + strip(body), signature


def sign(payload: str, secret: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` keyed with ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def authenticate(
    request: WireRequest, params: dict[str, str], registry: Registry, now_ms: int
) -> Credentials:
    """The caller's credentials; raise ``BinanceError`` as Binance would."""
    key = request.header("X-MBX-APIKEY")
    if not key or not _KEY_FORMAT.match(key):
        raise BinanceError(-2014, "API-key format invalid.", 401)
    creds = registry.by_api_key.get(key)
    if creds is None or not creds.permissions.get("enableReading", True):
        raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    timestamp_text = params.get("timestamp")
    if not timestamp_text or not timestamp_text.isdigit():
        raise mandatory("timestamp")
    window_text = params.get("recvWindow", str(DEFAULT_RECV_WINDOW))
    if not window_text.isdigit():
        raise BinanceError(-1100, "Illegal characters found in parameter 'recvWindow'.")
    recv_window = int(window_text)
    if recv_window > MAX_RECV_WINDOW:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    payload, signature = split_signature(request)
    if not signature:
        raise mandatory("signature")
    if not hmac.compare_digest(sign(payload, creds.secret), signature.lower()):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    timestamp = int(timestamp_text)
    if timestamp > now_ms + MAX_AHEAD_MS:
        raise BinanceError(
            -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if now_ms - timestamp > recv_window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
    return creds
