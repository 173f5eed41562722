"""JSON shapes of OKX orders, algo orders and fills (amounts in contracts)."""

from __future__ import annotations

from testudo.sim.dialects.okx.common import SWAP, TRIGGERED_ORDER_OFFSET, Contract, Venue
from testudo.sim.model import (
    CancelReason,
    Fill,
    Order,
    OrderKind,
    OrderStatus,
    Side,
    TimeInForce,
    TriggerKind,
)
from testudo.sim.money import plain

_ORD_TYPES = {
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}
TRADE_ID_SHIFT = 500_000_000_000_000_000
_STATES = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
}


def is_algo(order: Order) -> bool:
    """Whether the order was placed on ``order-algo`` (it has a trigger)."""
    return order.trigger is not None


def trade_id(fill: Fill) -> str:
    """A fill's ``tradeId``: unique, increasing, and unlike its ``billId`` (the paging key),
    as on OKX, so a client cannot page fills with the wrong one."""
    return str(fill.id - TRADE_ID_SHIFT)


def ord_id(order: Order) -> str:
    """The ``ordId`` of a regular order, or of the order a triggered algo order placed."""
    return str(order.id + TRIGGERED_ORDER_OFFSET if is_algo(order) else order.id)


def order_state(order: Order) -> str:
    """``live``, ``partially_filled``, ``filled`` or ``canceled``."""
    return _STATES[order.status]


def ord_type(order: Order) -> str:
    """``market``, ``limit``, ``ioc``, ``fok`` or ``post_only``."""
    if order.kind is OrderKind.MARKET:
        return "market"
    return _ORD_TYPES[order.tif]


def _cancel_source(order: Order) -> tuple[str, str]:
    if order.status not in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        return "", ""
    if order.cancel_reason is CancelReason.USER:
        return "1", "Order canceled by user"
    return "0", "Order canceled by system"


def order_view(venue: Venue, contract: Contract, order: Order) -> dict[str, object]:
    """A regular order (``/trade/order``, ``orders-pending``, ``orders-history``)."""
    algo = is_algo(order)
    fill = order.last_fill
    source, reason = _cancel_source(order)
    created = order.triggered_ms if algo and order.triggered_ms else order.created_ms
    return {
        "accFillSz": contract.contracts(order.filled_qty),
        "algoClOrdId": (order.client_id or "") if algo else "",
        "algoId": str(order.id) if algo else "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": plain(order.average_price) if order.filled_qty else "",
        "cTime": str(created),
        "cancelSource": source,
        "cancelSourceReason": reason,
        "category": "normal",
        "ccy": "",
        "clOrdId": "" if algo else (order.client_id or ""),
        "fee": plain(-order.fees),
        "feeCcy": contract.instrument.settle,
        "fillPx": plain(fill.price) if fill else "",
        "fillSz": contract.contracts(fill.qty) if fill else "0",
        "fillTime": str(fill.time_ms) if fill else "",
        "instId": contract.inst_id,
        "instType": SWAP,
        "isTpLimit": "false",
        "lever": str(venue.engine.leverage(order.account_id, order.symbol)),
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": ord_id(order),
        "ordType": ord_type(order),
        "pnl": plain(order.realized_pnl),
        "posSide": "net",
        "px": plain(order.price) if order.price is not None else "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": contract.instrument.settle,
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side.value.lower(),
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": order_state(order),
        "stpId": "",
        "stpMode": "cancel_maker",
        "sz": contract.contracts(order.qty),
        "tag": venue.meta_of(order).tag,
        "tdMode": "cross",
        "tgtCcy": "",
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": trade_id(fill) if fill else "",
        "uTime": str(order.updated_ms),
    }


def algo_state(order: Order) -> str:
    """``live`` until triggered, then ``effective`` (or ``order_failed`` when the order it
    placed was refused); ``canceled`` when canceled before triggering."""
    if order.triggered_ms is None:
        return "live" if order.is_open else "canceled"
    if order.filled_qty == 0 and order.cancel_reason in (
        CancelReason.MARGIN,
        CancelReason.REDUCE_ONLY,
    ):
        return "order_failed"
    return "effective"


