"""The OpenAPI document (``/openapi.json``) and the offline docs pages (``/docs``, ``/redocs``)."""

from __future__ import annotations

from .provider import TestudoOpenAPI
from .ui import docs_blueprint

__all__ = ["TestudoOpenAPI", "docs_blueprint"]
