"""The WebSocket wire protocol, as pure functions (no I/O).

Client → server, Binance style::

    {"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS" | "AUTH",
     "params": [...], "id": <int | str | null>, "since": {"<channel>": <seq>}}

plus the agent form ``{"type": "subscribe" | "unsubscribe", "channel": "<name>", "since": n}``.
Answers are ``{"result": ..., "id": n}`` or ``{"error": {"code": c, "msg": "..."}, "id": n}``.
Error codes are listed in :class:`ErrorCode` and in docs/realtime.md; channel names are parsed
by :mod:`testudo.realtime.channels`.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

import attrs

from api import json_input
from testudo.realtime.channels import PRIVATE_KINDS, PUBLIC_KINDS, Channel, parse_channel

__all__ = [
    "MAX_STREAMS",
    "PRIVATE_KINDS",
    "PUBLIC_KINDS",
    "Channel",
    "ErrorCode",
    "Method",
    "ProtocolError",
    "Request",
    "encode",
    "parse_channel",
    "parse_request",
    "result",
]

MAX_STREAMS = 1024
MAX_ID_LENGTH = 36

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
    RESYNC_REQUIRED = 9
    INTERNAL_ERROR = 10


class Method(enum.StrEnum):
    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    LIST_SUBSCRIPTIONS = "LIST_SUBSCRIPTIONS"
    AUTH = "AUTH"


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

    def to_json_text(self) -> str:
        return encode(self.to_json())


def parse_request(text: str | bytes) -> Request | ProtocolError:
    """Parse one client frame into a :class:`Request` or the error to answer with."""
    try:
        data = json_input.loads(text)
    except json_input.JsonTooDeep as exc:
        return ProtocolError(ErrorCode.INVALID_JSON, f"Invalid JSON: {exc}")
    except json_input.NulInJson as exc:
        return ProtocolError(ErrorCode.INVALID_VALUE, f"Invalid value: {exc.field} {exc}")
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
    stray = set(since) - set(params)
    if stray:
        return ProtocolError(
            ErrorCode.INVALID_VALUE,
            f"Invalid value: 'since' names {sorted(stray)[0]!r}, which is not in 'params'",
            request_id,
        )
    if method is Method.AUTH and len(params) != 1:
        return ProtocolError(
            ErrorCode.INVALID_VALUE,
            "Invalid value: AUTH takes exactly one parameter, the access token",
            request_id,
        )
    return Request(method, tuple(params), request_id, dict(since))


def _parse_agent_form(data: dict[str, Any]) -> Request | ProtocolError:
    kind = data.get("type")
    channel = data.get("channel")
    request_id = data.get("id") if _valid_id(data.get("id")) else None
    if kind not in ("subscribe", "unsubscribe") or not isinstance(channel, str):
        return ProtocolError(
            ErrorCode.INVALID_REQUEST,
            "Invalid request: expected {'type': 'subscribe'|'unsubscribe', 'channel': '<name>'}",
            request_id,
        )
    since = data.get("since")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        return ProtocolError(
            ErrorCode.INVALID_VALUE,
            "Invalid value: 'since' must be a sequence number >= 0",
            request_id,
        )
    method = Method.SUBSCRIBE if kind == "subscribe" else Method.UNSUBSCRIBE
    return Request(method, (channel,), request_id, {channel: since} if since is not None else {})


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


def encode(message: dict[str, Any]) -> str:
    """A message as a compact JSON text frame."""
    return json.dumps(message, separators=(",", ":"))
