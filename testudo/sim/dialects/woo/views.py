"""JSON shapes of WOO X answers (the ``data`` of the v3 envelope, the rows of v1).

Decimals are strings (as WOO's current v3 answers carry them), regular orders carry
millisecond ``createdTime`` strings and algo orders ``"seconds.millis"`` ones, as in ccxt's
recorded WOO answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from testudo.sim.dialects.woo.common import wire_client_id
from testudo.sim.engine import Account
from testudo.sim.instruments import Instrument
from testudo.sim.model import Fill, Order, OrderKind, OrderStatus, TimeInForce, TriggerKind
from testudo.sim.money import ZERO, plain, quantize

QUANTUM = Decimal("0.00000001")
_REGULAR_TYPES = {
    TimeInForce.GTC: "LIMIT",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "POST_ONLY",
}
_STATUSES = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIAL_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.EXPIRED: "CANCELLED",
}


def dec(value: Decimal) -> str:
    """A decimal as WOO prints it: at most 8 decimals, no trailing zeros."""
    return plain(quantize(value, QUANTUM))


def secs(ms: int) -> str:
    """A millisecond time as ``"seconds.millis"``."""
    return f"{ms // 1000}.{ms % 1000:03d}"


@attrs.frozen
class Execution:
    """What an order's fills add up to: fees and realised profit."""

    fee: Decimal = ZERO
    realized_pnl: Decimal = ZERO


def executions(account: Account, orders: Iterable[Order]) -> dict[int, Execution]:
    """Fees and realised P&L per order id, from the fills since the oldest order was made."""
    wanted = {o.id: o.created_ms for o in orders}
    if not wanted:
        return {}
    sums: dict[int, Execution] = {}
    for fill in account.fills.between(min(wanted.values()), None, len(account.fills)):
        if fill.order_id in wanted:
            seen = sums.get(fill.order_id, Execution())
            sums[fill.order_id] = Execution(
                seen.fee + fill.fee + fill.extra_fee, seen.realized_pnl + fill.realized_pnl
            )
    return sums


def order_type(order: Order) -> str:
    """WOO's order type: LIMIT, MARKET, IOC, FOK or POST_ONLY."""
    if order.kind is OrderKind.MARKET:
        return "MARKET"
    return _REGULAR_TYPES[order.tif]


def order_status(order: Order) -> str:
    """WOO's order status (NEW, PARTIAL_FILLED, FILLED, CANCELLED)."""
    return _STATUSES[order.status]


def algo_type(order: Order) -> str:
    """How WOO reports a STOP algo order: STOP_LOSS or TAKE_PROFIT, by its trigger side."""
    assert order.trigger is not None
    return "STOP_LOSS" if order.trigger.kind is TriggerKind.STOP else "TAKE_PROFIT"


def order_view(
    instrument: Instrument, order: Order, done: Execution, *, with_pnl: bool = False
) -> dict[str, object]:
    """A regular order (``GET /v3/trade/order``, rows of ``/v3/trade/orders``)."""
    return {
        "orderId": str(order.id),
        "clientOrderId": str(wire_client_id(order.client_id)),
        "symbol": instrument.venue_symbol,
        "orderTag": "default",
        "side": order.side.value,
        "quantity": dec(order.qty),
        "amount": None,
        "type": order_type(order),
        "status": order_status(order),
        "price": None if order.price is None else dec(order.price),
        "executed": dec(order.filled_qty),
        "visible": dec(order.remaining if order.is_open else ZERO),
        "averageExecutedPrice": dec(order.average_price),
        "totalFee": dec(done.fee),
        "feeAsset": instrument.settle,
        "totalRebate": "0",
        "rebateAsset": instrument.settle,
        "reduceOnly": order.reduce_only,
        "createdTime": str(order.created_ms),
        "realizedPnl": dec(done.realized_pnl) if with_pnl else None,
        "positionSide": "BOTH",
        "marginMode": "CROSS",
        "bidAskLevel": None,
    }


