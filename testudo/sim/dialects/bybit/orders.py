"""Bybit order entry: ``/v5/order/create``, ``/v5/order/cancel``, ``/v5/order/cancel-all``.

Regular and conditional orders share the endpoints; an order with ``triggerPrice`` is a
conditional order that waits (``Untriggered``) until the last price rises to
(``triggerDirection`` 1) or falls to (2) the trigger.
"""

from __future__ import annotations

import re

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit.common import (
    Params,
    Route,
    RouteTable,
    VenueContext,
    account_id,
    decimal,
    flag,
    integer,
    text,
)
from testudo.sim.dialects.bybit.errors import BybitError, invalid, params_error
from testudo.sim.dialects.bybit.ids import order_number, order_uuid
from testudo.sim.dialects.bybit.ledger import OrderLedger
from testudo.sim.dialects.bybit.market_views import market_max_qty
from testudo.sim.dialects.bybit.mode import check_position_idx, position_mode
from testudo.sim.dialects.bybit.rejections import rejection
from testudo.sim.dialects.bybit.views import is_conditional
from testudo.sim.instruments import Instrument
from testudo.sim.model import (
    Order,
    OrderKind,
    OrderRequest,
    Rejected,
    Side,
    TimeInForce,
    Trigger,
    TriggerKind,
)
from testudo.sim.simulator import Simulator

ORDER_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
ORDER_TYPES = {"Limit": OrderKind.LIMIT, "Market": OrderKind.MARKET}
TIME_IN_FORCE = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
UNSUPPORTED = ("takeProfit", "stopLoss", "trailingStop", "orderIv", "isLeverage")


def order_link_id(params: Params) -> str | None:
    """``orderLinkId``: at most 36 of ``A-Z a-z 0-9 _ -``."""
    link = text(params, "orderLinkId")
    if link is not None and not ORDER_LINK_ID.match(link):
        raise invalid("orderLinkId")
    return link


def trigger_of(params: Params, side: Side) -> Trigger | None:
    """The trigger of a conditional order (``triggerPrice`` + ``triggerDirection``)."""
    price = decimal(params, "triggerPrice")
    if price is None:
        return None
    direction = integer(params, "triggerDirection")
    if direction not in (1, 2):
        raise invalid("triggerDirection")
    rising = direction == 1
    protective = rising == (side is Side.BUY)
    kind = TriggerKind.STOP if protective else TriggerKind.TAKE_PROFIT
    return Trigger(price=price, kind=kind, above=rising)


class OrderApi(VenueContext):
    """Signed order-entry endpoints."""

    def __init__(self, sim: Simulator, ledger: OrderLedger) -> None:
        super().__init__(sim)
        self.ledger = ledger

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("POST", "/v5/order/create"): r(self._create, signed=True, trading=True),
            ("POST", "/v5/order/cancel"): r(self._cancel, signed=True, trading=True),
            ("POST", "/v5/order/cancel-all"): r(self._cancel_all, signed=True, trading=True),
        }

    def _request(self, instrument: Instrument, params: Params) -> OrderRequest:
        side = SIDES.get(text(params, "side") or "")
        if side is None:
            raise invalid("side")
        kind = ORDER_TYPES.get(text(params, "orderType") or "")
        if kind is None:
            raise invalid("orderType")
        qty = decimal(params, "qty")
        if qty is None:
            raise params_error("qty is required")
        price = decimal(params, "price") if kind is OrderKind.LIMIT else None
        if kind is OrderKind.LIMIT and price is None:
            raise params_error("price is required for Limit orders")
        if kind is OrderKind.MARKET and qty > market_max_qty(instrument):
            raise BybitError(10001, "The number of contracts exceeds maximum limit allowed")
        tif = TIME_IN_FORCE.get(text(params, "timeInForce") or "GTC")
        if tif is None:
            raise invalid("timeInForce")
        return OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=kind,
            qty=qty,
            price=price,
            tif=tif if kind is OrderKind.LIMIT else TimeInForce.IOC,
            reduce_only=flag(params, "reduceOnly") or flag(params, "closeOnTrigger"),
            client_id=order_link_id(params),
            trigger=trigger_of(params, side),
        )

    def _create(self, params: Params, creds: Credentials | None) -> object:
        self.category(params)
        instrument = self.must(params)
        for name in UNSUPPORTED:
            if text(params, name) is not None:
                raise params_error(f"{name} is not supported by the simulator")
        account = account_id(creds)
        check_position_idx(position_mode(self.sim, account), integer(params, "positionIdx"))
        request = self._request(instrument, params)
        last = self.engine.mark(instrument.symbol)
        try:
            result = self.engine.place(account, request)
        except Rejected as exc:
            raise rejection(exc, request, self.engine, account, instrument) from None
        self.ledger.record(result.order, last)
        return {"orderId": order_uuid(result.order.id), "orderLinkId": result.order.client_id or ""}

    def _find_open(self, params: Params, creds: Credentials | None) -> Order:
        instrument = self.must(params)
        account = self.engine.account(account_id(creds))
        order_id = text(params, "orderId")
        link = text(params, "orderLinkId")
        if order_id is None and link is None:
            raise params_error("OrderId or orderLinkId is required")
        for order in account.open_orders.values():
            if order.symbol != instrument.symbol:
                continue
            if order_id is not None and order.id == order_number(order_id):
                return order
            if order_id is None and order.client_id == link:
                return order
        raise BybitError(110001, "order not exists or too late to cancel")

    def _cancel(self, params: Params, creds: Credentials | None) -> object:
        self.category(params)
        order = self._find_open(params, creds)
        self.engine.cancel(account_id(creds), order_id=order.id)
        return {"orderId": order_uuid(order.id), "orderLinkId": order.client_id or ""}

    def _cancel_all(self, params: Params, creds: Credentials | None) -> object:
        """Cancel the open orders a symbol / baseCoin / settleCoin selects (``orderFilter``
        ``Order``: active ones only, ``StopOrder``: conditional ones only)."""
        self.category(params)
        self.check_settle(params)
        self.instrument(params, required=False)
        order_filter = text(params, "orderFilter")
        if order_filter not in (None, "Order", "StopOrder"):
            raise invalid("orderFilter")
        account = account_id(creds)
        canceled = []
        for order in self.engine.open_orders(account):
            instrument = self.engine.instruments[order.symbol]
            if not self.matches_coin(instrument, params):
                continue
            if order_filter is not None and is_conditional(order) != (order_filter == "StopOrder"):
                continue
            self.engine.cancel(account, order_id=order.id)
            canceled.append({"orderId": order_uuid(order.id), "orderLinkId": order.client_id or ""})
        return {"list": canceled, "success": "1"}