def _algo_prices(venue: Venue, order: Order) -> dict[str, str]:
    """The trigger and order price fields of a ``conditional`` or ``trigger`` algo order."""
    assert order.trigger is not None
    meta = venue.meta_of(order)
    trigger = plain(order.trigger.price)
    price = plain(order.price) if order.price is not None else "-1"
    fields = dict.fromkeys(
        (
            "slTriggerPx",
            "slOrdPx",
            "slTriggerPxType",
            "tpTriggerPx",
            "tpOrdPx",
            "tpTriggerPxType",
            "triggerPx",
            "ordPx",
            "triggerPxType",
        ),
        "",
    )
    if meta.algo_type == "trigger":
        fields.update(triggerPx=trigger, ordPx=price, triggerPxType=meta.trigger_px_type)
    elif order.trigger.kind is TriggerKind.STOP:
        fields.update(slTriggerPx=trigger, slOrdPx=price, slTriggerPxType=meta.trigger_px_type)
    else:
        fields.update(tpTriggerPx=trigger, tpOrdPx=price, tpTriggerPxType=meta.trigger_px_type)
    return fields


def algo_view(venue: Venue, contract: Contract, order: Order) -> dict[str, object]:
    """An algo order (``order-algo``, ``orders-algo-pending``, ``orders-algo-history``)."""
    assert order.trigger is not None
    meta = venue.meta_of(order)
    triggered = order.triggered_ms is not None
    kind = "sl" if order.trigger.kind is TriggerKind.STOP else "tp"
    state = algo_state(order)
    placed = triggered and state != "order_failed"
    return {
        "activePx": "",
        "actualPx": plain(order.average_price) if order.filled_qty else "",
        "actualSide": kind if triggered and meta.algo_type == "conditional" else "",
        "actualSz": contract.contracts(order.qty) if triggered else "0",
        "algoClOrdId": order.client_id or "",
        "algoId": str(order.id),
        "amendPxOnTriggerType": "0",
        "attachAlgoOrds": [],
        "cTime": str(order.created_ms),
        "callbackRatio": "",
        "callbackSpread": "",
        "ccy": "",
        "clOrdId": meta.cl_ord_id or order.client_id or "",
        "closeFraction": meta.close_fraction,
        "failCode": "51169" if state == "order_failed" else "0",
        "instId": contract.inst_id,
        "instType": SWAP,
        "last": plain(venue.engine.mark(order.symbol)),
        "lever": str(venue.engine.leverage(order.account_id, order.symbol)),
        "linkedOrd": {"ordId": ""},
        "moveTriggerPx": "",
        "ordId": ord_id(order) if placed else "",
        "ordIdList": [ord_id(order)] if placed else [],
        "ordType": meta.algo_type or "conditional",
        "posSide": "net",
        "quickMgnType": "",
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side.value.lower(),
        "state": state,
        "sz": "" if order.close_position else contract.contracts(order.qty),
        "tag": meta.tag,
        "tdMode": "cross",
        "tgtCcy": "",
        "triggerTime": str(order.triggered_ms) if triggered else "",
        "uTime": str(order.updated_ms),
        **_algo_prices(venue, order),
    }


def _sub_type(fill: Fill) -> str:
    """Open long 3, open short 4, close long 5, close short 6 (net mode)."""
    opening = fill.start_position == 0 or (fill.start_position > 0) == (fill.side is Side.BUY)
    if opening:
        return "3" if fill.side is Side.BUY else "4"
    return "6" if fill.side is Side.BUY else "5"


def fill_view(venue: Venue, contract: Contract, fill: Fill) -> dict[str, object]:
    """A fill (``/trade/fills``, ``/trade/fills-history``)."""
    account = venue.engine.accounts[fill.account_id]
    order = account.orders.get(fill.order_id)
    algo = order is not None and is_algo(order)
    rate = contract.instrument.maker_fee if fill.is_maker else contract.instrument.taker_fee
    return {
        "side": fill.side.value.lower(),
        "fillSz": contract.contracts(fill.qty),
        "fillPx": plain(fill.price),
        "fillPxVol": "",
        "fillFwdPx": "",
        "fee": plain(-(fill.fee + fill.extra_fee)),
        "fillPnl": plain(fill.realized_pnl),
        "ordId": ord_id(order) if order is not None else str(fill.order_id),
        "feeRate": plain(-rate),
        "instType": SWAP,
        "fillPxUsd": "",
        "instId": contract.inst_id,
        "clOrdId": "" if algo else (fill.client_id or ""),
        "posSide": "net",
        "billId": str(fill.id),
        "subType": _sub_type(fill),
        "fillMarkVol": "",
        "tag": venue.meta_of(order).tag if order is not None else "",
        "fillTime": str(fill.time_ms),
        "execType": "M" if fill.is_maker else "T",
        "fillIdxPx": "",
        "tradeId": trade_id(fill),
        "fillMarkPx": "",
        "feeCcy": fill.fee_asset,
        "ts": str(fill.time_ms),
    }
