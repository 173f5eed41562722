"""Building blocks of the response schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses).

Objects list every field the service sends as required and stay open to new fields, so a
client can rely on what is documented while the service may add more.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
OPT_STR: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
OPT_INT: Schema = {"type": ["integer", "null"]}
NUMBER: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
UUID: Schema = {"type": "string", "format": "uuid"}
OPT_UUID: Schema = {"type": ["string", "null"], "format": "uuid"}
TIME: Schema = {"type": "string", "format": "date-time"}
OPT_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
DATE: Schema = {"type": "string", "format": "date"}
DECIMAL: Schema = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
    "description": "a decimal number as a string",
    "examples": ["50000.5"],
}
OPT_DECIMAL: Schema = {**DECIMAL, "type": ["string", "null"]}
ANY_OBJECT: Schema = {"type": "object"}


def ref(name: str) -> Schema:
    """A reference to ``#/components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), doc: str = "") -> Schema:
    """An object whose fields are all required except ``optional``; other fields may appear."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }
    if doc:
        schema["description"] = doc
    return schema


def data_of(item: Schema, **extra: Schema) -> Schema:
    """``{"data": [item, ...]}`` with ``extra`` fields beside it."""
    return obj({"data": array(item), **extra})


DELETED = obj({"deleted": {"const": True}})
MESSAGE = obj({"message": STR})

PROBLEM = obj(
    {
        "type": {"type": "string", "format": "uri"},
        "title": STR,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": STR,
        "error": {"type": "string", "description": "machine-readable code, e.g. not_found"},
        "request_id": STR,
        "errors": array(obj({"field": STR, "message": STR})),
    },
    optional=("errors", "request_id"),
    doc="RFC 9457 problem details: the one error shape of the API (application/problem+json).",
)
