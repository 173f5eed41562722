"""Hyperliquid ``/info`` and ``/exchange`` over the ``hyperliquid`` engine."""

from __future__ import annotations

import json

from testudo.sim.dialects.hyperliquid.common import BAD_BODY, ActionError, WireError
from testudo.sim.dialects.hyperliquid.exchange import ExchangeApi
from testudo.sim.dialects.hyperliquid.info import InfoApi
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
    text_response,
)
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.simulator import Simulator


class HyperliquidDialect:
    """Serves ``POST /info`` and ``POST /exchange`` like api.hyperliquid.xyz."""

    def __init__(self, sim: Simulator) -> None:
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
        """Serve ``/info`` or ``/exchange``."""
        if request.path not in ("/info", "/exchange"):
            return text_response("Not Found", 404)
        if request.method != "POST":
            return text_response("Method Not Allowed", 405)
        try:
            body = json.loads(request.body or b"null")
            if not isinstance(body, dict):
                raise WireError("expected a JSON object")
            if request.path == "/info":
                return json_response(self.info.answer(body))
            return json_response(self.exchange.act(body))
        except (WireError, ValueError) as exc:
            return text_response(f"{BAD_BODY}: {exc}", 422)
        except ActionError as exc:
            return json_response({"status": "err", "response": str(exc)})
