"""Health endpoints: liveness, readiness (database + gateway + listener) and the gateway view."""

from __future__ import annotations

import os
from typing import Any

from quart import Blueprint

from .context import system

health_blueprint = Blueprint("health", __name__, url_prefix="/api/v1/health")


@health_blueprint.get("")
async def liveness() -> dict[str, Any]:
    """Always 200 while the process serves requests; names the node (and process) answering,
    which tells the workers of ``--workers`` and the nodes behind a load balancer apart."""
    return {"status": "ok", "node": system().settings.node_name, "pid": os.getpid()}


@health_blueprint.get("/ready")
async def readiness() -> tuple[dict[str, Any], int]:
    """200 when the database answers, the exchange gateway runs and the listener is connected.

    Otherwise 503 with ``failed`` naming each part that is not ready. One unreachable exchange
    does not make the node unready (that is ``/health/sidecar``'s business).
    """
    sys = system()
    db_ok = await sys.db.ping()
    gateway_ok = sys.gateway_running()
    listener = await sys.listener_status()
    listener_ok = listener is not None and listener.connected
    leases = sys.leases
    parts = {
        "db": db_ok,
        "sidecar": gateway_ok,
        "listener": listener_ok,
        "cluster": leases.alive(),
    }
    failed = [name for name, ok in parts.items() if not ok]
    body: dict[str, Any] = {"status": "ready" if not failed else "not_ready", **parts}
    body["node"] = {
        "name": leases.node.name,
        "id": leases.node.id,
        "pid": leases.node.pid,
        "leases": len(leases.held()),
        "takeovers": leases.takeovers,
    }
    if failed:
        body["failed"] = failed
        return body, 503
    return body, 200


@health_blueprint.get("/sidecar")
async def sidecar() -> dict[str, Any]:
    """The exchange gateway's health: per exchange reachable, last error, latency."""
    sys = system()
    exchanges = [h.to_json() for h in sys.health.by_exchange()]
    running = sys.gateway_running()
    healthy = running and all(e["reachable"] for e in exchanges)
    return {
        "status": "healthy" if healthy else ("degraded" if running else "unreachable"),
        "running": running,
        "exchanges": exchanges,
    }
