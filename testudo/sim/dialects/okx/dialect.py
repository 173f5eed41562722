"""OKX v5 REST (``/api/v5/...``) over the ``okx`` engine: USDT swaps, cross margin, net mode."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qsl

from testudo.sim.dialects.okx.account import AccountApi
from testudo.sim.dialects.okx.algo import AlgoApi
from testudo.sim.dialects.okx.auth import authenticate
from testudo.sim.dialects.okx.bills import BillsApi
from testudo.sim.dialects.okx.common import (
    ALL_FAILED,
    Call,
    Envelope,
    OkxError,
    Refusal,
    RouteTable,
    Venue,
    text,
)
from testudo.sim.dialects.okx.fills import FillsApi
from testudo.sim.dialects.okx.listing import ListingApi
from testudo.sim.dialects.okx.market import MarketApi
from testudo.sim.dialects.okx.rejections import MESSAGES
from testudo.sim.dialects.okx.trade import TradeApi
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
)
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.model import Rejected
from testudo.sim.simulator import Simulator

# Endpoints that answer one result per order (``sCode`` / ``sMsg``), even for one order.
ORDER_PATHS = frozenset(
    {
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/order",
        "/api/v5/trade/cancel-order",
        "/api/v5/trade/cancel-batch-orders",
    }
)
ALGO_PATHS = frozenset({"/api/v5/trade/order-algo", "/api/v5/trade/cancel-algos"})


class OkxDialect:
    """Serves OKX's ``/api/v5`` paths from the ``okx`` engine."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.venue = Venue(sim)
        self.routes: RouteTable = {
            **MarketApi(self.venue).routes(),
            **AccountApi(self.venue).routes(),
            **TradeApi(self.venue).routes(),
            **ListingApi(self.venue).routes(),
            **AlgoApi(self.venue).routes(),
            **FillsApi(self.venue).routes(),
            **BillsApi(self.venue).routes(),
        }

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path, e.g. ``/api/v5/trade/batch-orders``."""
        return [request.path]

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """``reject``: OKX's envelope (order calls: ``code`` 1, "All operations failed",
        one item per order with ``sCode`` / ``sMsg``); ``rate_limit``: HTTP 429 with
        ``50011``; other faults: a gateway's plain text."""
        if fault.mode is FaultMode.REJECT:
            return self._rejected(fault, request)
        if fault.mode is FaultMode.RATE_LIMIT and fault.body is None:
            headers = {"Retry-After": str(fault.retry_after or 1)}
            return json_response({"msg": "Too Many Requests", "code": "50011"}, 429, headers)
        return generic_fault_response(fault)

    def _rejected(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        code, msg = fault.code or "1", fault.message or ""
        if request.path not in ORDER_PATHS | ALGO_PATHS:
            return json_response({"code": code, "msg": msg, "data": []}, fault.status)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        items = body if isinstance(body, list) else [body]
        algo = request.path in ALGO_PATHS
        data = [_rejected_item(item, code, msg, algo=algo) for item in items]
        stamp = str(self.sim.clock.now_ms() * 1000)
        envelope = {"code": "1", "data": data, "msg": ALL_FAILED, "inTime": stamp}
        return json_response({**envelope, "outTime": stamp})

    def handle(self, request: WireRequest) -> WireResponse:
        """Route, authenticate and serve one request."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return json_response({"msg": "Not Found", "code": "404"}, 404)
        try:
            creds = None
            if route.private:
                creds = authenticate(request, self.sim.registry, self.sim.clock.now_ms())
            call = Call(dict(parse_qsl(request.query)), _body(request), creds)
            answer = route.handler(call)
        except OkxError as exc:
            body: dict[str, object] = {"code": exc.code, "msg": exc.msg}
            return json_response(body if exc.bare else {**body, "data": []}, exc.status)
        except Refusal as exc:
            return json_response({"code": exc.code, "msg": exc.msg, "data": []})
        except Rejected as exc:
            code, msg = MESSAGES.get(exc.reason, ("51000", "Parameter error"))
            return json_response({"code": code, "msg": msg, "data": []})
        envelope = answer if isinstance(answer, Envelope) else Envelope(answer)
        return json_response(envelope.body(), envelope.status)


def _body(request: WireRequest) -> object:
    """The JSON body of a POST (``None`` when empty); ``50002`` when it is not JSON."""
    if request.method == "GET" or not request.body.strip():
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        raise OkxError("50002", "Json data format error") from None


def _rejected_item(item: object, code: str, msg: str, *, algo: bool) -> dict[str, object]:
    """One order's refusal, echoing the ids the request gave."""
    source = item if isinstance(item, Mapping) else {}
    if algo:
        cl_ord_id = text(source, "clOrdId") or ""
        return {
            "algoClOrdId": text(source, "algoClOrdId") or cl_ord_id,
            "algoId": text(source, "algoId") or "",
            "clOrdId": cl_ord_id,
            "sCode": code,
            "sMsg": msg,
            "tag": text(source, "tag") or "",
        }
    return {
        "clOrdId": text(source, "clOrdId") or "",
        "ordId": text(source, "ordId") or "",
        "sCode": code,
        "sMsg": msg,
        "tag": text(source, "tag") or "",
    }
