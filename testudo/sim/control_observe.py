"""Control endpoints that let a test observe a client: the request log and the weight budgets.

- ``GET /_sim/requests?exchange=hyperliquid&key=/exchange:*&limit=50``: the newest requests
  (oldest first) with time, fault keys, peer, signer (Hyperliquid actions) and status;
  ``DELETE /_sim/requests`` empties the log.
- ``GET /_sim/weights``: per budget (``binance``, ``binance_sapi``, ``hyperliquid``) the limit,
  the window and the weight each IP used in the current window;
  ``POST /_sim/weights {"budget": "hyperliquid", "limit": 300}`` changes a limit (``null``
  disables it); ``DELETE /_sim/weights`` forgets the weight spent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from testudo.sim.dialects.wire import WireResponse, json_response
from testudo.sim.simulator import Simulator

Route = Callable[[Mapping[str, object], dict[str, str]], WireResponse]


class ObserveError(ValueError):
    """An invalid observation request (HTTP 400)."""


def _limit(query: Mapping[str, str]) -> int | None:
    raw = query.get("limit")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ObserveError("limit must be a non-negative integer")
    return int(raw)


def observe_routes(sim: Simulator) -> dict[tuple[str, str], Route]:
    """The request-log and weight routes, to merge into the control API's table."""

    def requests(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        rows = sim.requests.select(
            exchange=query.get("exchange"), key=query.get("key"), limit=_limit(query)
        )
        return json_response({"requests": [r.public() for r in rows], "count": len(rows)})

    def clear_requests(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        sim.requests.clear()
        return json_response({"requests": [], "count": 0})

    def weights(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        return json_response(sim.budgets.public(sim.now()))

    def set_weight_limit(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        name, limit = body.get("budget"), body.get("limit")
        if not isinstance(name, str) or name not in sim.budgets.by_name:
            raise ObserveError(f"budget must be one of {', '.join(sim.budgets.by_name)}")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ObserveError("limit must be a non-negative integer or null")
        sim.budgets.set_limit(name, limit)
        return weights(body, query)

    def clear_weights(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        sim.budgets.clear()
        return weights(body, query)

    return {
        ("GET", "/requests"): requests,
        ("DELETE", "/requests"): clear_requests,
        ("GET", "/weights"): weights,
        ("POST", "/weights"): set_weight_limit,
        ("DELETE", "/weights"): clear_weights,
    }
