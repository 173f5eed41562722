"""JSON shapes of Binance USD-M responses."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from testudo.sim.engine import Engine
from testudo.sim.funding import Payment
from testudo.sim.instruments import Instrument
from testudo.sim.model import Fill, Order, OrderKind, OrderStatus, PublicTrade, TimeInForce
from testudo.sim.money import ZERO, fixed, plain, quantize
from testudo.sim.positions import unrealized_pnl

PRICE_QUANTUM = Decimal("0.00000001")
# exchangeInfo MAX_NUM_ALGO_ORDERS of BTCUSDT (and the simulator's other symbols): open
# conditional (algo) orders per symbol; the next one is refused with -4045.
MAX_NUM_ALGO_ORDERS = 10
ONBOARD_MS = 1_569_398_400_000
DELIVERY_MS = 4_133_404_800_000
_TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTX",
}
ORDER_TYPES = [
    "LIMIT",
    "MARKET",
    "STOP",
    "STOP_MARKET",
    "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
]


def decimals(step: Decimal) -> int:
    """Decimals shown for values on a ``step`` grid (``0.10`` → 2)."""
    exponent = step.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def price_text(instrument: Instrument, value: Decimal) -> str:
    """A price with the instrument's price precision."""
    return fixed(value, decimals(instrument.tick_size))


def qty_text(instrument: Instrument, value: Decimal) -> str:
    """A quantity with the instrument's quantity precision."""
    return fixed(value, decimals(instrument.lot_size))


def money(value: Decimal) -> str:
    """An amount of USDT with 8 decimals."""
    return fixed(value, 8)


def symbol_filters(instrument: Instrument) -> list[dict[str, object]]:
    """The ``filters`` of a symbol in ``exchangeInfo``."""
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": price_text(instrument, instrument.tick_size),
            "maxPrice": "10000000",
            "tickSize": price_text(instrument, instrument.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": qty_text(instrument, instrument.min_qty),
            "maxQty": plain(instrument.max_qty),
            "stepSize": qty_text(instrument, instrument.lot_size),
        },
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": qty_text(instrument, instrument.min_qty),
            "maxQty": plain(instrument.max_qty),
            "stepSize": qty_text(instrument, instrument.lot_size),
        },
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": MAX_NUM_ALGO_ORDERS},
        {"filterType": "MIN_NOTIONAL", "notional": plain(instrument.min_notional)},
        {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": "1.0500",
            "multiplierDown": "0.9500",
            "multiplierDecimal": "4",
        },
    ]


