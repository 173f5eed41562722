"""WOO X (USDT perpetuals) over the ``woo`` engine: routing, authentication, envelopes, faults.

Every answer is WOO's envelope: ``{"success": true, "data": ..., "timestamp": ...}`` for v3,
``{"success": true, "rows": [...]}`` for v1, and ``{"success": false, "code": ...,
"message": ...}`` with the code's HTTP status for a refusal.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
)
from testudo.sim.dialects.woo.account import AccountApi
from testudo.sim.dialects.woo.algo import AlgoOrderApi
from testudo.sim.dialects.woo.auth import authenticate
from testudo.sim.dialects.woo.common import Envelope, Params, Route, RouteTable
from testudo.sim.dialects.woo.errors import (
    INVALID_PARAM,
    MESSAGES,
    TOO_MANY_REQUESTS,
    UNKNOWN,
    WooError,
    error_response,
    from_rejection,
)
from testudo.sim.dialects.woo.funding import FundingFeeApi
from testudo.sim.dialects.woo.market import MarketDataApi
from testudo.sim.dialects.woo.orders import OrderApi
from testudo.sim.dialects.woo.trades import TradeHistoryApi
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.model import Rejected
from testudo.sim.simulator import Simulator

PatternRoutes = list[tuple[str, re.Pattern[str], Route]]


class WooDialect:
    """Serves WOO X paths (``/v3/trade/order``, ``/v1/public/token``, ...)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        market = MarketDataApi(sim)
        trades = TradeHistoryApi(sim)
        self.routes: RouteTable = {
            **market.routes(),
            **AccountApi(sim).routes(),
            **OrderApi(sim).routes(),
            **AlgoOrderApi(sim).routes(),
            **trades.routes(),
            **FundingFeeApi(sim).routes(),
        }
        self.patterns: PatternRoutes = [
            (
                "GET",
                re.compile(r"^/v1/public/info/(?P<symbol>[A-Z0-9_]+)$"),
                Route(market.info_symbol, signed=False, envelope=Envelope.ROWS),
            ),
            (
                "GET",
                re.compile(r"^/v1/order/(?P<oid>\d+)/trades$"),
                Route(trades.order_trades, signed=True, envelope=Envelope.ROWS),
            ),
        ]

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path (``/v3/trade/algoOrder``) and ``METHOD path`` (``DELETE /v3/trade/order``)."""
        return [request.path, f"{request.method} {request.path}"]

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """Rejections in WOO's envelope (``code``, ``message``, HTTP ``status``); rate limits
        as WOO answers them (429, ``-1003``); other faults as a gateway's plain text."""
        if fault.mode is FaultMode.REJECT:
            code = _code(fault.code)
            known = MESSAGES.get(code, "") if isinstance(code, int) else ""
            message = fault.message if fault.message is not None else known
            return error_response(code, message, fault.status)
        if fault.mode is FaultMode.RATE_LIMIT and fault.body is None:
            headers = {"Retry-After": str(fault.retry_after or 1)}
            return error_response(
                TOO_MANY_REQUESTS, MESSAGES[TOO_MANY_REQUESTS], fault.status, headers
            )
        return generic_fault_response(fault)

    def handle(self, request: WireRequest) -> WireResponse:
        """Route, authenticate and serve one request."""
        found = self._match(request)
        if found is None:
            return error_response(UNKNOWN, f"{request.method} {request.path} not found", 404)
        route, path_params = found
        try:
            creds: Credentials | None = None
            if route.signed:
                creds = authenticate(request, self.sim.registry, self.now, trading=route.trading)
            params = {**_params(request), **path_params}
            payload = route.handler(params, creds)
        except WooError as exc:
            return error_response(exc.code, exc.message, exc.status)
        except Rejected as exc:
            error = from_rejection(exc)
            return error_response(error.code, error.message, error.status)
        except ArithmeticError:
            return error_response(INVALID_PARAM, "a number is out of range", 400)
        return json_response(self._wrap(route.envelope, payload))

    def _match(self, request: WireRequest) -> tuple[Route, dict[str, str]] | None:
        route = self.routes.get((request.method, request.path))
        if route is not None:
            return route, {}
        for method, pattern, candidate in self.patterns:
            match = pattern.match(request.path)
            if method == request.method and match is not None:
                return candidate, match.groupdict()
        return None

    def _wrap(self, envelope: Envelope, payload: object) -> object:
        if envelope is Envelope.ROWS:
            assert isinstance(payload, dict)
            return {"success": True, **payload}
        if envelope is Envelope.BARE:
            return {"success": True, "timestamp": self.now}
        return {"success": True, "data": payload, "timestamp": self.now}


def _params(request: WireRequest) -> Params:
    """The request's parameters: query string, and a JSON (v3) or url-encoded (v1) body."""
    params: Params = dict(parse_qsl(request.query, keep_blank_values=True))
    body = request.body.strip()
    if not body:
        return params
    if request.path.startswith("/v1/"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return params
    try:
        parsed = json.loads(body)
    except ValueError:
        raise WooError(INVALID_PARAM, "request body must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise WooError(INVALID_PARAM, "request body must be a JSON object")
    params.update(parsed)
    return params


def _code(code: str | None) -> int | str:
    """A fault's code as WOO sends it: a number when it is one."""
    text = code or str(UNKNOWN)
    try:
        return int(text)
    except ValueError:
        return text
