"""Binance USD-M public market data: exchange info, book, tickers, trades."""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.binance import views
from testudo.sim.dialects.binance.auth import BinanceError
from testudo.sim.dialects.binance.common import Route, RouteTable, VenueContext
from testudo.sim.instruments import Instrument
from testudo.sim.model import PublicTrade
from testudo.sim.simulator import Simulator


class MarketDataApi(VenueContext):
    """Unsigned ``/fapi/v1`` market-data endpoints."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self._book_sequence = 1

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/fapi/v1/ping"): r(lambda p, c: {}, signed=False),
            ("GET", "/fapi/v1/time"): r(lambda p, c: {"serverTime": self.now}, signed=False),
            ("GET", "/fapi/v1/exchangeInfo"): r(self._exchange_info, signed=False),
            ("GET", "/fapi/v1/depth"): r(self._depth, signed=False),
            ("GET", "/fapi/v1/ticker/24hr"): r(self._ticker, signed=False),
            ("GET", "/fapi/v1/ticker/price"): r(self._price_ticker, signed=False),
            ("GET", "/fapi/v2/ticker/price"): r(self._price_ticker, signed=False),
            ("GET", "/fapi/v1/ticker/bookTicker"): r(self._book_ticker, signed=False),
            ("GET", "/fapi/v1/premiumIndex"): r(self._premium_index, signed=False),
            ("GET", "/fapi/v1/aggTrades"): r(self._agg_trades, signed=False),
            ("GET", "/fapi/v1/trades"): r(self._trades, signed=False),
        }

    def _exchange_info(self, params: dict[str, str], creds: Credentials | None) -> object:
        return views.exchange_info(self.engine, self.now)

    def _depth(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        limit = self._int(params, "limit") or 500
        if limit not in (5, 10, 20, 50, 100, 500, 1000):
            raise BinanceError(-1130, "Invalid data sent for a parameter.")
        bids, asks = self.engine.depth(instrument.symbol, limit)
        self._book_sequence += 1
        return {
            "lastUpdateId": self._book_sequence,
            "E": self.now,
            "T": self.now,
            "bids": [
                [views.price_text(instrument, lv.price), views.qty_text(instrument, lv.qty)]
                for lv in bids
            ],
            "asks": [
                [views.price_text(instrument, lv.price), views.qty_text(instrument, lv.qty)]
                for lv in asks
            ],
        }

    def _ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        tickers = [
            views.ticker_view(i, self.engine.mark(i.symbol), self.engine.tape(i.symbol), self.now)
            for i in chosen
        ]
        return tickers[0] if instrument else tickers

    def _price_ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = [
            {
                "symbol": i.venue_symbol,
                "price": views.price_text(i, self.engine.mark(i.symbol)),
                "time": self.now,
            }
            for i in chosen
        ]
        return rows[0] if instrument else rows

    def _book_ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = []
        for i in chosen:
            bids, asks = self.engine.depth(i.symbol, 1)
            rows.append(
                {
                    "symbol": i.venue_symbol,
                    "bidPrice": views.price_text(i, bids[0].price),
                    "bidQty": views.qty_text(i, bids[0].qty),
                    "askPrice": views.price_text(i, asks[0].price),
                    "askQty": views.qty_text(i, asks[0].qty),
                    "time": self.now,
                }
            )
        return rows[0] if instrument else rows

    def _premium_index(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = []
        for i in chosen:
            mark = views.price_text(i, self.engine.mark(i.symbol))
            rows.append(
                {
                    "symbol": i.venue_symbol,
                    "markPrice": mark,
                    "indexPrice": mark,
                    "estimatedSettlePrice": mark,
                    "lastFundingRate": "0.00010000",
                    "interestRate": "0.00010000",
                    "nextFundingTime": (self.now // (8 * 3_600_000) + 1) * 8 * 3_600_000,
                    "time": self.now,
                }
            )
        return rows[0] if instrument else rows

    def _tape_slice(self, params: dict[str, str], instrument: Instrument) -> list[PublicTrade]:
        limit = min(self._int(params, "limit") or 500, 1000)
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        from_id = self._int(params, "fromId")
        rows = [
            t
            for t in self.engine.tape(instrument.symbol)
            if (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
            and (from_id is None or t.id >= from_id)
        ]
        return rows[:limit] if (from_id is not None or start is not None) else rows[-limit:]

    def _agg_trades(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        return [views.agg_trade_view(instrument, t) for t in self._tape_slice(params, instrument)]

    def _trades(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        return [
            views.public_trade_view(instrument, t) for t in self._tape_slice(params, instrument)
        ]
