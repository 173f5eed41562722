"""The loopback-only control API (``/_sim/...``): accounts, prices, history, faults, state,
funding."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from testudo.sim.account_options import options_from_json
from testudo.sim.accounts import Credentials
from testudo.sim.control_funding import funding_routes
from testudo.sim.control_observe import observe_routes
from testudo.sim.dialects.bybit.ids import order_number
from testudo.sim.dialects.wire import WireRequest, WireResponse, json_response
from testudo.sim.faults import FaultError, rule_from_json
from testudo.sim.history import HistoryError
from testudo.sim.instruments import BINANCE, BYBIT, HYPERLIQUID, OKX, WOO
from testudo.sim.model import Reason, Rejected
from testudo.sim.money import parse_decimal, plain
from testudo.sim.prices import UnknownSymbol
from testudo.sim.simulator import Simulator
from testudo.sim.state_view import account_state, fill_state, order_state, price_state

LOOPBACK_PREFIXES = ("127.", "::1", "::ffff:127.")
VENUES = {
    "binanceusdm": BINANCE,
    "binance": BINANCE,
    "hyperliquid": HYPERLIQUID,
    "okx": OKX,
    "woo": WOO,
    "bybit": BYBIT,
}
NOT_FOUND = (Reason.UNKNOWN_ORDER, Reason.UNKNOWN_ACCOUNT)


class ControlError(Exception):
    """A control request is invalid (answered with HTTP 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def is_loopback(address: str | None) -> bool:
    """Whether a peer address is a loopback address."""
    return address is not None and address.startswith(LOOPBACK_PREFIXES)


class ControlApi:
    """Serves ``/_sim/...`` (the path given here excludes the ``/_sim`` prefix)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        Route = Callable[[Mapping[str, object], dict[str, str]], WireResponse]
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", "/health"): lambda b, q: json_response({"status": "ok"}),
            ("POST", "/accounts"): self._create_account,
            ("GET", "/accounts"): self._list_accounts,
            ("GET", "/prices"): lambda b, q: json_response(price_state(self.sim)),
            ("POST", "/prices"): self._set_price,
            ("POST", "/walk"): self._walk,
            ("POST", "/history"): self._history,
            ("GET", "/faults"): self._faults,
            ("POST", "/faults"): self._set_fault,
            ("DELETE", "/faults"): self._clear_faults,
            ("GET", "/state"): self._state,
            ("POST", "/orders/fill"): self._fill_order,
            **observe_routes(sim),
            **funding_routes(sim, VENUES),
        }

    def handle(self, request: WireRequest) -> WireResponse:
        """Serve one control request."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return json_response({"error": f"no such control endpoint {request.path}"}, 404)
        try:
            body = json.loads(request.body) if request.body.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("body must be a JSON object")
            return route(body, dict(parse_qsl(request.query)))
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        except ArithmeticError:
            return json_response({"error": "a number is out of range"}, 400)
        except ControlError as exc:
            return json_response({"error": str(exc)}, exc.status)

    def _account_for(self, source: Mapping[str, object]) -> tuple[Credentials, str]:
        """The account named by ``api_key``, ``wallet_address`` or ``account_id``, and its venue."""
        registry = self.sim.registry
        if source.get("api_key"):
            creds = registry.by_api_key.get(str(source["api_key"]))
            venue = BINANCE
        elif source.get("wallet_address"):
            creds = registry.wallet(str(source["wallet_address"]))
            venue = HYPERLIQUID
        elif source.get("account_id"):
            creds = registry.by_id.get(int(str(source["account_id"])))
            venue = BINANCE
        else:
            raise ControlError("give api_key, wallet_address or account_id")
        if creds is None:
            raise ControlError("no such account", 404)
        return creds, venue

    def _create_account(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        options = options_from_json(body)
        balance = parse_decimal(body.get("balance", "10000"))
        permissions = body.get("permissions") or {}
        if not isinstance(permissions, dict) or not all(
            isinstance(v, bool) for v in permissions.values()
        ):
            raise ControlError("permissions must map names to booleans")
        creds = self.sim.create_account(
            balance, {str(k): v for k, v in permissions.items()}, options
        )
        shown = {"balance": str(balance)} if not options.balances else {}
        return json_response({**creds.public(), **shown, **options.public()}, 201)

    def _list_accounts(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        return json_response([c.public() for c in self.sim.registry.by_id.values()])

    def _set_price(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        symbol = str(body.get("symbol", ""))
        price = parse_decimal(body.get("price"))
        freeze = body.get("freeze")
        if freeze is not None and not isinstance(freeze, bool):
            raise ControlError("freeze must be a boolean")
        try:
            fills = self.sim.set_price(symbol, price, freeze=freeze)
        except UnknownSymbol:
            raise ControlError(f"unknown symbol {symbol}", 404) from None
        return json_response(
            {**price_state(self.sim)[symbol], "symbol": symbol, "fills": len(fills)}
        )

    def _walk(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        steps = body.get("steps", 1)
        if not isinstance(steps, int) or not 0 <= steps <= 100_000:
            raise ControlError("steps must be an integer within 0..100000")
        fills = self.sim.step(steps)
        return json_response({"prices": price_state(self.sim), "fills": len(fills)})

    def _history(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        creds, venue = self._account_for(body)
        if body.get("venue") in (BINANCE, HYPERLIQUID, OKX, WOO, BYBIT):
            venue = str(body["venue"])
        count, days, seed = body.get("fills", 1000), body.get("days", 90), body.get("seed", 0)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (count, days, seed)):
            raise ControlError("fills, days and seed must be integers")
        assert isinstance(count, int) and isinstance(days, int) and isinstance(seed, int)
        try:
            generated = self.sim.generate_history(creds, venue, fills=count, days=days, seed=seed)
        except HistoryError as exc:
            raise ControlError(str(exc)) from None
        return json_response(
            {"account_id": creds.account_id, "venue": venue, "generated": generated}
        )

    def _faults(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        return json_response({"rules": [r.public() for r in self.sim.faults.rules]})

    def _set_fault(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        try:
            rule = rule_from_json(body)
        except FaultError as exc:
            raise ControlError(str(exc)) from None
        self.sim.faults.apply(rule)
        return self._faults(body, query)

    def _clear_faults(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        self.sim.faults.clear()
        return self._faults(body, query)

    def _state(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        creds, _ = self._account_for(query)
        limit = int(query.get("fills", "100"))
        return json_response(account_state(self.sim, creds, fills_limit=limit))

    def _venue_for(self, body: Mapping[str, object]) -> tuple[Credentials, str]:
        """The account and the venue: ``exchange`` (or ``venue``) if given, else the key's."""
        creds, venue = self._account_for(body)
        named = body.get("exchange", body.get("venue"))
        if named is None:
            return creds, venue
        if not isinstance(named, str) or named not in VENUES:
            raise ControlError(f"exchange must be one of {', '.join(VENUES)}")
        return creds, VENUES[named]

    def _fill_order(self, body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        """Fill part (or the rest) of one resting limit order as maker."""
        creds, venue = self._venue_for(body)
        order_id, client_id = _order_key(body, venue)
        if body.get("quantity") is None:
            raise ControlError("quantity is required")
        price = body.get("price")
        engine = self.sim.engines[venue]
        try:
            fill = engine.fill_resting(
                creds.account_id,
                parse_decimal(body["quantity"]),
                order_id=order_id,
                client_id=client_id,
                price=None if price is None else parse_decimal(price),
            )
        except Rejected as exc:
            raise ControlError(str(exc), 404 if exc.reason in NOT_FOUND else 400) from None
        order = engine.order(creds.account_id, order_id=fill.order_id)
        return json_response(
            {
                **order_state(order),
                "venue": venue,
                "remaining": plain(order.remaining),
                "average_price": plain(order.average_price),
                "fill": fill_state(fill),
            }
        )


def _order_key(body: Mapping[str, object], venue: str) -> tuple[int | None, str | None]:
    """The ``order_id`` or the ``client_order_id`` a request names (exactly one of them).

    A Bybit ``order_id`` may be the UUID ccxt reports (``orderId``) or the engine number.
    """
    order_id, client_id = body.get("order_id"), body.get("client_order_id")
    if (order_id is None) == (client_id is None):
        raise ControlError("give exactly one of order_id and client_order_id")
    if client_id is not None:
        return None, str(client_id)
    if venue == BYBIT and isinstance(order_id, str) and not order_id.isdigit():
        number = order_number(order_id)
        if number is None:
            raise ControlError(f"unknown_order: {order_id}", 404)
        return number, None
    if isinstance(order_id, bool) or not isinstance(order_id, int | str):
        raise ControlError("order_id must be an integer (or a string of digits)")
    return int(order_id), None
