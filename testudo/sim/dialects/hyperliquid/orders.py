"""Hyperliquid order wire format: parsing orders, reporting statuses and rejections."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from testudo.sim.dialects.hyperliquid import views
from testudo.sim.dialects.hyperliquid.common import CLOID, WireError
from testudo.sim.engine import Engine, PlaceResult
from testudo.sim.instruments import Instrument
from testudo.sim.model import (
    OrderKind,
    OrderRequest,
    Reason,
    Rejected,
    Side,
    TimeInForce,
    TriggerKind,
    trigger_for,
)
from testudo.sim.money import parse_decimal

TIF = {"Gtc": TimeInForce.GTC, "Ioc": TimeInForce.IOC, "Alo": TimeInForce.POST_ONLY}


def order_request(
    by_index: Mapping[int, Instrument], wire: object, extra: Decimal, grouping: str
) -> tuple[OrderRequest, Instrument]:
    """Parse one wire order (``{a, b, p, s, r, t, c}``)."""
    if not isinstance(wire, dict):
        raise WireError("order must be an object")
    asset = wire.get("a")
    instrument = by_index.get(asset) if isinstance(asset, int) else None
    if instrument is None:
        raise WireError(f"unknown asset {asset!r}")
    buy = wire.get("b")
    reduce_only = wire.get("r", False)
    kind_spec = wire.get("t")
    if not isinstance(buy, bool) or not isinstance(reduce_only, bool):
        raise WireError("b and r must be booleans")
    if not isinstance(wire.get("p"), str) or not isinstance(wire.get("s"), str):
        raise WireError("p and s must be strings")
    price = parse_decimal(wire["p"])
    size = parse_decimal(wire["s"])
    cloid = wire.get("c")
    if cloid is not None and (not isinstance(cloid, str) or not CLOID.match(cloid)):
        raise WireError("cloid must be 16 bytes of hex")
    side = Side.BUY if buy else Side.SELL
    close_position = grouping == "positionTpsl" and size == 0
    if not isinstance(kind_spec, dict):
        raise WireError("t must be an object")
    if "limit" in kind_spec:
        limit = kind_spec["limit"]
        tif = TIF.get(str(limit.get("tif"))) if isinstance(limit, dict) else None
        if tif is None:
            raise WireError("tif must be Gtc, Ioc or Alo")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=OrderKind.LIMIT,
            qty=size,
            price=price,
            tif=tif,
            reduce_only=reduce_only,
            client_id=cloid,
            extra_fee_rate=extra,
        )
    elif "trigger" in kind_spec:
        spec = kind_spec["trigger"]
        if not isinstance(spec, dict) or spec.get("tpsl") not in ("tp", "sl"):
            raise WireError("trigger needs isMarket, triggerPx and tpsl")
        if not isinstance(spec.get("triggerPx"), str):
            raise WireError("triggerPx must be a string")
        is_market = bool(spec.get("isMarket"))
        trigger_kind = TriggerKind.TAKE_PROFIT if spec["tpsl"] == "tp" else TriggerKind.STOP
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=OrderKind.MARKET if is_market else OrderKind.LIMIT,
            qty=size,
            price=price,  # a market trigger's ``p`` bounds its fill; what cannot fill rests
            reduce_only=reduce_only,
            close_position=close_position,
            client_id=cloid,
            trigger=trigger_for(trigger_kind, side, parse_decimal(spec["triggerPx"])),
            extra_fee_rate=extra,
        )
    else:
        raise WireError("t must hold limit or trigger")
    return request, instrument


def bad_trigger_price(buy: bool, limit: Decimal, trigger: Decimal) -> bool:
    """Hyperliquid's "Invalid TP/SL price": a trigger order's limit ``p`` on the wrong side of
    its ``triggerPx`` (a sell above it, a buy below it), for stop-loss and take-profit alike.

    Once fired the order is a limit at ``p``; a sell limit above the trigger (or a buy below
    it) could not be the "worst acceptable price" of the exit the trigger asks for.
    """
    return limit < trigger if buy else limit > trigger


def check_trigger_price(request: OrderRequest) -> None:
    """Refuse a trigger order whose limit lies beyond its trigger (``Invalid TP/SL price``)."""
    trigger, limit = request.trigger, request.price
    if trigger is None or limit is None:
        return
    if bad_trigger_price(request.side is Side.BUY, limit, trigger.price):
        raise Rejected(Reason.INVALID_PRICE, "tpsl")


def check_reference(engine: Engine, instrument: Instrument, request: OrderRequest) -> None:
    """Refuse prices more than 80 % away from the mark."""
    price = (
        request.price
        if request.price is not None
        else (request.trigger.price if request.trigger else None)
    )
    mark = engine.mark(instrument.symbol)
    if price is not None and abs(price - mark) > mark * Decimal("0.8"):
        raise Rejected(Reason.INVALID_PRICE, "far")


def order_status(result: PlaceResult, instrument: Instrument) -> object:
    """The ``statuses`` entry of an accepted order."""
    order = result.order
    if order.is_open:
        resting: dict[str, object] = {"oid": order.id}
        if order.client_id:
            resting["cloid"] = order.client_id
        return {"resting": resting}
    if order.filled_qty > 0:
        filled: dict[str, object] = {
            "totalSz": views.num(order.filled_qty),
            "avgPx": views.num(order.average_price),
            "oid": order.id,
        }
        if order.client_id:
            filled["cloid"] = order.client_id
        return {"filled": filled}
    message = "Order could not immediately match against any resting orders."
    return {"error": f"{message} asset={instrument.index}"}


def rejection_message(exc: Rejected, instrument: Instrument) -> str:
    """Hyperliquid's error text for an engine rejection."""
    asset = f"asset={instrument.index}"
    if exc.reason is Reason.INVALID_PRICE and exc.detail == "far":
        return f"Order price cannot be more than 80% away from the reference price. {asset}"
    if exc.reason is Reason.INVALID_PRICE and exc.detail == "tpsl":
        return f"Invalid TP/SL price. {asset}"
    messages = {
        Reason.INSUFFICIENT_MARGIN: "Insufficient margin to place order.",
        Reason.MIN_NOTIONAL: "Order must have minimum value of $10.",
        Reason.INVALID_PRICE: "Price must be divisible by tick size.",
        Reason.INVALID_QTY: "Order has zero size.",
        Reason.QTY_STEP: "Order has invalid size.",
        Reason.QTY_TOO_SMALL: "Order has invalid size.",
        Reason.QTY_TOO_LARGE: "Order has invalid size.",
        Reason.REDUCE_ONLY_REJECTED: "Reduce only order would increase position.",
        Reason.POST_ONLY_WOULD_MATCH: "Post only order would have immediately matched.",
        Reason.NO_LIQUIDITY: "Order could not immediately match against any resting orders.",
        Reason.DUPLICATE_CLIENT_ID: "Order has duplicate cloid.",
        Reason.PRICE_REQUIRED: "Order has invalid price.",
    }
    return f"{messages.get(exc.reason, exc.reason.value)} {asset}"
