"""JSON from clients (REST bodies and WebSocket frames): bounded depth, no NUL characters.

``json.loads`` follows nesting until Python's recursion limit, and whatever handles a deeply
nested value afterwards (validation, hashing, encoding) may hit that limit deeper in the stack:
a 500, or a WebSocket closed with 1011. PostgreSQL refuses the NUL character in text, so a
``"\\u0000"`` anywhere in a string would fail the first query that stores or filters by it.
:func:`loads` refuses both at the edge; the checks only walk the value when the text could
hold such a problem (more brackets than the depth limit, or a ``\\u0000`` escape).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
NUL_ESCAPE = "\\u0000"


class JsonTooDeep(ValueError):
    """Arrays and objects nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels")


class NulInJson(ValueError):
    """A string (or a key) holds the NUL character; ``field`` is its dotted path."""

    def __init__(self, field: str) -> None:
        super().__init__("must not contain the NUL character")
        self.field = field


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in parts) or "body"


def check(value: Any, text: str | None = None) -> None:
    """Raise :class:`JsonTooDeep` or :class:`NulInJson` for a decoded JSON ``value``.

    With the ``text`` it was decoded from, the walk is skipped when that text cannot hold
    either problem.
    """
    if (
        text is not None
        and NUL_ESCAPE not in text
        and text.count("[") + text.count("{") <= MAX_DEPTH
    ):
        return
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise NulInJson(_path(path))
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise JsonTooDeep()
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and "\x00" in key:
                    raise NulInJson(_path((*path, key)))
                stack.append((child, (*path, key), depth + 1))


def loads(text: str | bytes) -> Any:
    """``json.loads`` with :func:`check`; ValueError (or a subclass above) when refused."""
    decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        value = json.loads(decoded)
    except RecursionError:
        raise JsonTooDeep() from None
    check(value, decoded)
    return value
