"""JSON shapes of Bybit orders and executions (``/v5/order/realtime|history``,
``/v5/execution/list``)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sim.dialects.bybit.formats import money, ms, price_text, qty_text
from testudo.sim.dialects.bybit.ids import exec_uuid, order_uuid
from testudo.sim.instruments import Instrument
from testudo.sim.model import CancelReason, Fill, Order, OrderKind, OrderStatus, TimeInForce
from testudo.sim.money import ZERO, plain

TIME_IN_FORCE = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
CANCEL_TYPES = {
    CancelReason.USER: "CancelByUser",
    CancelReason.PARENT: "CancelByUser",
    CancelReason.REDUCE_ONLY: "CancelByReduceOnly",
    CancelReason.POSITION_CLOSED: "CancelByTpSlTsClear",
}
REJECT_REASONS = {
    CancelReason.IOC: "EC_CancelForNoFullFill",
    CancelReason.MARGIN: "EC_InsufficientAvailableBalance",
    CancelReason.REDUCE_ONLY: "EC_ReduceOnlySetButNotCloseOrder",
}
# Market orders become limit orders at the last price +/- this much (Bybit's protection).
MARKET_PROTECTION = {"BTC": Decimal("0.03")}
DEFAULT_PROTECTION = Decimal("0.05")


@attrs.frozen
class OrderFacts:
    """What the engine's order does not keep but Bybit shows: the fees paid so far, the
    last price when the order was placed, the position it works on."""

    fee: Decimal = ZERO
    created_price: Decimal | None = None
    position_idx: int = 0


def side_text(order_side: str) -> str:
    """``BUY`` -> ``Buy``."""
    return order_side.capitalize()


def order_status(order: Order) -> str:
    """Bybit's ``orderStatus`` of an engine order."""
    if order.awaiting_trigger:
        return "Untriggered"
    if order.status is OrderStatus.NEW:
        return "New"
    if order.status is OrderStatus.PARTIALLY_FILLED:
        return "PartiallyFilled"
    if order.status is OrderStatus.FILLED:
        return "Filled"
    if order.trigger is not None and order.triggered_ms is None:
        return "Deactivated"
    if order.cancel_reason is CancelReason.MARGIN:
        return "Rejected"
    return "PartiallyFilledCanceled" if order.filled_qty > 0 else "Cancelled"


def is_conditional(order: Order) -> bool:
    """Whether Bybit lists the order under ``orderFilter=StopOrder``: a conditional order
    that has not triggered (once triggered it works as an active order)."""
    return order.trigger is not None and order.triggered_ms is None


def market_price(instrument: Instrument, order: Order, reference: Decimal) -> Decimal:
    """The protection price Bybit turns a market order into (last price +/- 3 % for BTC,
    5 % for the others), on the price grid."""
    rate = MARKET_PROTECTION.get(instrument.base, DEFAULT_PROTECTION)
    rule = instrument.price_rule
    if order.side.value == "BUY":
        return rule.round_down(reference * (1 + rate))
    return rule.round_up(reference * (1 - rate))


def _price(instrument: Instrument, order: Order, facts: OrderFacts) -> Decimal:
    if order.kind is OrderKind.LIMIT and order.price is not None:
        return order.price
    reference = order.trigger.price if order.trigger is not None else facts.created_price
    return market_price(instrument, order, reference or order.average_price)


def _trigger_fields(instrument: Instrument, order: Order) -> dict[str, object]:
    if order.trigger is None:
        return {"triggerPrice": "", "triggerDirection": 0, "triggerBy": "", "stopOrderType": ""}
    return {
        "triggerPrice": price_text(instrument, order.trigger.price),
        "triggerDirection": 1 if order.trigger.above else 2,
        "triggerBy": "LastPrice",
        "stopOrderType": "Stop",
    }


