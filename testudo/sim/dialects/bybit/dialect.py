"""Bybit v5 (``/v5/...``) over the ``bybit`` engine: routing, authentication, envelopes."""

from __future__ import annotations

import json

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit.account import AccountApi
from testudo.sim.dialects.bybit.auth import authenticate
from testudo.sim.dialects.bybit.common import Params, Route, RouteTable
from testudo.sim.dialects.bybit.errors import BybitError, failure, params_error, success
from testudo.sim.dialects.bybit.ledger import OrderLedger
from testudo.sim.dialects.bybit.limits import RateCounter, limit_headers, limit_of
from testudo.sim.dialects.bybit.market import MarketApi
from testudo.sim.dialects.bybit.orders import OrderApi
from testudo.sim.dialects.bybit.queries import QueryApi
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
    text_response,
)
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.model import Rejected
from testudo.sim.simulator import Simulator

PERMISSION_DENIED = (10005, "Permission denied, please check your API key permissions.")
DEFAULT_REJECT_STATUS = 400  # the fault API's default: Bybit answers refusals with 200


class BybitDialect:
    """Serves Bybit v5 paths (``/v5/order/create``, ...) from the ``bybit`` engine."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        ledger = OrderLedger()
        self.routes: RouteTable = {
            **MarketApi(sim).routes(),
            **AccountApi(sim).routes(),
            **OrderApi(sim, ledger).routes(),
            **QueryApi(sim, ledger).routes(),
        }
        self.rates = RateCounter()

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path, e.g. ``/v5/order/create``."""
        return [request.path]

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """Rejections in Bybit's envelope (HTTP 200, as Bybit answers business errors, unless
        the rule names another status); rate limits as ``10006 Too many visits!`` with the
        ``X-Bapi-Limit*`` headers, or, with ``status`` 403, as the IP limit's bare 403;
        other faults as a gateway's plain text."""
        now = self.now
        if fault.mode is FaultMode.REJECT:
            status = 200 if fault.status == DEFAULT_REJECT_STATUS else fault.status
            code = int(fault.code or 10016)
            return json_response(failure(code, fault.message or "", now), status)
        if fault.mode is FaultMode.RATE_LIMIT and fault.body is None:
            if fault.status == 403:
                return text_response("access too frequent", 403)
            reset = now + 1000 * (fault.retry_after or 1)
            headers = limit_headers(limit_of(request.path), 0, reset)
            return json_response(failure(10006, "Too many visits!", now), 200, headers)
        return generic_fault_response(fault)

    def handle(self, request: WireRequest) -> WireResponse:
        """Route, authenticate and serve one request."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return json_response(failure(10017, "Route not found.", self.now), 404)
        headers: dict[str, str] = {}
        try:
            params = _params(request)
            creds = self._authorize(route, request)
            if creds is not None:
                headers = self.rates.count(creds.account_id, request.path, self.now)
            result = route.handler(params, creds)
        except BybitError as exc:
            return json_response(failure(exc.code, exc.msg, self.now), exc.status, headers)
        except Rejected as exc:
            return json_response(failure(10001, f"params error: {exc}", self.now), 200, headers)
        return json_response(success(result, self.now), 200, headers)

    def _authorize(self, route: Route, request: WireRequest) -> Credentials | None:
        if not route.signed:
            return None
        creds = authenticate(request, self.sim.registry, self.now)
        permissions = creds.permissions
        if not permissions.get("enableReading", True) or (
            route.trading and not permissions.get("enableFutures", True)
        ):
            raise BybitError(*PERMISSION_DENIED)
        return creds


def _params(request: WireRequest) -> Params:
    """GET parameters from the query string, POST parameters from the JSON body."""
    if request.method == "GET":
        return dict(request.form())
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise params_error("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise params_error("request body must be a JSON object")
    return body
