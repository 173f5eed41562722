"""Binance USD-M orders: regular orders on ``/fapi/v1/order``, conditional ones on the Algo
service (``/fapi/v1/algoOrder``)."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.binance import views
from testudo.sim.dialects.binance.auth import BinanceError, mandatory
from testudo.sim.dialects.binance.common import Route, RouteTable, VenueContext
from testudo.sim.dialects.binance.modes import check_position_side
from testudo.sim.model import (
    Order,
    OrderKind,
    OrderRequest,
    Reason,
    Rejected,
    TimeInForce,
    TriggerKind,
    trigger_for,
)

TRIGGER_TYPES = {
    "STOP_MARKET": (TriggerKind.STOP, OrderKind.MARKET),
    "TAKE_PROFIT_MARKET": (TriggerKind.TAKE_PROFIT, OrderKind.MARKET),
    "STOP": (TriggerKind.STOP, OrderKind.LIMIT),
    "TAKE_PROFIT": (TriggerKind.TAKE_PROFIT, OrderKind.LIMIT),
}
TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
    "GTD": TimeInForce.GTC,
}


class OrderApi(VenueContext):
    """Signed order endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("POST", "/fapi/v1/order"): r(self._new_order, signed=True, trading=True),
            ("DELETE", "/fapi/v1/order"): r(self._cancel_order, signed=True, trading=True),
            ("GET", "/fapi/v1/order"): r(self._query_order, signed=True),
            ("GET", "/fapi/v1/openOrder"): r(self._query_open_order, signed=True),
            ("GET", "/fapi/v1/openOrders"): r(self._open_orders, signed=True),
            ("GET", "/fapi/v1/allOrders"): r(self._all_orders, signed=True),
            ("DELETE", "/fapi/v1/allOpenOrders"): r(self._cancel_all, signed=True, trading=True),
            ("POST", "/fapi/v1/algoOrder"): r(self._new_algo, signed=True, trading=True),
            ("DELETE", "/fapi/v1/algoOrder"): r(self._cancel_algo, signed=True, trading=True),
            ("GET", "/fapi/v1/algoOrder"): r(self._query_algo, signed=True),
            ("GET", "/fapi/v1/openAlgoOrders"): r(self._open_algos, signed=True),
            ("DELETE", "/fapi/v1/algoOpenOrders"): r(
                self._cancel_all_algos, signed=True, trading=True
            ),
        }

    def _new_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        side = self._side(params)
        order_type = params.get("type")
        if not order_type:
            raise mandatory("type")
        check_position_side(self._hedge_mode(creds), params)
        if order_type in TRIGGER_TYPES or order_type == "TRAILING_STOP_MARKET":
            raise BinanceError(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API "
                "endpoints instead.",
            )
        if order_type not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        qty = self._decimal(params, "quantity")
        if qty is None:
            raise mandatory("quantity")
        tif = TimeInForce.GTC
        price = None
        if order_type == "LIMIT":
            tif_text = params.get("timeInForce")
            if not tif_text:
                raise mandatory("timeInForce")
            if tif_text not in TIF:
                raise BinanceError(-1115, "Invalid timeInForce.")
            tif = TIF[tif_text]
            price = self._decimal(params, "price")
            if price is None:
                raise mandatory("price")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=OrderKind(order_type),
            qty=qty,
            price=price,
            tif=tif,
            reduce_only=self._bool(params, "reduceOnly"),
            client_id=self._client_id(params, "newClientOrderId"),
        )
        result = self.engine.place(self._account_id(creds), request)
        return views.order_view(instrument, result.order)

    def _new_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        if params.get("algoType") != "CONDITIONAL":
            raise BinanceError(-1116, "Invalid algoType.")
        side = self._side(params)
        check_position_side(self._hedge_mode(creds), params)
        order_type = params.get("type")
        if not order_type:
            raise mandatory("type")
        if order_type not in TRIGGER_TYPES:
            raise BinanceError(-1116, "Invalid orderType.")
        trigger_kind, kind = TRIGGER_TYPES[order_type]
        trigger_price = self._decimal(params, "triggerPrice")
        if trigger_price is None:
            raise mandatory("triggerPrice")
        close_position = self._bool(params, "closePosition")
        qty = self._decimal(params, "quantity")
        if qty is None and not close_position:
            raise mandatory("quantity")
        price = self._decimal(params, "price") if kind is OrderKind.LIMIT else None
        if kind is OrderKind.LIMIT and price is None:
            raise mandatory("price")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=kind,
            qty=qty or Decimal(0),
            price=price,
            tif=TIF.get(params.get("timeInForce", "GTC"), TimeInForce.GTC),
            reduce_only=self._bool(params, "reduceOnly"),
            close_position=close_position,
            client_id=self._client_id(params, "clientAlgoId"),
            trigger=trigger_for(trigger_kind, side, trigger_price),
        )
        self._check_algo_room(self._account_id(creds), instrument.symbol)
        result = self.engine.place(self._account_id(creds), request)
        return views.algo_view(instrument, result.order)

    def _check_algo_room(self, account_id: int, symbol: str) -> None:
        """Binance's ``MAX_NUM_ALGO_ORDERS`` filter: open conditional orders per symbol."""
        waiting = sum(1 for o in self.engine.open_orders(account_id, symbol) if o.awaiting_trigger)
        if waiting >= views.MAX_NUM_ALGO_ORDERS:
            raise BinanceError(-4045, "Reach max stop order limit.")

    def _regular(self, order: Order) -> Order:
        if order.trigger is not None and order.triggered_ms is None:
            raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
        return order

    def _cancel_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        try:
            order = self._regular(
                self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
            )
            if not order.is_open:
                raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
            self.engine.cancel(self._account_id(creds), order_id=order.id)
        except Rejected as exc:
            if exc.reason is Reason.UNKNOWN_ORDER:
                raise BinanceError(-2011, "Unknown order sent.") from None
            raise
        return views.order_view(instrument, order)

    def _query_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        order = self._regular(
            self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
        )
        return views.order_view(instrument, order)

    def _query_open_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        order = self._regular(
            self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
        )
        if not order.is_open:
            raise BinanceError(-2013, "Order does not exist.")
        return views.order_view(instrument, order)

    def _open_orders(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        orders = self.engine.open_orders(
            self._account_id(creds), instrument.symbol if instrument else None
        )
        return [
            views.order_view(self.engine.instruments[o.symbol], o)
            for o in orders
            if not o.awaiting_trigger
        ]

    def _all_orders(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account = self.engine.account(self._account_id(creds))
        from_id = self._int(params, "orderId") or 0
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        limit = min(self._int(params, "limit") or 500, 1000)
        rows = [
            o
            for o in account.orders.values()
            if o.symbol == instrument.symbol
            and o.id >= from_id
            and not (o.trigger is not None and o.triggered_ms is None)
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return [views.order_view(instrument, o) for o in rows[-limit:]]

    def _cancel_all(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account_id = self._account_id(creds)
        for order in self.engine.open_orders(account_id, instrument.symbol):
            if not order.awaiting_trigger:
                self.engine.cancel(account_id, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def _find_algo(self, creds: Credentials | None, params: dict[str, str]) -> Order:
        algo_id = self._int(params, "algoId")
        client_id = params.get("clientAlgoId")
        if algo_id is None and not client_id:
            raise BinanceError(-1102, "Either algoId or clientAlgoId must be sent.")
        instrument = self._instrument(params, required=False)
        order = self.engine.order(
            self._account_id(creds),
            order_id=algo_id,
            client_id=client_id,
            symbol=instrument.symbol if instrument else None,
        )
        if order.trigger is None:
            raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
        return order

    def _cancel_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        try:
            order = self._find_algo(creds, params)
            if not order.awaiting_trigger:
                raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
            self.engine.cancel(self._account_id(creds), order_id=order.id)
        except Rejected as exc:
            if exc.reason is Reason.UNKNOWN_ORDER:
                raise BinanceError(-2011, "Unknown order sent.") from None
            raise
        return {
            "algoId": order.id,
            "clientAlgoId": order.client_id,
            "code": "200",
            "msg": "success",
        }

    def _query_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        order = self._find_algo(creds, params)
        return views.algo_view(self.engine.instruments[order.symbol], order)

    def _open_algos(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        orders = self.engine.open_orders(
            self._account_id(creds), instrument.symbol if instrument else None
        )
        return [
            views.algo_view(self.engine.instruments[o.symbol], o)
            for o in orders
            if o.awaiting_trigger
        ]

    def _cancel_all_algos(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account_id = self._account_id(creds)
        for order in self.engine.open_orders(account_id, instrument.symbol):
            if order.awaiting_trigger:
                self.engine.cancel(account_id, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}
