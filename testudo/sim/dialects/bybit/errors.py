"""Bybit's ``retCode`` / ``retMsg`` envelope and the errors the dialect answers with it."""

from __future__ import annotations


class BybitError(Exception):
    """A refusal Bybit answers as ``{"retCode": code, "retMsg": msg, ...}``.

    ``status`` is the HTTP status: Bybit answers business errors with 200 (the error is in
    ``retCode``), an unknown API key with 401 and an unknown path with 404.
    """

    def __init__(self, code: int, msg: str, status: int = 200) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def params_error(what: str) -> BybitError:
    """``10001 params error: <what>``, Bybit's answer to a missing or malformed parameter."""
    return BybitError(10001, f"params error: {what}")


def invalid(name: str) -> BybitError:
    """``10001 params error: <name> invalid`` (the pattern of ``side invalid``, ``symbol
    invalid``)."""
    return params_error(f"{name} invalid")


def success(result: object, now_ms: int) -> dict[str, object]:
    """The envelope of a successful answer."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms}


def failure(code: int, msg: str, now_ms: int) -> dict[str, object]:
    """The envelope of a refusal (``result`` is an empty object, as Bybit sends it)."""
    return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": now_ms}
