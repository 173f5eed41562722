"""The WebSocket wire protocol, as pure functions (no I/O).

Client → server, Binance style::

    {"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS",
     "params": [...], "id": <int | str | null>}

plus the agent form ``{"type": "subscribe" | "unsubscribe", "channel": "<name>"}``.
Answers are ``{"result": ..., "id": n}`` or ``{"error": {"code": c, "msg": "..."}, "id": n}``.
Error codes are listed in :class:`ErrorCode` and in docs/realtime.md.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

import attrs

MAX_STREAMS = 1024
MAX_ID_LENGTH = 36

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SYMBOL = r"[A-Z0-9]{1,20}_[A-Z0-9]{2,20}"
PRIVATE_KINDS = ("order", "balance")
PUBLIC_KINDS = ("depth", "trade", "ticker")
_CHANNEL = re.compile(
    rf"^(?:(?P<private>{'|'.join(PRIVATE_KINDS)})\.(?P<user>{_UUID})"
    rf"|(?P<public>{'|'.join(PUBLIC_KINDS)})\.(?P<symbol>{_SYMBOL}))$"
)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


class ErrorCode(enum.IntEnum):
    """Numbered protocol errors (Binance uses 0-3; ours continue from there)."""

    UNKNOWN_PROPERTY = 0
    INVALID_VALUE = 1
    INVALID_REQUEST = 2
    INVALID_JSON = 3
    INVALID_CHANNEL = 4
    TOO_MANY_STREAMS = 5
    TOO_MANY_MESSAGES = 6
    UNAUTHORIZED = 7
    FORBIDDEN = 8


class Method(enum.StrEnum):
    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    LIST_SUBSCRIPTIONS = "LIST_SUBSCRIPTIONS"


RequestId = int | str | None


@attrs.frozen
class Request:
    """A well-formed client request."""

    method: Method
    params: tuple[str, ...]
    id: RequestId
    since: dict[str, int] = attrs.field(factory=dict)


@attrs.frozen
class ProtocolError:
    """A request that must be answered with an error object."""

    code: ErrorCode
    msg: str
    id: RequestId = None

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": int(self.code), "msg": self.msg}, "id": self.id}


@attrs.frozen
class Channel:
    """A parsed channel name."""

    name: str
    kind: str
    user_id: str | None = None
    symbol: str | None = None

    @property
    def private(self) -> bool:
        return self.user_id is not None


def parse_channel(name: object) -> Channel | None:
    """The channel named ``name``, or None when it is not a valid channel name."""
    if not isinstance(name, str):
        return None
    match = _CHANNEL.match(name)
    if match is None:
        return None
    if match["private"]:
        return Channel(name, match["private"], user_id=match["user"])
    return Channel(name, match["public"], symbol=match["symbol"])


def parse_request(text: str | bytes) -> Request | ProtocolError:
    """Parse one client frame into a :class:`Request` or the error to answer with."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return ProtocolError(ErrorCode.INVALID_JSON, "Invalid JSON: the message is not JSON")
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.INVALID_REQUEST, "Invalid request: expected a JSON object")
    if "type" in data and "method" not in data:
        return _parse_agent_form(data)
    request_id = data.get("id")
    if not _valid_id(request_id):
        return ProtocolError(
            ErrorCode.INVALID_VALUE,
            "Invalid value: 'id' must be an integer, a string of up to 36 [A-Za-z0-9_-], or null",
        )
    unknown = set(data) - {"method", "params", "id", "since"}
    if unknown:
        return ProtocolError(
            ErrorCode.UNKNOWN_PROPERTY, f"Unknown property: {sorted(unknown)[0]}", request_id
        )
    try:
        method = Method(str(data.get("method")))
    except ValueError:
        return ProtocolError(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: unknown method {data.get('method')!r}",
            request_id,
        )
    params = data.get("params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return ProtocolError(
            ErrorCode.INVALID_VALUE, "Invalid value: 'params' must be a list of strings", request_id
        )
    since = data.get("since", {})
    if not isinstance(since, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in since.items()
    ):
        return ProtocolError(
            ErrorCode.INVALID_VALUE,
            "Invalid value: 'since' must map channel names to sequence numbers >= 0",
            request_id,
        )
    return Request(method, tuple(params), request_id, dict(since))


def _parse_agent_form(data: dict[str, Any]) -> Request | ProtocolError:
    kind = data.get("type")
    channel = data.get("channel")
    if kind not in ("subscribe", "unsubscribe") or not isinstance(channel, str):
        return ProtocolError(
            ErrorCode.INVALID_REQUEST,
            "Invalid request: expected {'type': 'subscribe'|'unsubscribe', 'channel': '<name>'}",
        )
    method = Method.SUBSCRIBE if kind == "subscribe" else Method.UNSUBSCRIBE
    return Request(method, (channel,), data.get("id") if _valid_id(data.get("id")) else None)


def _valid_id(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, str) and bool(_ID.match(value))


def result(request_id: RequestId, value: Any = None) -> dict[str, Any]:
    """The success answer to a request."""
    return {"result": value, "id": request_id}
