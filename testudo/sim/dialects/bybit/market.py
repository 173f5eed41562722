"""Bybit public market data: server time, instruments, tickers, order book, recent trades."""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit import market_views as views
from testudo.sim.dialects.bybit.common import (
    LINEAR,
    Params,
    Route,
    RouteTable,
    VenueContext,
    integer,
    text,
)
from testudo.sim.dialects.bybit.errors import BybitError, invalid
from testudo.sim.instruments import Instrument
from testudo.sim.simulator import Simulator

MAX_BOOK_LEVELS = 500
DEFAULT_BOOK_LEVELS = 25


def not_supported() -> BybitError:
    """What Bybit's market endpoints answer for an unknown symbol."""
    return BybitError(10001, "Not supported symbols")


class MarketApi(VenueContext):
    """Unsigned ``/v5/market`` endpoints."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self._book_updates = 0

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/v5/market/time"): Route(self._time, signed=False),
            ("GET", "/v5/market/instruments-info"): Route(self._instruments, signed=False),
            ("GET", "/v5/market/tickers"): Route(self._tickers, signed=False),
            ("GET", "/v5/market/orderbook"): Route(self._book, signed=False),
            ("GET", "/v5/market/recent-trade"): Route(self._trades, signed=False),
        }

    def _time(self, params: Params, creds: Credentials | None) -> object:
        now = self.now
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def _listed(self, params: Params) -> tuple[str, list[Instrument]]:
        """The category and the linear instruments a market request selects."""
        category = self.category(params, linear_only=False)
        if category != LINEAR:
            return category, []
        symbol = text(params, "symbol")
        if symbol is not None and symbol not in self.by_id:
            raise not_supported()
        return category, [i for i in self.by_id.values() if self.matches_coin(i, params)]

    def _instruments(self, params: Params, creds: Credentials | None) -> object:
        category, chosen = self._listed(params)
        if text(params, "status") not in (None, "Trading"):
            chosen = []
        return {
            "category": category,
            "list": [views.instrument_view(i) for i in chosen],
            "nextPageCursor": "",
        }

    def _tickers(self, params: Params, creds: Credentials | None) -> object:
        category, chosen = self._listed(params)
        rows = []
        for instrument in chosen:
            bids, asks = self.engine.depth(instrument.symbol, 1)
            rows.append(
                views.ticker_view(
                    instrument,
                    self.engine.mark(instrument.symbol),
                    (bids[0], asks[0]),
                    self.engine.tape(instrument.symbol),
                    self.now,
                )
            )
        return {"category": category, "list": rows}

    def _instrument_of(self, params: Params) -> Instrument:
        self.category(params)
        symbol = text(params, "symbol")
        if symbol is None or symbol not in self.by_id:
            raise not_supported()
        return self.by_id[symbol]

    def _book(self, params: Params, creds: Credentials | None) -> object:
        instrument = self._instrument_of(params)
        limit = integer(params, "limit") or DEFAULT_BOOK_LEVELS
        if not 1 <= limit <= MAX_BOOK_LEVELS:
            raise invalid("limit")
        bids, asks = self.engine.depth(instrument.symbol, limit)
        self._book_updates += 1
        return views.book_view(instrument, bids, asks, self.now, self._book_updates)

    def _trades(self, params: Params, creds: Credentials | None) -> object:
        instrument = self._instrument_of(params)
        limit = integer(params, "limit") or 500
        if not 1 <= limit <= 1000:
            raise invalid("limit")
        tape = list(self.engine.tape(instrument.symbol))[-limit:]
        return {
            "category": LINEAR,
            "list": [views.public_trade_view(instrument, t) for t in reversed(tape)],
        }
