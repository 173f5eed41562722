"""WOO X regular orders (``/v3/trade/order``, ``/v3/trade/orders``, ``/v3/trade/allOrders``).

Types LIMIT, MARKET, IOC, FOK and POST_ONLY on ``PERP_*`` symbols, by ``quantity`` (``amount``
is a spot-only field and refused here). ``clientOrderId`` is an integer 0..2^63-1 (0 = none),
unique among the account's open regular orders. Fields WOO does not know are ignored, as the
venue ignores them (ccxt itself always adds ``broker_id``): an order carrying
``stopLossPrice`` is an ordinary order.
"""

from __future__ import annotations

from collections.abc import Callable

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo import views
from testudo.sim.dialects.woo.common import (
    Params,
    Route,
    RouteTable,
    VenueContext,
    bool_param,
    client_id_param,
    decimal_param,
    int_param,
    page,
    side_param,
    text_param,
)
from testudo.sim.dialects.woo.errors import INVALID_PARAM, NOT_FOUND, WooError, missing
from testudo.sim.dialects.woo.position_mode import check_position_side, position_mode
from testudo.sim.model import Order, OrderKind, OrderRequest, Rejected, TimeInForce

ORDER_TYPES = {
    "LIMIT": (OrderKind.LIMIT, TimeInForce.GTC),
    "MARKET": (OrderKind.MARKET, TimeInForce.GTC),
    "IOC": (OrderKind.LIMIT, TimeInForce.IOC),
    "FOK": (OrderKind.LIMIT, TimeInForce.FOK),
    "POST_ONLY": (OrderKind.LIMIT, TimeInForce.POST_ONLY),
}
BUNDLED_STATUSES = {
    "INCOMPLETE": ("NEW", "PARTIAL_FILLED"),
    "COMPLETED": ("CANCELLED", "FILLED", "REJECTED"),
}
CANCEL_GONE = "Your order and symbol are not valid or already canceled."


def status_filter(params: Params) -> Callable[[str], bool]:
    """Which WOO statuses ``status`` selects (a status or INCOMPLETE/COMPLETED; none = all)."""
    wanted = text_param(params, "status")
    if wanted is None:
        return lambda status: True
    statuses = BUNDLED_STATUSES.get(wanted, (wanted,))
    return lambda status: status in statuses


def time_filter(params: Params) -> Callable[[int], bool]:
    """Whether a time is within ``startTime``..``endTime`` (either may be absent)."""
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    return lambda ms: (start is None or ms >= start) and (end is None or ms <= end)


class OrderApi(VenueContext):
    """Signed regular-order endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("POST", "/v3/trade/order"): r(self._new_order, signed=True, trading=True),
            ("DELETE", "/v3/trade/order"): r(self._cancel, signed=True, trading=True),
            ("GET", "/v3/trade/order"): r(self._query, signed=True),
            ("GET", "/v3/trade/orders"): r(self._list, signed=True),
            ("DELETE", "/v3/trade/allOrders"): r(self._cancel_all, signed=True, trading=True),
        }

    def _new_order(self, params: Params, creds: Credentials | None) -> object:
        account_id = self.account_id(creds)
        instrument = self.must(params)
        side = side_param(params)
        type_name = text_param(params, "type")
        if type_name is None:
            raise missing("type")
        if type_name not in ORDER_TYPES:
            raise WooError(INVALID_PARAM, f"unsupported order type: {type_name}")
        kind, tif = ORDER_TYPES[type_name]
        check_position_side(position_mode(self.sim, account_id), params)
        if text_param(params, "marginMode") not in (None, "CROSS", "ISOLATED"):
            raise WooError(INVALID_PARAM)
        if params.get("amount") not in (None, ""):
            raise WooError(INVALID_PARAM, "amount is only applicable to spot MARKET orders")
        qty = decimal_param(params, "quantity")
        if qty is None:
            raise missing("quantity")
        price = decimal_param(params, "price") if kind is OrderKind.LIMIT else None
        if kind is OrderKind.LIMIT and price is None:
            raise missing("price")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=kind,
            qty=qty,
            price=price,
            tif=tif,
            reduce_only=bool_param(params, "reduceOnly"),
            client_id=client_id_param(params, "clientOrderId"),
        )
        return views.created_order(self.engine.place(account_id, request).order)

    def find(self, params: Params, creds: Credentials | None) -> Order:
        """The regular order named by ``orderId`` (preferred) or ``clientOrderId``."""
        order_id = int_param(params, "orderId")
        client_id = client_id_param(params, "clientOrderId")
        if order_id is None and client_id is None:
            raise missing("orderId")
        try:
            order = self.engine.order(
                self.account_id(creds), order_id=order_id, client_id=client_id
            )
        except Rejected:
            raise WooError(NOT_FOUND) from None
        if order.trigger is not None:
            raise WooError(NOT_FOUND)
        return order

    def _cancel(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.must(params)
        try:
            order = self.find(params, creds)
        except WooError:
            raise WooError(NOT_FOUND, CANCEL_GONE) from None
        if not order.is_open or order.symbol != instrument.symbol:
            raise WooError(NOT_FOUND, CANCEL_GONE)
        self.engine.cancel(self.account_id(creds), order_id=order.id)
        return {"status": "CANCEL_SENT"}

    def _query(self, params: Params, creds: Credentials | None) -> object:
        order = self.find(params, creds)
        account = self.engine.account(self.account_id(creds))
        done = views.executions(account, [order]).get(order.id, views.Execution())
        with_pnl = bool_param(params, "withRealizedPnl")
        return views.order_view(
            self.engine.instruments[order.symbol], order, done, with_pnl=with_pnl
        )

    def _list(self, params: Params, creds: Credentials | None) -> object:
        """``GET /v3/trade/orders``: newest first, filtered, one page of ``size`` rows."""
        account = self.engine.account(self.account_id(creds))
        instrument = self.instrument(params, required=False)
        side = text_param(params, "side")
        status_ok, time_ok = status_filter(params), time_filter(params)
        rows = [
            o
            for o in reversed(account.orders.values())
            if o.trigger is None
            and (instrument is None or o.symbol == instrument.symbol)
            and (side is None or o.side.value == side)
            and status_ok(views.order_status(o))
            and time_ok(o.created_ms)
        ]
        chosen, meta = page(rows, params)
        done = views.executions(account, chosen)
        with_pnl = bool_param(params, "withRealizedPnl")
        shown = [
            views.order_view(
                self.engine.instruments[o.symbol],
                o,
                done.get(o.id, views.Execution()),
                with_pnl=with_pnl,
            )
            for o in chosen
        ]
        return {"rows": shown, "meta": meta}

    def _cancel_all(self, params: Params, creds: Credentials | None) -> object:
        """``DELETE /v3/trade/allOrders``: every open order of ``symbol``, regular and algo."""
        instrument = self.must(params)
        self.engine.cancel_all(self.account_id(creds), instrument.symbol)
        return {"status": "CANCEL_ALL_SENT"}
