"""Hold recorded answers against ``/openapi.json``: status declared, media type, body schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from .openapi_calls import Call


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _media(declared: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for name, media in declared.items():
        if name == kind or (name.endswith("/*") and kind.startswith(name[:-1])):
            return media  # type: ignore[no-any-return]
    return None


def violations(document: dict[str, Any], call: Call) -> list[str]:
    """What is wrong with ``call`` by the document (empty when it conforms)."""
    label = f"{call.method.upper()} {call.template} -> {call.status}"
    operation = document["paths"].get(call.template, {}).get(call.method)
    if operation is None:
        return [f"{label}: no such operation in the document"]
    response = operation["responses"].get(str(call.status))
    if response is None:
        return [f"{label}: status not declared (declared {sorted(operation['responses'])})"]
    response = _resolve(document, response)
    declared = response.get("content", {})
    if not declared:
        return [] if call.body in (b"", None) else [f"{label}: a body where none is declared"]
    media = _media(declared, call.content_type)
    if media is None:
        return [f"{label}: {call.content_type} is not one of {sorted(declared)}"]
    body = call.body
    if isinstance(body, bytes):
        if not call.content_type.startswith("text/"):  # binary: a string of bytes
            return [] if media["schema"].get("type") == "string" else [f"{label}: binary"]
        body = body.decode()
    schema = {"allOf": [media["schema"]], "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{label}: {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in validator.iter_errors(body)
    ]
