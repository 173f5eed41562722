"""``/docs`` and ``/redocs`` render every operation in a real browser with no network."""

from __future__ import annotations

import httpx
import pytest
import trio

from api.process import Running

from .docs_browser import CHROMIUM, open_pages

# A real browser renders two pages of some 70 operations each: well over 10 s (about a
# minute on a loaded two-core machine).
pytestmark = pytest.mark.slow


async def test_docs_pages_list_every_operation_offline(
    http: httpx.AsyncClient, service: Running
) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make chromium` installs it"
    document = (await http.get("/openapi.json")).json()
    ids = {
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    }
    seen = await trio.to_thread.run_sync(open_pages, service.http_url)
    swagger, redoc = seen["/docs"], seen["/redocs"]
    assert swagger.outside == [] and redoc.outside == []
    assert swagger.errors == [] and redoc.errors == []
    assert len(swagger.texts) == len(ids)
    assert any("/api/v1/trades/{group_id}/breakeven" in text for text in swagger.texts)
    assert {section.rsplit("/", 1)[1] for section in redoc.texts} == ids
