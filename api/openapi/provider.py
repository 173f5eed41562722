"""The OpenAPI provider of the app: quart-schema's, with full summaries and the completion."""

from __future__ import annotations

import inspect
import re
from typing import Any

from quart import current_app
from quart_schema import OpenAPIProvider
from werkzeug.routing import Rule

from .document import complete, security_schemes
from .operations import OPERATIONS

RST_LITERAL = re.compile(r"``([^`]+)``")


def split_docstring(doc: str) -> tuple[str, str]:
    """The first paragraph as one line of plain text (the summary, never cut) and the rest
    as Markdown (the description)."""
    paragraphs = doc.strip().split("\n\n")
    summary = " ".join(line.strip() for line in paragraphs[0].splitlines())
    rest = "\n\n".join(paragraphs[1:]).strip()
    return RST_LITERAL.sub(r"\1", summary), RST_LITERAL.sub(r"`\1`", rest)


class TestudoOpenAPI(OpenAPIProvider):
    """Builds ``/openapi.json``: every operation with its answers, problems and security."""

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        doc = inspect.getdoc(self._app.view_functions[rule.endpoint])
        for item in paths.values():
            for operation in item.values():
                if doc:
                    operation["summary"], operation["description"] = split_docstring(doc)
        return paths, components

    def schema(self) -> dict[str, Any]:
        auth = current_app.config["TESTUDO_SYSTEM"].auth.settings
        schemes = security_schemes(auth.access_cookie, auth.refresh_cookie)
        return complete(super().schema(), OPERATIONS, schemes)
