"""Per-route request body limits above the app-wide default (``MAX_CONTENT_LENGTH``).

The body limit is fixed when the request object is created, before routing, so routes that
need more (image uploads) register here at import time and the app's request class asks
:func:`limit_for` with the method and path.
"""

from __future__ import annotations

_LIMITS: dict[tuple[str, str], int] = {}


def allow_body(method: str, path: str, limit: int) -> None:
    """Let ``method path`` receive bodies up to ``limit`` bytes."""
    _LIMITS[(method.upper(), path.rstrip("/"))] = limit


def limit_for(method: str, path: str, default: int | None) -> int | None:
    return _LIMITS.get((method.upper(), path.rstrip("/")), default)
