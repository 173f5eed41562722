"""A user's requests are served by the node that owns the user's actors.

The routes that reach a user's actors (trades, exchange accounts, history imports) run first
through :func:`route_to_owner`: an authenticated caller whose user another live node owns has
the request forwarded, as it came, to that node's peer listener, and gets its answer back. A
request is forwarded at most once (``X-Testudo-Forwarded-By``): a node that receives one for a
user it does not own (the ownership moved meanwhile) answers 503 with ``Retry-After`` instead.
Forwarding rather than moving ownership: a user's groups keep running where they are (moving
them on every request a load balancer spreads would restart them and cut their watch), and
per-user serialisation stays in the one trader actor that owns the user.
"""

from __future__ import annotations

from typing import Any

import httpx
from quart import Response, current_app, request
from quart_trio import QuartTrio
from werkzeug.datastructures import Headers

from actors.cluster.leases import Local, not_owner
from testudo.cluster.leases import Elsewhere
from testudo.problems import Problem

from .auth_guard import current_principal
from .context import system
from .middleware import current_request_id
from .problems import EdgeAnswer

FORWARDED_BY = "X-Testudo-Forwarded-By"
#: Connection-level headers (RFC 9110 section 7.6.1) and what httpx and hypercorn set again.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "date",
        "server",
    }
)
FORWARD_TIMEOUT = 200.0  # seconds: longer than a trade's creation may take (180)


#: The blueprints whose routes reach a user's actors.
OWNER_ROUTED = frozenset({"trades", "exchanges", "imports"})


def install(app: QuartTrio) -> None:
    app.before_request(route_to_owner)
    app.after_serving(close_peer_client)


async def route_to_owner() -> Response | None:
    """Forward the request when another node owns the caller's user; None: serve it here."""
    if request.blueprint not in OWNER_ROUTED:
        return None
    try:
        principal = await current_principal()
    except EdgeAnswer:
        return None  # the handler refuses the caller the same way
    sys = system()
    owner = await sys.leases.owner(principal.user_id)
    if isinstance(owner, Local):
        return None
    if isinstance(owner, Elsewhere) and request.headers.get(FORWARDED_BY) is None:
        return await forward(owner, sys.leases.node.id)
    raise not_owner(owner)


async def forward(owner: Elsewhere, node_id: str) -> Response:
    """Send the request to ``owner``'s peer listener; its answer, as it is."""
    body = await request.get_data()
    skipped = HOP_BY_HOP | {"x-request-id"}
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in skipped]
    headers += [(FORWARDED_BY, node_id), ("X-Request-Id", current_request_id())]
    target = owner.url.rstrip("/") + request.full_path.rstrip("?")
    try:
        answer = await peer_client().request(
            request.method, target, content=body, headers=headers, timeout=FORWARD_TIMEOUT
        )
    except httpx.TransportError:
        raise Problem(
            "owner_unreachable",
            f"Node {owner.name} serves this user and does not answer; retry shortly.",
            retry_after=1,
        ) from None
    kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    return Response(answer.content, status=answer.status_code, headers=Headers(kept))


def peer_client() -> httpx.AsyncClient:
    """The app's client for forwarded requests (one connection pool, closed with the app)."""
    client: Any = current_app.config.get("TESTUDO_PEER_CLIENT")
    if client is None:
        client = httpx.AsyncClient(http2=False, follow_redirects=False)
        current_app.config["TESTUDO_PEER_CLIENT"] = client
    assert isinstance(client, httpx.AsyncClient)
    return client


async def close_peer_client() -> None:
    client = current_app.config.pop("TESTUDO_PEER_CLIENT", None)
    if isinstance(client, httpx.AsyncClient):
        await client.aclose()
