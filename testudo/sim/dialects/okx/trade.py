"""OKX regular orders: place (``batch-orders``, ``order``), cancel, look up and list.

Sizes are in contracts; the engine sees base units. Only cross margin in net (one-way)
mode is served: ``tdMode`` must be ``cross`` and ``posSide`` absent or ``net``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from testudo.sim.dialects.okx import views
from testudo.sim.dialects.okx.common import (
    Call,
    Contract,
    Envelope,
    OkxError,
    OrderMeta,
    Refusal,
    Route,
    RouteTable,
    Venue,
    bad,
    batch_envelope,
    client_id,
    decimal,
    flag,
    objects,
    required,
    tag_of,
    text,
)
from testudo.sim.dialects.okx.lookup import find_regular
from testudo.sim.dialects.okx.position_mode import check_pos_side
from testudo.sim.dialects.okx.rejections import CANCEL_FAILED, check_price, check_size, refusal
from testudo.sim.model import (
    OrderKind,
    OrderRequest,
    Rejected,
    Side,
    TimeInForce,
)

BATCH_LIMIT = 20
ORDER_TYPES = {
    "market": (OrderKind.MARKET, TimeInForce.IOC),
    "optimal_limit_ioc": (OrderKind.MARKET, TimeInForce.IOC),
    "limit": (OrderKind.LIMIT, TimeInForce.GTC),
    "post_only": (OrderKind.LIMIT, TimeInForce.POST_ONLY),
    "ioc": (OrderKind.LIMIT, TimeInForce.IOC),
    "fok": (OrderKind.LIMIT, TimeInForce.FOK),
}


def side_of(item: Mapping[str, object]) -> Side:
    """``buy`` / ``sell``."""
    side = required(item, "side")
    if side not in ("buy", "sell"):
        raise bad("side")
    return Side.BUY if side == "buy" else Side.SELL


def check_margin_mode(item: Mapping[str, object]) -> None:
    """``tdMode`` is mandatory; only ``cross`` is simulated."""
    if required(item, "tdMode") != "cross":
        raise bad("tdMode")


class TradeApi:
    """Signed ``/api/v5/trade`` endpoints for regular orders."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("POST", "/api/v5/trade/batch-orders"): Route(self._batch_orders, True),
            ("POST", "/api/v5/trade/order"): Route(self._one_order, True),
            ("POST", "/api/v5/trade/cancel-order"): Route(self._cancel_one, True),
            ("POST", "/api/v5/trade/cancel-batch-orders"): Route(self._cancel_batch, True),
            ("GET", "/api/v5/trade/order"): Route(self._get_order, True),
        }

    def _batch_orders(self, call: Call) -> Envelope:
        items = objects(call.body, BATCH_LIMIT)
        return batch_envelope([self._place_item(call, i) for i in items], self.venue.now)

    def _one_order(self, call: Call) -> Envelope:
        if isinstance(call.body, list):
            raise OkxError("50002", "Json data format error")
        (item,) = objects(call.body, 1)
        return batch_envelope([self._place_item(call, item)], self.venue.now)

    def _place_item(self, call: Call, item: Mapping[str, object]) -> dict[str, object]:
        """One order's result: ``sCode`` 0 with its ``ordId``, or the refusal."""
        cl_ord_id = text(item, "clOrdId") or ""
        tag = text(item, "tag") or ""
        now = str(self.venue.now)
        try:
            order_id = self._place(call, item)
        except Refusal as exc:
            return {
                "clOrdId": cl_ord_id,
                "ordId": "",
                "sCode": exc.code,
                "sMsg": exc.msg,
                "tag": tag,
                "ts": now,
            }
        return {
            "clOrdId": cl_ord_id,
            "ordId": order_id,
            "sCode": "0",
            "sMsg": "Order placed",
            "tag": tag,
            "ts": now,
        }

    def _place(self, call: Call, item: Mapping[str, object]) -> str:
        contract = self.venue.contract(text(item, "instId"))
        check_margin_mode(item)
        side = side_of(item)
        kind, tif = self._order_type(item)
        check_pos_side(self.venue, call.account_id, item)
        sz = decimal(item, "sz")
        if sz is None:
            raise OkxError("50014", "Parameter sz can not be empty")
        check_size(contract, sz, market=kind is OrderKind.MARKET)
        price = self._price(contract, item, kind)
        if item.get("attachAlgoOrds"):
            raise bad("attachAlgoOrds")
        request = OrderRequest(
            symbol=contract.instrument.symbol,
            side=side,
            kind=kind,
            qty=contract.to_base(sz),
            price=price,
            tif=tif,
            reduce_only=flag(item, "reduceOnly"),
            client_id=client_id(item, "clOrdId"),
        )
        tag = tag_of(item)
        try:
            result = self.engine.place(call.account_id, request)
        except Rejected as exc:
            position = self.engine.position(call.account_id, contract.instrument.symbol)
            raise refusal(exc, side=side, position=position) from None
        self.venue.meta[result.order.id] = OrderMeta(tag=tag)
        return views.ord_id(result.order)

    @staticmethod
    def _order_type(item: Mapping[str, object]) -> tuple[OrderKind, TimeInForce]:
        ord_type = required(item, "ordType")
        if ord_type not in ORDER_TYPES:
            raise bad("ordType")
        return ORDER_TYPES[ord_type]

    @staticmethod
    def _price(contract: Contract, item: Mapping[str, object], kind: OrderKind) -> Decimal | None:
        if kind is OrderKind.MARKET:
            return None
        price = decimal(item, "px")
        if price is None:
            raise Refusal("51204", "The price for the limit order can not be empty")
        check_price(contract, price, "px")
        return price

    def _cancel_one(self, call: Call) -> Envelope:
        if isinstance(call.body, list):
            raise OkxError("50002", "Json data format error")
        (item,) = objects(call.body, 1)
        return batch_envelope([self._cancel_item(call, item)], self.venue.now)

    def _cancel_batch(self, call: Call) -> Envelope:
        items = objects(call.body, BATCH_LIMIT)
        return batch_envelope([self._cancel_item(call, i) for i in items], self.venue.now)

    def _cancel_item(self, call: Call, item: Mapping[str, object]) -> dict[str, object]:
        """Cancel one live order by ``ordId`` or ``clOrdId``."""
        ord_id = text(item, "ordId") or ""
        cl_ord_id = text(item, "clOrdId") or ""
        answer = {"clOrdId": cl_ord_id, "ordId": ord_id, "ts": str(self.venue.now)}
        try:
            contract = self.venue.contract(text(item, "instId"))
            if not ord_id and not cl_ord_id:
                raise Refusal("51003", "Either client order ID or order ID is required")
            order = find_regular(self.venue, call.account_id, contract, item, live=True)
            if order is None:
                raise Refusal(*CANCEL_FAILED)
            self.engine.cancel(call.account_id, order_id=order.id)
        except Refusal as exc:
            return {**answer, "sCode": exc.code, "sMsg": exc.msg}
        return {
            **answer,
            "clOrdId": "" if views.is_algo(order) else (order.client_id or ""),
            "ordId": views.ord_id(order),
            "sCode": "0",
            "sMsg": "",
        }

    def _get_order(self, call: Call) -> list[object]:
        """``GET /trade/order``: one order by ``ordId`` or ``clOrdId`` (``51603`` if none)."""
        contract = self.venue.contract(text(call.params, "instId"))
        if not text(call.params, "ordId") and not text(call.params, "clOrdId"):
            raise Refusal("51003", "Either client order ID or order ID is required")
        order = find_regular(self.venue, call.account_id, contract, call.params, live=False)
        if order is None:
            raise Refusal("51603", "Order does not exist")
        return [views.order_view(self.venue, contract, order)]
