"""Checks every request gets before routing: no NUL character in the path or the query string.

PostgreSQL refuses NUL in text, so a ``%00`` in a filter or an id would otherwise fail the
first query that uses it (a 500, or a CSV export cut after its 200). Header values cannot carry
NUL at all (the HTTP/1.1 parser refuses the request with 400); JSON bodies are checked by
:mod:`api.json_input`.
"""

from __future__ import annotations

from quart import Quart, request

from .problems import problem


def check_request_line() -> None:
    """Raise the problem for a NUL in the path (400) or in a query parameter (422)."""
    if "\x00" in request.path:
        raise problem("bad_request", "The path must not contain the NUL character.")
    for name, values in request.args.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            field = name.replace("\x00", "\\u0000")
            raise problem(
                "validation_error",
                f"Invalid {field}: must not contain the NUL character.",
                errors=[{"field": field, "message": "must not contain the NUL character"}],
            )


def install(app: Quart) -> None:
    """Run :func:`check_request_line` before every request."""
    app.before_request(check_request_line)
