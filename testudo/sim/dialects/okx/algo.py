"""OKX algo orders: ``order-algo`` (``conditional`` stop-loss / take-profit and ``trigger``),
``cancel-algos``, ``order-algo`` details, ``orders-algo-pending`` and ``orders-algo-history``.

A stop or take-profit is a ``conditional`` order with ``slTriggerPx``/``slOrdPx`` or
``tpTriggerPx``/``tpOrdPx`` (``-1`` = market); OKX refuses one the last price has already
reached (51277-51280). Once triggered it places a regular order with its own ``ordId``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from testudo.sim.dialects.okx import views
from testudo.sim.dialects.okx.common import (
    SWAP,
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
    integer,
    objects,
    page_limit,
    required,
    tag_of,
    text,
)
from testudo.sim.dialects.okx.listing import QUARTER_MS
from testudo.sim.dialects.okx.lookup import find_algo
from testudo.sim.dialects.okx.position_mode import check_pos_side
from testudo.sim.dialects.okx.rejections import CANCEL_FAILED, check_price, check_size, refusal
from testudo.sim.dialects.okx.trade import check_margin_mode, side_of
from testudo.sim.model import (
    Order,
    OrderKind,
    OrderRequest,
    Rejected,
    Side,
    Trigger,
    TriggerKind,
    trigger_for,
)

ALGO_TYPES = ("conditional", "oco", "trigger", "move_order_stop", "iceberg", "twap", "chase")
SERVED_TYPES = ("conditional", "trigger")
HISTORY_STATES = ("effective", "canceled", "order_failed")
PRICE_TYPES = ("last", "index", "mark")
CANCEL_LIMIT = 10


@attrs.frozen
class AlgoSpec:
    """The trigger of an algo order and what it executes."""

    trigger: Trigger
    price: Decimal | None  # None: market (``-1``)
    price_type: str


class AlgoApi:
    """Signed ``/api/v5/trade`` algo endpoints."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("POST", "/api/v5/trade/order-algo"): Route(self._place_one, True),
            ("POST", "/api/v5/trade/cancel-algos"): Route(self._cancel, True),
            ("GET", "/api/v5/trade/order-algo"): Route(self._get, True),
            ("GET", "/api/v5/trade/orders-algo-pending"): Route(self._pending, True),
            ("GET", "/api/v5/trade/orders-algo-history"): Route(self._history, True),
        }

    def _place_one(self, call: Call) -> Envelope:
        if isinstance(call.body, list):
            raise OkxError("50002", "Json data format error")
        (item,) = objects(call.body, 1)
        cl_ord_id = text(item, "clOrdId") or ""
        answer: dict[str, object] = {
            "algoClOrdId": text(item, "algoClOrdId") or cl_ord_id,
            "algoId": "",
            "clOrdId": cl_ord_id,
            "tag": text(item, "tag") or "",
        }
        try:
            order = self._place(call, item)
        except Refusal as exc:
            return batch_envelope([{**answer, "sCode": exc.code, "sMsg": exc.msg}], self.venue.now)
        done = {**answer, "algoId": str(order.id), "sCode": "0", "sMsg": ""}
        return batch_envelope([done], self.venue.now)

    def _place(self, call: Call, item: Mapping[str, object]) -> Order:
        contract = self.venue.contract(text(item, "instId"))
        check_margin_mode(item)
        side = side_of(item)
        check_pos_side(self.venue, call.account_id, item)
        algo_type = required(item, "ordType")
        if algo_type not in SERVED_TYPES:
            raise bad("ordType")
        if algo_type == "conditional":
            spec = self._conditional(contract, item, side)
        else:
            spec = self._trigger(contract, item)
        close_fraction = text(item, "closeFraction") or ""
        qty = self._quantity(contract, item, close_fraction, market=spec.price is None)
        request = OrderRequest(
            symbol=contract.instrument.symbol,
            side=side,
            kind=OrderKind.MARKET if spec.price is None else OrderKind.LIMIT,
            qty=qty,
            price=spec.price,
            reduce_only=flag(item, "reduceOnly") or bool(close_fraction),
            close_position=bool(close_fraction),
            client_id=client_id(item, "algoClOrdId") or client_id(item, "clOrdId"),
            trigger=spec.trigger,
        )
        meta = OrderMeta(
            tag_of(item), algo_type, spec.price_type, close_fraction, text(item, "clOrdId") or ""
        )
        try:
            order = self.engine.place(call.account_id, request).order
        except Rejected as exc:
            position = self.engine.position(call.account_id, request.symbol)
            raise refusal(
                exc, side=side, position=position, trigger_kind=spec.trigger.kind
            ) from None
        self.venue.meta[order.id] = meta
        return order

    @staticmethod
    def _quantity(
        contract: Contract, item: Mapping[str, object], close_fraction: str, *, market: bool
    ) -> Decimal:
        """Base units of ``sz`` (contracts), or 0 for ``closeFraction`` 1 (whole position)."""
        if close_fraction:
            if close_fraction != "1" or not flag(item, "reduceOnly"):
                raise bad("closeFraction")
            return Decimal(0)
        sz = decimal(item, "sz")
        if sz is None:
            raise OkxError("50014", "Parameter sz can not be empty")
        check_size(contract, sz, market=market)
        return contract.to_base(sz)

    @staticmethod
    def _order_price(contract: Contract, item: Mapping[str, object], name: str) -> Decimal | None:
        """An order price field: ``-1`` is a market order."""
        raw = required(item, name)
        if raw == "-1":
            return None
        price = decimal(item, name)
        assert price is not None
        check_price(contract, price, name)
        return price

    def _conditional(self, contract: Contract, item: Mapping[str, object], side: Side) -> AlgoSpec:
        stop = decimal(item, "slTriggerPx")
        take = decimal(item, "tpTriggerPx")
        if stop is not None and take is not None:
            raise bad("tpTriggerPx")  # a two-way conditional order is not simulated
        if stop is None and take is None:
            raise Refusal("50015", "Either parameter tpTriggerPx or slTriggerPx is required")
        prefix, kind = (
            ("sl", TriggerKind.STOP) if stop is not None else ("tp", TriggerKind.TAKE_PROFIT)
        )
        trigger_price = stop if stop is not None else take
        assert trigger_price is not None
        check_price(contract, trigger_price, f"{prefix}TriggerPx")
        price = self._order_price(contract, item, f"{prefix}OrdPx")
        price_type = text(item, f"{prefix}TriggerPxType") or "last"
        if price_type not in PRICE_TYPES:
            raise bad(f"{prefix}TriggerPxType")
        return AlgoSpec(trigger_for(kind, side, trigger_price), price, price_type)

    def _trigger(self, contract: Contract, item: Mapping[str, object]) -> AlgoSpec:
        """A ``trigger`` order fires when the last price reaches ``triggerPx`` from the side
        it is on when placed."""
        trigger_price = decimal(item, "triggerPx")
        if trigger_price is None:
            raise OkxError("50014", "Parameter triggerPx can not be empty")
        check_price(contract, trigger_price, "triggerPx")
        mark = self.engine.mark(contract.instrument.symbol)
        if trigger_price == mark:
            raise bad("triggerPx")
        price = self._order_price(contract, item, "orderPx")
        price_type = text(item, "triggerPxType") or "last"
        if price_type not in PRICE_TYPES:
            raise bad("triggerPxType")
        trigger = Trigger(trigger_price, TriggerKind.STOP, above=trigger_price > mark)
        return AlgoSpec(trigger, price, price_type)

    def _cancel(self, call: Call) -> Envelope:
        items = objects(call.body, CANCEL_LIMIT)
        return batch_envelope([self._cancel_item(call, i) for i in items], self.venue.now)

    def _cancel_item(self, call: Call, item: Mapping[str, object]) -> dict[str, object]:
        """Cancel one algo order that has not triggered yet."""
        answer = {
            "algoClOrdId": text(item, "algoClOrdId") or "",
            "algoId": text(item, "algoId") or "",
        }
        try:
            contract = self.venue.contract(text(item, "instId"))
            if not answer["algoId"] and not answer["algoClOrdId"]:
                raise Refusal("51000", "Parameter algoId error")
            order = find_algo(self.venue, call.account_id, item)
            if (
                order is None
                or not order.awaiting_trigger
                or order.symbol != contract.instrument.symbol
            ):
                raise Refusal(*CANCEL_FAILED)
            self.engine.cancel(call.account_id, order_id=order.id)
        except Refusal as exc:
            return {**answer, "sCode": exc.code, "sMsg": exc.msg}
        done = {"algoClOrdId": order.client_id or "", "algoId": str(order.id)}
        return {**done, "sCode": "0", "sMsg": ""}

    def _get(self, call: Call) -> list[object]:
        """``GET /trade/order-algo`` by ``algoId`` or ``algoClOrdId`` (``51603`` if none)."""
        if not text(call.params, "algoId") and not text(call.params, "algoClOrdId"):
            raise OkxError("50015", "Either parameter algoId or algoClOrdId is required")
        order = find_algo(self.venue, call.account_id, call.params)
        if order is None:
            raise Refusal("51603", "Order does not exist")
        return [views.algo_view(self.venue, self.venue.by_symbol[order.symbol], order)]

    def _types(self, call: Call) -> set[str]:
        types = set(required(call.params, "ordType").split(","))
        if not types <= set(ALGO_TYPES):
            raise bad("ordType")
        return types

    def _select(self, call: Call, rows: list[Order]) -> list[object]:
        """Filter by ``instId`` / ``algoId``, page by ``algoId`` (``after`` = older)."""
        limit = page_limit(call.params)
        inst_type = text(call.params, "instType")
        if inst_type not in (None, SWAP):
            return []
        inst_id = text(call.params, "instId")
        algo_id = integer(call.params, "algoId")
        after = integer(call.params, "after")
        before = integer(call.params, "before")
        chosen = [
            o
            for o in rows
            if (inst_id is None or self.venue.by_symbol[o.symbol].inst_id == inst_id)
            and (algo_id is None or o.id == algo_id)
            and (after is None or o.id < after)
            and (before is None or o.id > before)
        ]
        chosen.sort(key=lambda o: o.id, reverse=True)
        return [
            views.algo_view(self.venue, self.venue.by_symbol[o.symbol], o) for o in chosen[:limit]
        ]

    def _pending(self, call: Call) -> list[object]:
        """Algo orders waiting for their trigger, of the ``ordType`` asked (required)."""
        types = self._types(call)
        account = self.venue.account(call)
        rows = [
            o
            for o in account.open_orders.values()
            if o.awaiting_trigger and (self.venue.meta_of(o).algo_type or "conditional") in types
        ]
        return self._select(call, rows)

    def _history(self, call: Call) -> list[object]:
        """Finished algo orders of the last 3 months, by ``state`` or ``algoId``."""
        types = self._types(call)
        state = text(call.params, "state")
        if state is None and text(call.params, "algoId") is None:
            raise OkxError("50015", "Either parameter state or algoId is required")
        if state is not None and state not in HISTORY_STATES:
            raise bad("state")
        account = self.venue.account(call)
        since = self.venue.now - QUARTER_MS
        rows = [
            o
            for o in account.orders.values()
            if views.is_algo(o)
            and not o.awaiting_trigger
            and o.created_ms >= since
            and (self.venue.meta_of(o).algo_type or "conditional") in types
            and (state is None or views.algo_state(o) == state)
        ]
        return self._select(call, rows)
