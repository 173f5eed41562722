"""JSON shapes of Bybit's public market data (``/v5/market/...``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from testudo.sim.book import Level
from testudo.sim.dialects.bybit.formats import decimals, price_text, qty_text
from testudo.sim.dialects.bybit.ids import exec_uuid
from testudo.sim.instruments import Instrument
from testudo.sim.model import PublicTrade
from testudo.sim.money import ZERO, fixed, plain

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
FUNDING_INTERVAL_MS = 8 * HOUR_MS
FUNDING_RATE = "0.0001"
LAUNCH_MS = {"BTC": 1_585_526_400_000, "ETH": 1_615_766_400_000, "SOL": 1_633_651_200_000}
MAX_PRICE = {"BTC": Decimal("2000000"), "ETH": Decimal("200000"), "SOL": Decimal("20000")}


def instrument_view(instrument: Instrument) -> dict[str, object]:
    """One entry of ``GET /v5/market/instruments-info?category=linear``."""
    tick = instrument.tick_size
    max_price = MAX_PRICE.get(instrument.base, Decimal(10**6)) - tick
    return {
        "symbol": instrument.venue_symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": instrument.base,
        "quoteCoin": instrument.settle,
        "launchTime": str(LAUNCH_MS.get(instrument.base, LAUNCH_MS["BTC"])),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(decimals(tick)),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": fixed(Decimal(instrument.max_leverage), 2),
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": price_text(instrument, tick),
            "maxPrice": price_text(instrument, max_price),
            "tickSize": price_text(instrument, tick),
        },
        "lotSizeFilter": {
            "maxOrderQty": qty_text(instrument, instrument.max_qty),
            "minOrderQty": qty_text(instrument, instrument.min_qty),
            "qtyStep": qty_text(instrument, instrument.lot_size),
            "postOnlyMaxOrderQty": qty_text(instrument, instrument.max_qty),
            "maxMktOrderQty": qty_text(instrument, market_max_qty(instrument)),
            "minNotionalValue": plain(instrument.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": FUNDING_INTERVAL_MS // 60_000,
        "settleCoin": instrument.settle,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "displayName": "",
    }


def market_max_qty(instrument: Instrument) -> Decimal:
    """``maxMktOrderQty``: a tenth of the limit-order maximum, as Bybit lists it."""
    return instrument.max_qty / 10


def next_funding_ms(now_ms: int) -> int:
    """The next 00:00 / 08:00 / 16:00 UTC."""
    return (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS


def ticker_view(
    instrument: Instrument,
    mark: Decimal,
    best: tuple[Level, Level],
    tape: Sequence[PublicTrade],
    now_ms: int,
) -> dict[str, object]:
    """One entry of ``GET /v5/market/tickers?category=linear`` over the public tape."""
    day = [t for t in tape if t.time_ms >= now_ms - DAY_MS]
    hour = [t for t in day if t.time_ms >= now_ms - HOUR_MS]
    open_price = day[0].price if day else mark
    volume = sum((t.qty for t in day), ZERO)
    turnover = sum((t.qty * t.price for t in day), ZERO)
    bid, ask = best
    return {
        "symbol": instrument.venue_symbol,
        "lastPrice": price_text(instrument, mark),
        "indexPrice": price_text(instrument, mark),
        "markPrice": price_text(instrument, mark),
        "prevPrice24h": price_text(instrument, open_price),
        "price24hPcnt": fixed((mark - open_price) / open_price, 6),
        "highPrice24h": price_text(instrument, max([t.price for t in day] + [mark])),
        "lowPrice24h": price_text(instrument, min([t.price for t in day] + [mark])),
        "prevPrice1h": price_text(instrument, hour[0].price if hour else mark),
        "openInterest": "0",
        "openInterestValue": "0.00",
        "turnover24h": fixed(turnover, 4),
        "volume24h": qty_text(instrument, volume),
        "fundingRate": FUNDING_RATE,
        "nextFundingTime": str(next_funding_ms(now_ms)),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": qty_text(instrument, ask.qty),
        "bid1Price": price_text(instrument, bid.price),
        "ask1Price": price_text(instrument, ask.price),
        "bid1Size": qty_text(instrument, bid.qty),
        "basis": "",
    }


def book_view(
    instrument: Instrument, bids: list[Level], asks: list[Level], now_ms: int, update: int
) -> dict[str, object]:
    """``GET /v5/market/orderbook``."""
    return {
        "s": instrument.venue_symbol,
        "b": [[price_text(instrument, lv.price), qty_text(instrument, lv.qty)] for lv in bids],
        "a": [[price_text(instrument, lv.price), qty_text(instrument, lv.qty)] for lv in asks],
        "ts": now_ms,
        "u": update,
        "seq": update,
        "cts": now_ms,
    }


def public_trade_view(instrument: Instrument, trade: PublicTrade) -> dict[str, object]:
    """One entry of ``GET /v5/market/recent-trade`` (``side`` is the taker's)."""
    return {
        "execId": exec_uuid(trade.id),
        "symbol": instrument.venue_symbol,
        "price": price_text(instrument, trade.price),
        "size": qty_text(instrument, trade.qty),
        "side": "Sell" if trade.buyer_is_maker else "Buy",
        "time": str(trade.time_ms),
        "isBlockTrade": False,
        "isRPITrade": False,
    }
