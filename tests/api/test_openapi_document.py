"""``/openapi.json`` is a valid OpenAPI 3.1 document that describes every operation fully."""

from __future__ import annotations

from typing import Any

import httpx
from openapi_spec_validator import OpenAPIV31SpecValidator

from api.openapi.operations import OPERATIONS
from api.openapi.provider import split_docstring

METHODS = ("get", "put", "post", "delete", "patch")
MISSING = "00000000-0000-4000-8000-000000000000"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


async def test_the_document_is_valid_openapi_31_and_describes_every_route(
    http: httpx.AsyncClient,
) -> None:
    document = (await http.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    errors = [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    described = {(method, path) for method, path, _ in operations(document)}
    assert described == set(OPERATIONS)  # every route has its entry, no entry is stale
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
    for method, path, op in operations(document):
        check_operation(document, f"{method} {path}", op)
        assert op["tags"], (method, path)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["cookieAuth"] == {**schemes["cookieAuth"], "in": "cookie", "type": "apiKey"}
    upload = document["paths"]["/api/v1/journal/upload"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and upload["requestBody"]["required"] is True
    assert set(upload["responses"]) >= {"201", "400", "401", "413", "415"}


def check_operation(document: dict[str, Any], label: str, op: dict[str, Any]) -> None:
    """One success answer, problems that are all the one Problem schema, a whole summary."""
    assert op["summary"].endswith((".", ")")), label  # a sentence, not a cut line
    assert [code for code in op["responses"] if code.startswith("2")] != [], label
    problems = {c: r for c, r in op["responses"].items() if c[0] in "45" and "$ref" in r}
    for code, response in problems.items():
        name = response["$ref"].rsplit("/", 1)[1]
        content = document["components"]["responses"][name]["content"]
        problem = content["application/problem+json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}, (label, code)
    if op["security"]:
        assert "401" in problems and "429" in problems, label
    if "{" in label:
        assert "404" in problems, label
    if "requestBody" in op:
        assert "422" in problems, label


async def test_declared_security_is_what_the_service_enforces(http: httpx.AsyncClient) -> None:
    """Without credentials a secured operation answers 401 and a public one never does."""
    document = (await http.get("/openapi.json")).json()
    for method, path, op in operations(document):
        url = path.replace("{group_id}", MISSING).replace("{trade_id}", MISSING)
        for name in ("account_id", "entry_id", "tag_id", "image_id"):
            url = url.replace("{" + name + "}", MISSING)
        response = await http.request(method.upper(), url)
        assert (response.status_code == 401) == bool(op["security"]), (method, path)


def test_a_summary_is_the_whole_first_paragraph() -> None:
    summary, rest = split_docstring(
        "Toggle break-even: the stop moves\n    after the first ``take-profit``.\n\nMore ``here``."
    )
    assert summary == "Toggle break-even: the stop moves after the first take-profit."
    assert rest == "More `here`."


async def test_docs_pages_take_their_assets_from_the_service(http: httpx.AsyncClient) -> None:
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redocs", "redoc.standalone.js")):
        response = await http.get(page)
        assert response.status_code == 200 and f'src="/docs/assets/{script}"' in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "https://" not in response.text
        asset = await http.get(f"/docs/assets/{script}")
        assert asset.status_code == 200 and len(asset.content) > 100_000
        assert asset.headers["content-type"] == "text/javascript"
    missing = await http.get("/docs/assets/..%2Fapps.py")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
