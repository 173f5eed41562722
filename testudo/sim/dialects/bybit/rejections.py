"""Bybit's answers to the orders the matching engine refuses (``retCode`` and ``retMsg``)."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.dialects.bybit.errors import BybitError, invalid
from testudo.sim.dialects.bybit.formats import decimals
from testudo.sim.engine import Engine
from testudo.sim.instruments import Instrument
from testudo.sim.model import OrderRequest, Reason, Rejected
from testudo.sim.money import plain

SIMPLE: dict[Reason, tuple[int, str]] = {
    Reason.QTY_TOO_SMALL: (10001, "The number of contracts exceeds minimum limit allowed"),
    Reason.QTY_TOO_LARGE: (10001, "The number of contracts exceeds maximum limit allowed"),
    Reason.DUPLICATE_CLIENT_ID: (110072, "OrderLinkedID is duplicate"),
    Reason.UNKNOWN_ORDER: (110001, "order not exists or too late to cancel"),
    Reason.POST_ONLY_WOULD_MATCH: (
        10001,
        "params error: PostOnly order would take liquidity",
    ),
}
INVALID: dict[Reason, str] = {
    Reason.UNKNOWN_SYMBOL: "symbol",
    Reason.INVALID_QTY: "qty",
    Reason.QTY_STEP: "qty",
    Reason.INVALID_PRICE: "price",
    Reason.PRICE_REQUIRED: "price",
    Reason.INVALID_LEVERAGE: "leverage",
}


def scaled_price(instrument: Instrument, price: Decimal) -> int:
    """A price as Bybit prints it in trigger messages: an integer count of
    10**-(priceScale + 2) (``62734.30`` -> ``627343000``)."""
    return int(price.scaleb(decimals(instrument.tick_size) + 2))


def would_trigger(instrument: Instrument, request: OrderRequest, last: Decimal) -> BybitError:
    """``110092`` / ``110093``: the conditional order's condition already holds."""
    assert request.trigger is not None
    trigger = scaled_price(instrument, request.trigger.price)
    current = scaled_price(instrument, last)
    if request.trigger.above:
        return BybitError(
            110092,
            f"expect Rising, but trigger_price[{trigger}] <= current[{current}]??LastPrice",
        )
    return BybitError(
        110093, f"expect Falling, but trigger_price[{trigger}] >= current[{current}]??LastPrice"
    )


def reduce_only_refused(engine: Engine, account_id: int, request: OrderRequest) -> BybitError:
    """``110017``: nothing to reduce, or the order would add to the position."""
    size = engine.position(account_id, request.symbol).size
    if size == 0:
        return BybitError(110017, "current position is zero, cannot fix reduce-only order qty")
    return BybitError(110017, "reduce-only order has same side with current position")


def rejection(
    exc: Rejected,
    request: OrderRequest,
    engine: Engine,
    account_id: int,
    instrument: Instrument,
) -> BybitError:
    """The Bybit error for an order the engine refused."""
    reason = exc.reason
    if reason is Reason.WOULD_TRIGGER:
        return would_trigger(instrument, request, engine.mark(instrument.symbol))
    if reason is Reason.REDUCE_ONLY_REJECTED:
        return reduce_only_refused(engine, account_id, request)
    if reason is Reason.INSUFFICIENT_MARGIN:
        if engine.account(account_id).wallet_balance <= 0:
            return BybitError(110004, "Wallet balance is insufficient")
        return BybitError(110007, "ab not enough for new order")
    if reason is Reason.MIN_NOTIONAL:
        minimum = plain(instrument.min_notional)
        return BybitError(110094, f"Order does not meet minimum order value {minimum}USDT")
    if reason in SIMPLE:
        code, msg = SIMPLE[reason]
        return BybitError(code, msg)
    return invalid(INVALID.get(reason, reason.value))
