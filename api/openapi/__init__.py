"""The OpenAPI document (``/openapi.json``) and the offline docs pages (``/docs``, ``/redocs``)."""

from __future__ import annotations

from .provider import TestudoOpenAPI

__all__ = ["TestudoOpenAPI"]
