"""Hyperliquid ``/info`` and ``/exchange`` over the ``hyperliquid`` engine."""

from __future__ import annotations

import json

from testudo.sim.dialects.hyperliquid.common import BAD_BODY, ActionError, WireError
from testudo.sim.dialects.hyperliquid.exchange import ExchangeApi
from testudo.sim.dialects.hyperliquid.info import InfoApi
from testudo.sim.dialects.hyperliquid.weights import (
    exchange_weight,
    info_extra_weight,
    info_weight,
)
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
    text_response,
)
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.instruments import HYPERLIQUID
from testudo.sim.simulator import Simulator


class HyperliquidDialect:
    """Serves ``POST /info`` and ``POST /exchange`` like api.hyperliquid.xyz."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.info = InfoApi(sim)
        self.exchange = ExchangeApi(sim)

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path plus ``path:type`` (``/info:clearinghouseState``, ``/exchange:order``)."""
        keys = [request.path]
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return keys
        if isinstance(body, dict):
            kind = body.get("type")
            action = body.get("action")
            if kind is None and isinstance(action, dict):
                kind = action.get("type")
            if isinstance(kind, str):
                keys.append(f"{request.path}:{kind}")
        return keys

    def fault_response(self, fault: FaultResponse, request: WireRequest) -> WireResponse:
        """Rejections as Hyperliquid reports them (an ``order`` or ``cancel`` action: one
        error status per order; anything else: ``{"status": "err"}``); other faults as a
        gateway's plain text."""
        if fault.mode is not FaultMode.REJECT:
            return generic_fault_response(fault)
        message = fault.message or fault.code or "error"
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        action = body.get("action") if isinstance(body, dict) else None
        kind = action.get("type") if isinstance(action, dict) else None
        if isinstance(action, dict) and kind in ("order", "cancel", "cancelByCloid"):
            items = action.get("orders") if kind == "order" else action.get("cancels")
            statuses = [{"error": message} for _ in (items if isinstance(items, list) else [0])]
            return json_response(
                {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}
            )
        return json_response({"status": "err", "response": message})

    def handle(self, request: WireRequest) -> WireResponse:
        """Charge the request's weight to the IP, then serve ``/info`` or ``/exchange``.

        Past the IP's budget Hyperliquid answers HTTP 429 with the JSON body ``null``.
        """
        if request.path not in ("/info", "/exchange"):
            return text_response("Not Found", 404)
        if request.method != "POST":
            return text_response("Method Not Allowed", 405)
        fields, malformed = parse_body(request.body)
        if request.path == "/info":
            weight = info_weight(fields.get("type"))
        else:
            weight = exchange_weight(fields.get("action"))
        admission = self.sim.budgets.admit(HYPERLIQUID, request.peer, weight, self.sim.now())
        if not admission.allowed:
            return json_response(None, 429)
        if malformed is not None:
            return text_response(f"{BAD_BODY}: {malformed}", 422)
        return self._serve(request, fields)

    def _serve(self, request: WireRequest, body: dict[str, object]) -> WireResponse:
        """Answer a well-formed request; charge what an ``/info`` answer's items weigh."""
        try:
            if request.path == "/info":
                payload = self.info.answer(body)
                items = len(payload) if isinstance(payload, list) else 0
                extra = info_extra_weight(body.get("type"), items)
                self.sim.budgets.spend(HYPERLIQUID, request.peer, extra, self.sim.now())
                return json_response(payload)
            return json_response(self.exchange.act(body))
        except (WireError, ValueError) as exc:
            return text_response(f"{BAD_BODY}: {exc}", 422)
        except ActionError as exc:
            return json_response({"status": "err", "response": str(exc)})


def parse_body(raw: bytes) -> tuple[dict[str, object], str | None]:
    """The request's JSON object (empty if none) and why it is malformed (``None`` if not)."""
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        return {}, str(exc)
    if not isinstance(body, dict):
        return {}, "expected a JSON object"
    return body, None
