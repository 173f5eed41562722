"""The HTTP surface every later issue builds on: health, metrics, errors, OpenAPI, CORS."""

from __future__ import annotations

import os

import httpx

from api.process import Running

PROBLEM = "application/problem+json"


async def test_liveness(http: httpx.AsyncClient, service: Running) -> None:
    response = await http.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "node": service.system.settings.node_name,
        "pid": os.getpid(),
    }


async def test_readiness_names_every_part(http: httpx.AsyncClient, service: Running) -> None:
    response = await http.get("/api/v1/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    node = body.pop("node")
    assert body == {
        "status": "ready",
        "db": True,
        "sidecar": True,
        "listener": True,
        "cluster": True,
    }
    leases = service.system.leases
    assert node == {
        "name": leases.node.name,
        "id": leases.node.id,
        "pid": leases.node.pid,
        "leases": 0,
        "takeovers": 0,
    }


async def test_readiness_is_503_when_the_nodes_leases_are_not_confirmed(
    http: httpx.AsyncClient, service: Running
) -> None:
    service.system.leases.confirmed(0.0)  # as after a pause: no renewal heard within the term
    response = await http.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cluster"]


async def test_readiness_is_503_naming_the_failed_part(
    http: httpx.AsyncClient, service: Running
) -> None:
    await service.system.exchanges.current.stop()  # type: ignore[union-attr]
    await service.system.root.stop_child("exchanges")
    response = await http.get("/api/v1/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["failed"] == ["sidecar"]


async def test_sidecar_health_is_healthy_and_empty_without_exchanges(
    http: httpx.AsyncClient, service: Running
) -> None:
    response = await http.get("/api/v1/health/sidecar")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "running": True, "exchanges": []}
    # One unreachable exchange shows up here without making the node unready.
    service.system.health.record(
        "acct-1", "binanceusdm", ok=False, latency_ms=3.0, error="ExchangeNotAvailable: outage"
    )
    body = (await http.get("/api/v1/health/sidecar")).json()
    assert body["status"] == "degraded"
    assert body["exchanges"][0]["exchange"] == "binanceusdm"
    assert body["exchanges"][0]["reachable"] is False
    assert body["exchanges"][0]["last_error"] == "ExchangeNotAvailable: outage"
    assert (await http.get("/api/v1/health/ready")).status_code == 200


async def test_unknown_path_is_a_problem_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 404 and body["error"] == "not_found"
    assert {"type", "title", "detail", "request_id"} <= set(body)


async def test_wrong_method_is_a_problem_405(http: httpx.AsyncClient) -> None:
    response = await http.delete("/api/v1/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_request_id_is_echoed_or_generated(http: httpx.AsyncClient) -> None:
    echoed = await http.get("/api/v1/health", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await http.get("/api/v1/health", headers={"X-Request-Id": "bad id\x7f"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_metrics_in_prometheus_text_on_both_paths(http: httpx.AsyncClient) -> None:
    await http.get("/api/v1/health")
    for path in ("/metrics", "/api/v1/metrics"):
        response = await http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        counter = 'testudo_http_requests_total{method="GET",route="/api/v1/health",status="200"}'
        assert counter in text
        assert "testudo_http_request_duration_seconds_bucket" in text
        assert 'testudo_actors_alive{kind="pg_listener"}' in text
        assert "testudo_actor_ask_duration_seconds" in text
        assert "testudo_ws_connections" in text
        assert "process_resident_memory_bytes" in text


async def test_openapi_document(http: httpx.AsyncClient) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/health" in spec["paths"]
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


async def test_cors_for_configured_origins_only(http: httpx.AsyncClient) -> None:
    allowed = await http.options(
        "/api/v1/health",
        headers={"Origin": "https://desk.example", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "GET" in allowed.headers["access-control-allow-methods"]
    other = await http.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