def created_order(order: Order) -> dict[str, object]:
    """The answer to ``POST /v3/trade/order``."""
    return {
        "orderId": order.id,
        "clientOrderId": wire_client_id(order.client_id),
        "type": order_type(order),
        "price": None if order.price is None else dec(order.price),
        "quantity": dec(order.qty),
        "amount": None,
        "bidAskLevel": None,
    }


def algo_status(order: Order) -> str:
    """WOO's ``algoStatus``: NEW until it fires and while its order works, then final."""
    return _STATUSES[order.status]


def algo_view(instrument: Instrument, order: Order, done: Execution) -> dict[str, object]:
    """An algo order (``GET /v3/trade/algoOrder``, rows of ``/v3/trade/algoOrders``)."""
    assert order.trigger is not None
    triggered = order.triggered_ms is not None
    status = algo_status(order)
    return {
        "algoOrderId": order.id,
        "clientAlgoOrderId": wire_client_id(order.client_id),
        "rootAlgoOrderId": order.id,
        "parentAlgoOrderId": 0,
        "symbol": instrument.venue_symbol,
        "algoOrderTag": "default",
        "algoType": algo_type(order),
        "side": order.side.value,
        "quantity": dec(order.qty),
        "isTriggered": triggered,
        "triggerPrice": dec(order.trigger.price),
        "triggerStatus": "SUCCESS" if triggered else "USELESS",
        "type": order.kind.value,
        "rootAlgoStatus": status,
        "algoStatus": status,
        "triggerPriceType": "MARKET_PRICE",
        "price": None if order.price is None else dec(order.price),
        "triggerTime": secs(order.triggered_ms) if order.triggered_ms else "0",
        "totalExecutedQuantity": dec(order.filled_qty),
        "visibleQuantity": dec(order.remaining if order.is_open else ZERO),
        "averageExecutedPrice": dec(order.average_price),
        "totalFee": dec(done.fee),
        "feeAsset": instrument.settle if order.filled_qty else "",
        "totalRebate": "0",
        "rebateAsset": "",
        "reduceOnly": order.reduce_only,
        "createdTime": secs(order.created_ms),
        "updatedTime": secs(order.updated_ms),
        "positionSide": "BOTH",
    }


def created_algo(order: Order) -> dict[str, object]:
    """The answer to ``POST /v3/trade/algoOrder``."""
    return {
        "rows": [
            {
                "algoOrderId": order.id,
                "clientAlgoOrderId": wire_client_id(order.client_id),
                "algoType": algo_type(order),
                "quantity": dec(order.qty),
            }
        ]
    }


def transaction_row(instrument: Instrument, fill: Fill) -> dict[str, object]:
    """One fill of ``GET /v3/trade/transactionHistory``."""
    return {
        "id": fill.id,
        "symbol": instrument.venue_symbol,
        "orderId": fill.order_id,
        "orderTag": "default",
        "executedPrice": dec(fill.price),
        "executedQuantity": dec(fill.qty),
        "isMaker": 1 if fill.is_maker else 0,
        "side": fill.side.value,
        "fee": dec(fill.fee + fill.extra_fee),
        "feeAsset": fill.fee_asset,
        "realizedPnl": dec(fill.realized_pnl),
        "executedTimestamp": secs(fill.time_ms),
    }


def v1_trade_row(instrument: Instrument, fill: Fill) -> dict[str, object]:
    """One fill of ``GET /v1/order/{oid}/trades`` (v1 snake-case names)."""
    return {
        "id": fill.id,
        "symbol": instrument.venue_symbol,
        "order_id": fill.order_id,
        "order_tag": "default",
        "executed_price": dec(fill.price),
        "executed_quantity": dec(fill.qty),
        "is_maker": 1 if fill.is_maker else 0,
        "side": fill.side.value,
        "fee": dec(fill.fee + fill.extra_fee),
        "fee_asset": fill.fee_asset,
        "executed_timestamp": secs(fill.time_ms),
    }