def _exec_fields(instrument: Instrument, order: Order, facts: OrderFacts) -> dict[str, object]:
    price = _price(instrument, order, facts)
    finished = not order.is_open
    leaves = ZERO if finished else order.remaining
    return {
        "price": price_text(instrument, price),
        "qty": qty_text(instrument, order.qty),
        "avgPrice": price_text(instrument, order.average_price) if order.filled_qty else "",
        "leavesQty": qty_text(instrument, leaves),
        "leavesValue": money(leaves * price),
        "cumExecQty": qty_text(instrument, order.filled_qty),
        "cumExecValue": money(order.filled_notional),
        "cumExecFee": money(facts.fee),
        "cumFeeDetail": {instrument.settle: money(facts.fee)} if order.filled_qty else {},
    }


def order_view(instrument: Instrument, order: Order, facts: OrderFacts) -> dict[str, object]:
    """One order of ``/v5/order/realtime`` or ``/v5/order/history``."""
    reason = order.cancel_reason
    return {
        "orderId": order_uuid(order.id),
        "orderLinkId": order.client_id or "",
        "blockTradeId": "",
        "symbol": instrument.venue_symbol,
        "side": side_text(order.side.value),
        "isLeverage": "",
        "positionIdx": facts.position_idx,
        "orderStatus": order_status(order),
        "createType": "CreateByUser",
        "cancelType": CANCEL_TYPES.get(reason, "UNKNOWN") if reason else "UNKNOWN",
        "rejectReason": REJECT_REASONS.get(reason, "EC_NoError") if reason else "EC_NoError",
        **_exec_fields(instrument, order, facts),
        "timeInForce": "IOC" if order.kind is OrderKind.MARKET else TIME_IN_FORCE[order.tif],
        "orderType": "Market" if order.kind is OrderKind.MARKET else "Limit",
        **_trigger_fields(instrument, order),
        "orderIv": "",
        "marketUnit": "",
        "takeProfit": "",
        "stopLoss": "",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "tpslMode": "",
        "lastPriceOnCreated": (
            price_text(instrument, facts.created_price) if facts.created_price else ""
        ),
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": False,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "0",
        "extraFees": "",
        "createdTime": ms(order.created_ms),
        "updatedTime": ms(order.updated_ms),
    }


def closed_size(fill: Fill) -> Decimal:
    """How much of the fill closed an existing position."""
    start = fill.start_position
    if start == 0 or (start > 0) == (fill.side.value == "BUY"):
        return ZERO
    return min(abs(start), fill.qty)


def execution_view(instrument: Instrument, fill: Fill, order: Order | None) -> dict[str, object]:
    """One execution of ``/v5/execution/list`` (``order`` is ``None`` for seeded history)."""
    rate = instrument.maker_fee if fill.is_maker else instrument.taker_fee
    if order is not None:
        kind = "Market" if order.kind is OrderKind.MARKET else "Limit"
        order_qty, order_price = order.qty, order.price or fill.price
        stop_type = "Stop" if order.trigger is not None else "UNKNOWN"
        link_id = order.client_id or ""
    else:
        kind = "Limit" if fill.is_maker else "Market"
        order_qty, order_price, stop_type, link_id = fill.qty, fill.price, "UNKNOWN", ""
    return {
        "symbol": instrument.venue_symbol,
        "orderType": kind,
        "underlyingPrice": "",
        "orderLinkId": link_id,
        "orderId": order_uuid(fill.order_id),
        "stopOrderType": stop_type,
        "execTime": ms(fill.time_ms),
        "feeCurrency": "",
        "createType": "CreateByUser",
        "feeRate": plain(rate),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": price_text(instrument, fill.price),
        "execPrice": price_text(instrument, fill.price),
        "markIv": "",
        "orderQty": qty_text(instrument, order_qty),
        "orderPrice": price_text(instrument, order_price),
        "execValue": money(fill.notional),
        "closedSize": qty_text(instrument, closed_size(fill)),
        "execType": "Trade",
        "seq": fill.id,
        "side": side_text(fill.side.value),
        "indexPrice": "",
        "leavesQty": qty_text(instrument, order.remaining if order and order.is_open else ZERO),
        "isMaker": fill.is_maker,
        "execFee": money(fill.fee + fill.extra_fee),
        "execId": exec_uuid(fill.id),
        "marketUnit": "",
        "execQty": qty_text(instrument, fill.qty),
        "extraFees": "",
    }
