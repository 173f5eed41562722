"""WOO X algo orders (``/v3/trade/algoOrder``, ``/v3/trade/algoOrders``): ``STOP`` triggers.

ccxt sends every ``triggerPrice``/``stopPrice`` order here as ``algoType: STOP`` with ``type``
MARKET or LIMIT. WOO fires a STOP when the price trades at or through the trigger from where it
was at placement, and reports it as ``STOP_LOSS`` (a sell below / buy above the price) or
``TAKE_PROFIT`` (a sell above / buy below). A trigger at the current price would fire at once
and is refused (``317151`` for a sell, ``317150`` for a buy). Algo orders have their own ids,
their own ``clientAlgoOrderId`` space (unique among open algo orders) and their own listing and
cancel endpoints; the regular endpoints never show them. Their fills carry the algo order id.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo import views
from testudo.sim.dialects.woo.common import (
    Params,
    Route,
    RouteTable,
    VenueContext,
    algo_client_id,
    bool_param,
    client_id_param,
    decimal_param,
    int_param,
    page,
    side_param,
    text_param,
)
from testudo.sim.dialects.woo.errors import (
    ALGO_GONE,
    ALGO_NOT_FOUND,
    INVALID_PARAM,
    TRIGGER_ABOVE,
    TRIGGER_BELOW,
    UNSUPPORTED_ALGO_TYPE,
    WooError,
    missing,
)
from testudo.sim.dialects.woo.orders import status_filter, time_filter
from testudo.sim.dialects.woo.position_mode import check_position_side, position_mode
from testudo.sim.model import (
    Order,
    OrderKind,
    OrderRequest,
    Rejected,
    Side,
    Trigger,
    TriggerKind,
)

OTHER_ALGO_TYPES = ("OCO", "TRAILING_STOP", "BRACKET", "STOP_BRACKET", "POSITIONAL_TP_SL", "TP_SL")
TRIGGER_PRICE_TYPES = (None, "MARKET_PRICE", "MARK_PRICE")


def stop_trigger(side: Side, trigger: Decimal, mark: Decimal) -> Trigger:
    """The trigger of a STOP placed at ``mark``: it fires when the price reaches ``trigger``.

    Raise ``317150``/``317151`` when ``trigger`` is the current price (it would fire at once).
    """
    if trigger == mark:
        if side is Side.BUY:
            raise WooError(TRIGGER_ABOVE, f"trigger price must be greater than {mark}")
        raise WooError(TRIGGER_BELOW, f"trigger price must be less than {mark}")
    above = trigger > mark
    kind = TriggerKind.STOP if above == (side is Side.BUY) else TriggerKind.TAKE_PROFIT
    return Trigger(price=trigger, kind=kind, above=above)


class AlgoOrderApi(VenueContext):
    """Signed algo-order endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("POST", "/v3/trade/algoOrder"): r(self._new_algo, signed=True, trading=True),
            ("DELETE", "/v3/trade/algoOrder"): r(self._cancel, signed=True, trading=True),
            ("GET", "/v3/trade/algoOrder"): r(self._query, signed=True),
            ("GET", "/v3/trade/algoOrders"): r(self._list, signed=True),
            ("DELETE", "/v3/trade/algoOrders"): r(self._cancel_all, signed=True, trading=True),
        }

    def _new_algo(self, params: Params, creds: Credentials | None) -> object:
        account_id = self.account_id(creds)
        instrument = self.must(params)
        side = side_param(params)
        algo_type = text_param(params, "algoType")
        if algo_type is None:
            raise missing("algoType")
        if algo_type != "STOP":
            code = UNSUPPORTED_ALGO_TYPE if algo_type in OTHER_ALGO_TYPES else INVALID_PARAM
            raise WooError(code, f"unsupported algo type: {algo_type}")
        kind_name = text_param(params, "type")
        if kind_name not in ("MARKET", "LIMIT"):
            raise missing("type") if kind_name is None else WooError(INVALID_PARAM)
        kind = OrderKind(kind_name)
        check_position_side(position_mode(self.sim, account_id), params)
        if text_param(params, "triggerPriceType") not in TRIGGER_PRICE_TYPES:
            raise WooError(INVALID_PARAM)
        trigger = decimal_param(params, "triggerPrice")
        qty = decimal_param(params, "quantity")
        price = decimal_param(params, "price") if kind is OrderKind.LIMIT else None
        for name, value in (("triggerPrice", trigger), ("quantity", qty)):
            if value is None:
                raise missing(name)
        if kind is OrderKind.LIMIT and price is None:
            raise missing("price")
        assert trigger is not None and qty is not None
        client_id = client_id_param(params, "clientAlgoOrderId")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=kind,
            qty=qty,
            price=price,
            reduce_only=bool_param(params, "reduceOnly"),
            client_id=None if client_id is None else algo_client_id(client_id),
            trigger=stop_trigger(side, trigger, self.engine.mark(instrument.symbol)),
        )
        return views.created_algo(self.engine.place(account_id, request).order)

    def find(self, params: Params, creds: Credentials | None) -> Order:
        """The algo order named by ``algoOrderId`` (preferred) or ``clientAlgoOrderId``."""
        algo_id = int_param(params, "algoOrderId")
        client_id = client_id_param(params, "clientAlgoOrderId")
        if algo_id is None and client_id is None:
            raise missing("algoOrderId")
        wanted = algo_id if algo_id is not None else client_id
        not_found = WooError(ALGO_NOT_FOUND, f"The order not found for the order id : {wanted}")
        try:
            order = self.engine.order(
                self.account_id(creds),
                order_id=algo_id,
                client_id=None if client_id is None else algo_client_id(client_id),
            )
        except Rejected:
            raise not_found from None
        if order.trigger is None:
            raise not_found
        return order

    def _cancel(self, params: Params, creds: Credentials | None) -> object:
        try:
            order = self.find(params, creds)
        except WooError as exc:
            if exc.code != ALGO_NOT_FOUND:
                raise
            raise WooError(ALGO_GONE) from None
        if not order.is_open:
            raise WooError(ALGO_GONE)
        self.engine.cancel(self.account_id(creds), order_id=order.id)
        return {"status": "CANCEL_SENT"}

    def _query(self, params: Params, creds: Credentials | None) -> object:
        order = self.find(params, creds)
        account = self.engine.account(self.account_id(creds))
        done = views.executions(account, [order]).get(order.id, views.Execution())
        return views.algo_view(self.engine.instruments[order.symbol], order, done)

    def _list(self, params: Params, creds: Credentials | None) -> object:
        """``GET /v3/trade/algoOrders``: newest first, filtered, one page of ``size`` rows."""
        account = self.engine.account(self.account_id(creds))
        instrument = self.instrument(params, required=False)
        side, algo_type = text_param(params, "side"), text_param(params, "algoType")
        triggered = text_param(params, "isTriggered")
        status_ok, time_ok = status_filter(params), time_filter(params)
        rows = [
            o
            for o in reversed(account.orders.values())
            if o.trigger is not None
            and (instrument is None or o.symbol == instrument.symbol)
            and (side is None or o.side.value == side)
            and algo_type in (None, "STOP", views.algo_type(o))
            and triggered in (None, str(o.triggered_ms is not None).lower())
            and status_ok(views.algo_status(o))
            and time_ok(o.created_ms)
        ]
        chosen, meta = page(rows, params)
        done = views.executions(account, chosen)
        shown = [
            views.algo_view(self.engine.instruments[o.symbol], o, done.get(o.id, views.Execution()))
            for o in chosen
        ]
        return {"rows": shown, "meta": meta}

    def _cancel_all(self, params: Params, creds: Credentials | None) -> object:
        """``DELETE /v3/trade/algoOrders``: every open algo order (of ``symbol``, if given)."""
        account_id = self.account_id(creds)
        instrument = self.instrument(params, required=False)
        for order in self.engine.open_orders(account_id, instrument.symbol if instrument else None):
            if order.trigger is not None:
                self.engine.cancel(account_id, order_id=order.id)
        return {"status": "CANCEL_ALL_SENT"}