def exchange_info(engine: Engine, now_ms: int) -> dict[str, object]:
    """``GET /fapi/v1/exchangeInfo``."""
    symbols = []
    for instrument in engine.instruments.values():
        price_places = decimals(instrument.tick_size)
        qty_places = decimals(instrument.lot_size)
        symbols.append(
            {
                "symbol": instrument.venue_symbol,
                "pair": instrument.venue_symbol,
                "contractType": "PERPETUAL",
                "deliveryDate": DELIVERY_MS,
                "onboardDate": ONBOARD_MS,
                "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000",
                "baseAsset": instrument.base,
                "quoteAsset": instrument.settle,
                "marginAsset": instrument.settle,
                "pricePrecision": price_places,
                "quantityPrecision": qty_places,
                "baseAssetPrecision": 8,
                "quotePrecision": 8,
                "underlyingType": "COIN",
                "underlyingSubType": [],
                "triggerProtect": "0.0500",
                "liquidationFee": "0.012500",
                "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": symbol_filters(instrument),
                "orderTypes": ORDER_TYPES,
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                "permissionSet": ["GRID", "COPY"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [
            {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
        ],
        "symbols": symbols,
    }


def order_type(order: Order) -> str:
    """Binance's order type name."""
    if order.trigger is None:
        return order.kind.value
    prefix = "STOP" if order.trigger.kind.value == "sl" else "TAKE_PROFIT"
    return f"{prefix}_MARKET" if order.kind is OrderKind.MARKET else prefix


def order_view(instrument: Instrument, order: Order) -> dict[str, object]:
    """A regular order (``/fapi/v1/order``)."""
    triggered_type = order_type(order)
    return {
        "orderId": order.id,
        "symbol": instrument.venue_symbol,
        "status": order.status.value,
        "clientOrderId": order.client_id,
        "price": price_text(instrument, order.price or ZERO),
        "avgPrice": price_text(instrument, order.average_price),
        "origQty": qty_text(instrument, order.qty),
        "executedQty": qty_text(instrument, order.filled_qty),
        "cumQty": qty_text(instrument, order.filled_qty),
        "cumQuote": plain(order.filled_notional),
        "timeInForce": _TIF[order.tif],
        "type": order.kind.value,
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side.value,
        "positionSide": "BOTH",
        "stopPrice": price_text(instrument, order.trigger.price if order.trigger else ZERO),
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": triggered_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": order.created_ms,
        "updateTime": order.updated_ms,
    }


def algo_status(order: Order) -> str:
    """Status of a conditional order in the algo service."""
    if order.triggered_ms is None:
        return "NEW" if order.is_open else str(order.status.value)
    if order.is_open:
        return "TRIGGERED"
    if order.status is OrderStatus.FILLED:
        return "FINISHED"
    return str(order.status.value)


def algo_view(instrument: Instrument, order: Order) -> dict[str, object]:
    """A conditional order (``/fapi/v1/algoOrder``)."""
    assert order.trigger is not None
    triggered = order.triggered_ms is not None
    return {
        "algoId": order.id,
        "clientAlgoId": order.client_id,
        "algoType": "CONDITIONAL",
        "orderType": order_type(order),
        "symbol": instrument.venue_symbol,
        "side": order.side.value,
        "positionSide": "BOTH",
        "timeInForce": _TIF[order.tif],
        "quantity": qty_text(instrument, order.qty),
        "algoStatus": algo_status(order),
        "actualOrderId": str(order.id) if triggered else "",
        "actualPrice": price_text(instrument, order.average_price) if triggered else "0",
        "triggerPrice": price_text(instrument, order.trigger.price),
        "price": price_text(instrument, order.price or ZERO),
        "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE",
        "closePosition": order.close_position,
        "priceProtect": False,
        "reduceOnly": order.reduce_only,
        "createTime": order.created_ms,
        "updateTime": order.updated_ms,
        "triggerTime": order.triggered_ms or 0,
        "goodTillDate": 0,
    }


def trade_view(instrument: Instrument, fill: Fill) -> dict[str, object]:
    """A user trade (``/fapi/v1/userTrades``)."""
    return {
        "buyer": fill.side.value == "BUY",
        "commission": money(fill.fee + fill.extra_fee),
        "commissionAsset": fill.fee_asset,
        "id": fill.id,
        "maker": fill.is_maker,
        "orderId": fill.order_id,
        "price": price_text(instrument, fill.price),
        "qty": qty_text(instrument, fill.qty),
        "quoteQty": plain(fill.notional),
        "realizedPnl": money(fill.realized_pnl),
        "side": fill.side.value,
        "positionSide": "BOTH",
        "symbol": instrument.venue_symbol,
        "time": fill.time_ms,
    }


def income_view(instrument: Instrument, payment: Payment) -> dict[str, object]:
    """A funding payment as ``/fapi/v1/income`` shows it (``income`` < 0: paid)."""
    return {
        "symbol": instrument.venue_symbol,
        "incomeType": "FUNDING_FEE",
        "income": money(payment.amount),
        "asset": instrument.settle,
        "info": "FUNDING_FEE",
        "time": payment.time_ms,
        "tranId": payment.id,
        "tradeId": "",
    }


def position_risk_view(
    engine: Engine, account_id: int, symbol: str, side: str = "BOTH", amount: Decimal | None = None
) -> dict[str, object]:
    """One entry of ``GET /fapi/v3/positionRisk`` (``side``/``amount``: a hedge-mode row)."""
    instrument = engine.instruments[symbol]
    pos = engine.position(account_id, symbol)
    size = pos.size if amount is None else amount
    mark = engine.mark(symbol)
    notional = size * mark
    leverage = engine.leverage(account_id, symbol)
    orders = engine.open_orders(account_id, symbol)
    order_margin = sum(
        (
            o.remaining * o.price / leverage
            for o in orders
            if o.price is not None and not o.reduce_only and not o.awaiting_trigger
        ),
        ZERO,
    )
    return {
        "symbol": instrument.venue_symbol,
        "positionSide": side,
        "positionAmt": qty_text(instrument, size),
        "entryPrice": plain(quantize(pos.entry_price if size else ZERO, PRICE_QUANTUM)),
        "breakEvenPrice": plain(quantize(pos.entry_price if size else ZERO, PRICE_QUANTUM)),
        "markPrice": price_text(instrument, mark),
        "unRealizedProfit": money(unrealized_pnl(size, pos.entry_price, mark)),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": money(notional),
        "marginAsset": instrument.settle,
        "isolatedWallet": "0",
        "initialMargin": money(abs(notional) / leverage + order_margin),
        "maintMargin": money(abs(notional) * Decimal("0.004")),
        "positionInitialMargin": money(abs(notional) / leverage),
        "openOrderInitialMargin": money(order_margin),
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.updated_ms,
    }


def leverage_bracket(instrument: Instrument) -> dict[str, object]:
    """``GET /fapi/v1/leverageBracket`` entry (a simplified tier table)."""
    tiers = [
        (instrument.max_leverage, 0, 50_000, "0.004"),
        (max(1, instrument.max_leverage // 2), 50_000, 600_000, "0.005"),
        (max(1, instrument.max_leverage // 5), 600_000, 3_000_000, "0.01"),
        (max(1, instrument.max_leverage // 10), 3_000_000, 20_000_000, "0.025"),
        (1, 20_000_000, 500_000_000, "0.5"),
    ]
    return {
        "symbol": instrument.venue_symbol,
        "notionalCoef": 1.0,
        "brackets": [
            {
                "bracket": n + 1,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(ratio),
                "cum": 0.0,
            }
            for n, (lev, floor, cap, ratio) in enumerate(tiers)
        ],
    }


def ticker_view(
    instrument: Instrument, mark: Decimal, tape: Sequence[PublicTrade], now_ms: int
) -> dict[str, object]:
    """``GET /fapi/v1/ticker/24hr`` over the recent public tape."""
    window = [t for t in tape if t.time_ms >= now_ms - 86_400_000]
    open_price = window[0].price if window else mark
    high = max([t.price for t in window] + [mark])
    low = min([t.price for t in window] + [mark])
    volume = sum((t.qty for t in window), ZERO)
    quote = sum((t.qty * t.price for t in window), ZERO)
    change = mark - open_price
    return {
        "symbol": instrument.venue_symbol,
        "priceChange": price_text(instrument, change),
        "priceChangePercent": fixed(change / open_price * 100, 3),
        "weightedAvgPrice": price_text(instrument, quote / volume if volume else mark),
        "lastPrice": price_text(instrument, mark),
        "lastQty": qty_text(instrument, window[-1].qty if window else ZERO),
        "openPrice": price_text(instrument, open_price),
        "highPrice": price_text(instrument, high),
        "lowPrice": price_text(instrument, low),
        "volume": qty_text(instrument, volume),
        "quoteVolume": fixed(quote, 2),
        "openTime": window[0].time_ms if window else now_ms - 86_400_000,
        "closeTime": now_ms,
        "firstId": window[0].id if window else 0,
        "lastId": window[-1].id if window else 0,
        "count": len(window),
    }


def agg_trade_view(instrument: Instrument, trade: PublicTrade) -> dict[str, object]:
    """``GET /fapi/v1/aggTrades`` entry."""
    return {
        "a": trade.id,
        "p": price_text(instrument, trade.price),
        "q": qty_text(instrument, trade.qty),
        "f": trade.id,
        "l": trade.id,
        "T": trade.time_ms,
        "m": trade.buyer_is_maker,
    }


def public_trade_view(instrument: Instrument, trade: PublicTrade) -> dict[str, object]:
    """``GET /fapi/v1/trades`` entry."""
    return {
        "id": trade.id,
        "price": price_text(instrument, trade.price),
        "qty": qty_text(instrument, trade.qty),
        "quoteQty": plain(trade.price * trade.qty),
        "time": trade.time_ms,
        "isBuyerMaker": trade.buyer_is_maker,
    }
