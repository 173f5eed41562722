"""OKX public endpoints: instruments, tickers, order book, mark price, trades, time, status.

Only the three USDT swaps exist: ``instType`` ``SPOT``, ``FUTURES`` and ``OPTION`` (which
ccxt's ``load_markets`` asks for too) answer an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from testudo.sim.book import Level
from testudo.sim.dialects.okx.common import (
    INST_TYPES,
    LOT_SZ,
    MAX_LMT_SZ,
    SWAP,
    Call,
    Contract,
    OkxError,
    Route,
    RouteTable,
    Venue,
    bad,
    integer,
    required,
    text,
)
from testudo.sim.model import PublicTrade
from testudo.sim.money import ZERO, plain

LIST_MS = 1_573_557_408_000
DAY_MS = 86_400_000


def instrument_view(contract: Contract) -> dict[str, object]:
    """One swap of ``/public/instruments`` (what ccxt reads: ``ctVal``, ``lotSz``,
    ``minSz``, ``tickSz``, ``lever``, ``settleCcy``, ``uly``)."""
    instrument = contract.instrument
    family = f"{instrument.base}-{instrument.settle}"
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": "",
        "category": "1",
        "contTdSwTime": str(LIST_MS),
        "ctMult": "1",
        "ctType": "linear",
        "ctVal": plain(contract.ct_val),
        "ctValCcy": instrument.base,
        "expTime": "",
        "futureSettlement": False,
        "groupId": "1",
        "instFamily": family,
        "instId": contract.inst_id,
        "instIdCode": 10_000 + instrument.index,
        "instType": SWAP,
        "lever": str(instrument.max_leverage),
        "listTime": str(LIST_MS),
        "lotSz": plain(LOT_SZ),
        "maxIcebergSz": plain(MAX_LMT_SZ),
        "maxLmtAmt": "20000000",
        "maxLmtSz": plain(MAX_LMT_SZ),
        "maxMktAmt": "",
        "maxMktSz": plain(contract.max_mkt_sz),
        "maxStopSz": plain(contract.max_mkt_sz),
        "maxTriggerSz": plain(MAX_LMT_SZ),
        "maxTwapSz": plain(MAX_LMT_SZ),
        "minSz": plain(LOT_SZ),
        "openType": "",
        "optType": "",
        "quoteCcy": "",
        "ruleType": "normal",
        "settleCcy": instrument.settle,
        "state": "live",
        "stk": "",
        "tickSz": plain(instrument.tick_size),
        "tradeQuoteCcyList": [],
        "uly": family,
    }


def ticker_view(
    contract: Contract,
    mark: Decimal,
    book: tuple[Decimal, Decimal],
    tape: Sequence[PublicTrade],
    now_ms: int,
) -> dict[str, object]:
    """``/market/ticker`` over the last 24 h of the public tape (``vol24h`` in contracts,
    ``volCcy24h`` in base units)."""
    window = [t for t in tape if t.time_ms >= now_ms - DAY_MS]
    open_price = window[0].price if window else mark
    volume = sum((t.qty for t in window), ZERO)
    level = contract.instrument.level_qty
    bid, ask = book
    return {
        "instType": SWAP,
        "instId": contract.inst_id,
        "last": plain(mark),
        "lastSz": contract.contracts(window[-1].qty) if window else "0",
        "askPx": plain(ask),
        "askSz": contract.contracts(level),
        "bidPx": plain(bid),
        "bidSz": contract.contracts(level),
        "open24h": plain(open_price),
        "high24h": plain(max([t.price for t in window] + [mark])),
        "low24h": plain(min([t.price for t in window] + [mark])),
        "volCcy24h": plain(volume),
        "vol24h": contract.contracts(volume),
        "ts": str(now_ms),
        "sodUtc0": plain(open_price),
        "sodUtc8": plain(open_price),
    }


class MarketApi:
    """Unsigned market data."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/api/v5/public/instruments"): Route(self._instruments, False),
            ("GET", "/api/v5/public/time"): Route(
                lambda call: [{"ts": str(self.venue.now)}], False
            ),
            ("GET", "/api/v5/system/status"): Route(lambda call: [], False),
            ("GET", "/api/v5/market/ticker"): Route(self._ticker, False),
            ("GET", "/api/v5/market/tickers"): Route(self._tickers, False),
            ("GET", "/api/v5/market/books"): Route(self._books, False),
            ("GET", "/api/v5/public/mark-price"): Route(self._mark_price, False),
            ("GET", "/api/v5/market/trades"): Route(self._trades, False),
        }

    def _swaps(self, call: Call) -> list[Contract]:
        """The swaps asked for: ``instType`` (required) and an optional ``instId``."""
        inst_type = required(call.params, "instType")
        if inst_type not in INST_TYPES:
            raise bad("instType")
        if inst_type == "OPTION" and not (
            text(call.params, "uly") or text(call.params, "instFamily")
        ):
            raise OkxError("50015", "Either parameter uly or instFamily is required")
        if inst_type != SWAP:
            return []
        inst_id = text(call.params, "instId")
        if inst_id is not None:
            return [self.venue.contract(inst_id)]
        return list(self.venue.contracts.values())

    def _instruments(self, call: Call) -> list[object]:
        return [instrument_view(c) for c in self._swaps(call)]

    def _ticker_of(self, contract: Contract) -> dict[str, object]:
        symbol = contract.instrument.symbol
        bids, asks = self.engine.depth(symbol, 1)
        return ticker_view(
            contract,
            self.engine.mark(symbol),
            (bids[0].price, asks[0].price),
            self.engine.tape(symbol),
            self.venue.now,
        )

    def _ticker(self, call: Call) -> list[object]:
        return [self._ticker_of(self.venue.contract(text(call.params, "instId")))]

    def _tickers(self, call: Call) -> list[object]:
        return [self._ticker_of(c) for c in self._swaps(call)]

    def _books(self, call: Call) -> list[object]:
        """``/market/books``: ``sz`` levels a side (default 1, max 400), sizes in contracts."""
        contract = self.venue.contract(text(call.params, "instId"))
        depth = integer(call.params, "sz") or 1
        if not 1 <= depth <= 400:
            raise bad("sz")
        bids, asks = self.engine.depth(contract.instrument.symbol, depth)

        def side(levels: Sequence[Level]) -> list[list[str]]:
            return [[plain(lv.price), contract.contracts(lv.qty), "0", "1"] for lv in levels]

        return [{"asks": side(asks), "bids": side(bids), "ts": str(self.venue.now)}]

    def _mark_price(self, call: Call) -> list[object]:
        return [
            {
                "instType": SWAP,
                "instId": c.inst_id,
                "markPx": plain(self.engine.mark(c.instrument.symbol)),
                "ts": str(self.venue.now),
            }
            for c in self._swaps(call)
        ]

    def _trades(self, call: Call) -> list[object]:
        """Recent public trades, newest first (``limit`` up to 500)."""
        contract = self.venue.contract(text(call.params, "instId"))
        limit = integer(call.params, "limit") or 100
        if not 1 <= limit <= 500:
            raise bad("limit")
        tape = self.engine.tape(contract.instrument.symbol)
        return [
            {
                "instId": contract.inst_id,
                "side": "sell" if t.buyer_is_maker else "buy",
                "sz": contract.contracts(t.qty),
                "px": plain(t.price),
                "tradeId": str(t.id),
                "ts": str(t.time_ms),
            }
            for t in reversed(tape[-limit:])
        ]
