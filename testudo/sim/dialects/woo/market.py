"""WOO X public data: what ccxt's ``load_markets`` and ``fetch_ticker`` read, plus the book.

``load_markets`` calls ``GET /v3/public/instruments`` and, for currencies, the v1
``GET /v1/public/token`` and ``GET /v1/public/token_network``; ``fetch_ticker`` reads
``GET /v3/public/futures``. The v1 ``/v1/public/info`` symbol list is served too.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo.common import (
    Envelope,
    Params,
    Route,
    RouteTable,
    VenueContext,
    int_param,
)
from testudo.sim.dialects.woo.views import dec
from testudo.sim.instruments import Instrument
from testudo.sim.money import ZERO

DAY_MS = 86_400_000
FUNDING_MS = 8 * 3_600_000
LISTED_S = 1_569_398_400
NETWORKS = {"USDT": ("ETH", "ERC20", "6"), "BTC": ("BTC", "BTC", "8")}
NAMES = {"USDT": "Tether", "BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana"}


class MarketDataApi(VenueContext):
    """Unsigned endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        rows = Envelope.ROWS
        return {
            ("GET", "/v3/public/systemInfo"): Route(self._system_info, signed=False),
            ("GET", "/v3/public/instruments"): Route(self._instruments, signed=False),
            ("GET", "/v3/public/futures"): Route(self._futures, signed=False),
            ("GET", "/v3/public/orderbook"): Route(self._orderbook, signed=False),
            ("GET", "/v3/public/marketTrades"): Route(self._market_trades, signed=False),
            ("GET", "/v1/public/token"): Route(self._tokens, signed=False, envelope=rows),
            ("GET", "/v1/public/token_network"): Route(self._networks, signed=False, envelope=rows),
            ("GET", "/v1/public/info"): Route(self._info, signed=False, envelope=rows),
        }

    def info_symbol(self, params: Params, creds: Credentials | None) -> object:
        """``GET /v1/public/info/{symbol}``: one symbol's v1 rules."""
        return {"info": self._v1_info(self.must(params))}

    def _system_info(self, params: Params, creds: Credentials | None) -> object:
        return {"status": 0, "msg": "System is functioning properly.", "estimatedEndTime": 0}

    def _instruments(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        return {"rows": [_v3_instrument(i) for i in chosen]}

    def _futures(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        return {"rows": [self._ticker(i) for i in chosen]}

    def _ticker(self, instrument: Instrument) -> dict[str, object]:
        mark = self.engine.mark(instrument.symbol)
        window = [t for t in self.engine.tape(instrument.symbol) if t.time_ms >= self.now - DAY_MS]
        prices = [t.price for t in window] + [mark]
        return {
            "symbol": instrument.venue_symbol,
            "indexPrice": dec(mark),
            "markPrice": dec(mark),
            "estFundingRate": "0.0001",
            "lastFundingRate": "0.0001",
            "openInterest": "0",
            "24hOpen": dec(window[0].price if window else mark),
            "24hClose": dec(mark),
            "24hHigh": dec(max(prices)),
            "24hLow": dec(min(prices)),
            "24hVolume": dec(sum((t.qty for t in window), ZERO)),
            "24hAmount": dec(sum((t.qty * t.price for t in window), ZERO)),
            "nextFundingTime": (self.now // FUNDING_MS + 1) * FUNDING_MS,
        }

    def _orderbook(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.must(params)
        bids, asks = self.engine.depth(instrument.symbol, int_param(params, "maxLevel") or 100)
        return {
            "asks": [{"price": dec(lv.price), "quantity": dec(lv.qty)} for lv in asks],
            "bids": [{"price": dec(lv.price), "quantity": dec(lv.qty)} for lv in bids],
        }

    def _market_trades(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.must(params)
        limit = min(int_param(params, "limit") or 10, 500)
        tape = list(self.engine.tape(instrument.symbol))[-limit:]
        return {
            "rows": [
                {
                    "symbol": instrument.venue_symbol,
                    "side": "SELL" if t.buyer_is_maker else "BUY",
                    "source": 0,
                    "executedPrice": dec(t.price),
                    "executedQuantity": dec(t.qty),
                    "executedTimestamp": t.time_ms,
                }
                for t in reversed(tape)
            ]
        }

    def _tokens(self, params: Params, creds: Credentials | None) -> object:
        return {"rows": [_token(code) for code in NAMES]}

    def _networks(self, params: Params, creds: Credentials | None) -> object:
        return {"rows": [_network(code) for code in NAMES]}

    def _info(self, params: Params, creds: Credentials | None) -> object:
        return {"rows": [self._v1_info(i) for i in self.by_id.values()]}

    def _v1_info(self, instrument: Instrument) -> dict[str, object]:
        return {
            "symbol": instrument.venue_symbol,
            "quote_min": 0,
            "quote_max": float(_quote_max(instrument)),
            "quote_tick": float(instrument.tick_size),
            "base_min": float(instrument.min_qty),
            "base_max": float(instrument.max_qty),
            "base_tick": float(instrument.lot_size),
            "min_notional": float(instrument.min_notional),
            "price_range": 0.02,
            "price_scope": 0.6,
            "created_time": f"{LISTED_S}.000",
            "updated_time": f"{LISTED_S}.000",
            "is_stable": 0,
            "is_trading": 1,
            "precisions": [1, 10, 100, 500, 1000, 10000],
        }


def _quote_max(instrument: Instrument) -> Decimal:
    return instrument.tick_size * 2_000_000


def _v3_instrument(instrument: Instrument) -> dict[str, object]:
    return {
        "symbol": instrument.venue_symbol,
        "status": "TRADING",
        "baseAsset": instrument.base,
        "baseAssetMultiplier": 1,
        "quoteAsset": instrument.settle,
        "quoteMin": "0",
        "quoteMax": dec(_quote_max(instrument)),
        "quoteTick": dec(instrument.tick_size),
        "baseMin": dec(instrument.min_qty),
        "baseMax": dec(instrument.max_qty),
        "baseTick": dec(instrument.lot_size),
        "minNotional": dec(instrument.min_notional),
        "bidCapRatio": "1.02",
        "bidFloorRatio": None,
        "askCapRatio": None,
        "askFloorRatio": "0.98",
        "orderMode": "NORMAL",
        "impactNotional": "1000",
        "isAllowedRpi": False,
        "tickGranularity": None,
    }


def _token(code: str) -> dict[str, object]:
    network, _, decimals = NETWORKS.get(code, (code, code, "8"))
    return {
        "token": code if network == code else f"{network}_{code}",
        "fullname": NAMES[code],
        "network": network,
        "decimals": decimals,
        "delisted": False,
        "balance_token": code,
        "created_time": str(LISTED_S),
        "updated_time": str(LISTED_S),
        "can_collateral": True,
        "can_short": True,
    }


def _network(code: str) -> dict[str, object]:
    network, protocol, _ = NETWORKS.get(code, (code, code, "8"))
    return {
        "protocol": protocol,
        "network": network,
        "token": code,
        "name": f"{NAMES[code]} ({protocol})",
        "minimum_withdrawal": "10.00000000",
        "withdrawal_fee": "1.00000000",
        "allow_deposit": "1",
        "allow_withdraw": "1",
    }
