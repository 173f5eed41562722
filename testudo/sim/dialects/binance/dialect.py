"""Binance USD-M futures (``/fapi``) and the few ``/sapi`` calls ccxt makes."""

from __future__ import annotations

from testudo.sim.dialects.binance.account import AccountApi
from testudo.sim.dialects.binance.auth import BinanceError, authenticate
from testudo.sim.dialects.binance.common import RouteTable
from testudo.sim.dialects.binance.market import MarketDataApi
from testudo.sim.dialects.binance.modes import ModeApi
from testudo.sim.dialects.binance.orders import OrderApi
from testudo.sim.dialects.binance.weights import SAPI, request_weight
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
)
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.model import Reason, Rejected
from testudo.sim.ratelimit import Admission
from testudo.sim.simulator import Simulator

REJECTIONS: dict[Reason, tuple[int, str]] = {
    Reason.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    Reason.INVALID_QTY: (-4003, "Quantity less than or equal to zero."),
    Reason.QTY_STEP: (-1111, "Precision is over the maximum defined for this asset."),
    Reason.QTY_TOO_SMALL: (-1013, "Filter failure: LOT_SIZE"),
    Reason.QTY_TOO_LARGE: (-4005, "Quantity greater than max quantity."),
    Reason.INVALID_PRICE: (-4014, "Price not increased by tick size."),
    Reason.PRICE_REQUIRED: (
        -1102,
        "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
    ),
    Reason.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    Reason.REDUCE_ONLY_REJECTED: (-2022, "ReduceOnly Order is rejected."),
    Reason.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
    Reason.WOULD_TRIGGER: (-2021, "Order would immediately trigger."),
    Reason.POST_ONLY_WOULD_MATCH: (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be "
        "rejected. The order will not be recorded in the order history",
    ),
    Reason.UNKNOWN_ORDER: (-2013, "Order does not exist."),
    Reason.INVALID_LEVERAGE: (-4028, "Leverage is not valid"),
}


class BinanceDialect:
    """Serves Binance USD-M paths (``/fapi/v1/order``, ...) from the ``binance`` engine."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.routes: RouteTable = {
            **MarketDataApi(sim).routes(),
            **AccountApi(sim).routes(),
            **OrderApi(sim).routes(),
            **ModeApi(sim).routes(),
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path, e.g. ``/fapi/v1/order``."""
        return [request.path]

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """Rate limits answer ``-1003`` with ``Retry-After``; rejections Binance's
        ``{"code", "msg"}``; other faults plain text."""
        if fault.mode is FaultMode.REJECT:
            code = int(fault.code or -1000)
            return json_response({"code": code, "msg": fault.message or ""}, fault.status)
        if fault.mode is FaultMode.RATE_LIMIT and fault.body is None:
            msg = (
                "Too many requests; current limit of IP is 2400 requests per minute. Please "
                "use the websocket for live updates to avoid polling the API."
            )
            headers = {"Retry-After": str(fault.retry_after or 1)}
            return json_response({"code": -1003, "msg": msg}, fault.status, headers)
        return generic_fault_response(fault)

    def handle(self, request: WireRequest) -> WireResponse:
        """Charge the request's weight to the IP, then route, authenticate and serve it."""
        params = request.form()
        budget, weight = request_weight(request.method, request.path, params)
        admission = self.sim.budgets.admit(budget, request.peer, weight, self.now)
        headers = {used_weight_header(budget): str(admission.used)}
        if not admission.allowed:
            return too_many_requests(self.sim.budgets.by_name[budget].limit, admission, headers)
        return self._dispatch(request, params, headers)

    def _dispatch(
        self, request: WireRequest, params: dict[str, str], headers: dict[str, str]
    ) -> WireResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return json_response(
                {"code": -5000, "msg": f"Path {request.path}, Method {request.method} is invalid"},
                404,
                headers,
            )
        try:
            creds = None
            if route.signed:
                creds = authenticate(request, params, self.sim.registry, self.now)
                if route.trading and not creds.permissions.get("enableFutures", True):
                    raise BinanceError(
                        -2015, "Invalid API-key, IP, or permissions for action.", 401
                    )
            payload = route.handler(params, creds)
        except BinanceError as exc:
            return json_response({"code": exc.code, "msg": exc.msg}, exc.status, headers)
        except Rejected as exc:
            code, msg = self._rejection(exc)
            return json_response({"code": code, "msg": msg}, 400, headers)
        return json_response(payload, 200, headers)

    def _rejection(self, exc: Rejected) -> tuple[int, str]:
        code, msg = REJECTIONS.get(exc.reason, (-1000, "An unknown error occurred."))
        if exc.reason is Reason.MIN_NOTIONAL:
            limit = exc.detail.rsplit("< ", 1)[-1]
            msg = (
                f"Order's notional must be no smaller than {limit} (unless you choose reduce only)."
            )
            code = -4164
        if exc.reason is Reason.INVALID_LEVERAGE:
            msg = f"Leverage {exc.detail.split()[1]} is not valid"
        return code, msg


def used_weight_header(budget: str) -> str:
    """The header reporting the weight an IP used this minute (/fapi or /sapi)."""
    return "X-SAPI-USED-IP-WEIGHT-1M" if budget == SAPI else "X-MBX-USED-WEIGHT-1M"


def too_many_requests(
    limit: int | None, admission: Admission, headers: dict[str, str]
) -> WireResponse:
    """Binance's answer past the IP's weight limit: HTTP 429, ``-1003``, ``Retry-After``."""
    msg = (
        f"Too many requests; current limit is {limit} requests per minute. Please use the "
        "websocket for live updates to avoid polling the API."
    )
    headers = {**headers, "Retry-After": str(admission.retry_after_s)}
    return json_response({"code": -1003, "msg": msg}, 429, headers)
