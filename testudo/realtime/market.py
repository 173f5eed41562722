"""Market-data messages built from ccxt results (pure functions).

Shapes follow Binance's stream payloads where they exist, with our symbol (``BTC_USDT``) in
``s`` and the exchange id in ``x``; prices and sizes are decimal strings:

* ticker: ``{"e":"24hrTicker","E","s","x","c","o","h","l","b","a","v","q","P"}``
* depth: ``{"e":"depthSnapshot","E","s","x","bids":[[p,q],...],"asks":[...]}`` (top levels)
* trade: ``{"e":"trade","E","s","x","t","p","q","T","S"}`` (one message per public trade)

Sizes are base units (BTC): ccxt reports a contract market's book and trades in contracts
(OKX swaps: 0.01 BTC each), so depth and trade sizes are multiplied by the market's contract
size (1 on most linear perpetuals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

DEPTH_LEVELS = 20
#: How many frames of one public stream may wait per connection before the oldest goes:
#: a ticker or depth snapshot replaces the previous one; trades keep a short backlog.
CONFLATION_KEEP = {"ticker": 1, "depth": 1, "trade": 100}


def number(value: Any) -> str | None:
    """A ccxt float as a decimal string (None stays None)."""
    if value is None:
        return None
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def base_units(value: Any, size: Decimal) -> str | None:
    """A ccxt amount in contracts as a decimal string of base units."""
    text = number(value)
    if text is None or size == 1:
        return text
    return format((Decimal(text) * size).normalize(), "f")


def ticker_message(
    exchange: str, symbol: str, ticker: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    return {
        "e": "24hrTicker",
        "E": ticker.get("timestamp") or now_ms,
        "s": symbol,
        "x": exchange,
        "c": number(ticker.get("last")),
        "o": number(ticker.get("open")),
        "h": number(ticker.get("high")),
        "l": number(ticker.get("low")),
        "b": number(ticker.get("bid")),
        "a": number(ticker.get("ask")),
        "v": number(ticker.get("baseVolume")),
        "q": number(ticker.get("quoteVolume")),
        "P": number(ticker.get("percentage")),
    }


def depth_message(
    exchange: str, symbol: str, book: dict[str, Any], now_ms: int, size: Decimal = Decimal(1)
) -> dict[str, Any]:
    def side(levels: list[list[Any]]) -> list[list[str | None]]:
        return [[number(lv[0]), base_units(lv[1], size)] for lv in levels[:DEPTH_LEVELS]]

    return {
        "e": "depthSnapshot",
        "E": book.get("timestamp") or now_ms,
        "s": symbol,
        "x": exchange,
        "bids": side(book.get("bids") or []),
        "asks": side(book.get("asks") or []),
    }


def trade_message(
    exchange: str, symbol: str, trade: dict[str, Any], now_ms: int, size: Decimal = Decimal(1)
) -> dict[str, Any]:
    return {
        "e": "trade",
        "E": now_ms,
        "s": symbol,
        "x": exchange,
        "t": trade.get("id"),
        "p": number(trade.get("price")),
        "q": base_units(trade.get("amount"), size),
        "T": trade.get("timestamp"),
        "S": trade.get("side"),
    }


def same_state(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """Whether two ticker/depth messages describe the same state (event time ignored)."""
    if a is None:
        return False
    return {k: v for k, v in a.items() if k != "E"} == {k: v for k, v in b.items() if k != "E"}


class TradeWatermark:
    """Which public trades were already published (by timestamp, then id)."""

    def __init__(self) -> None:
        self.primed = False
        self._last_ts = -1
        self._ids_at_last: set[str] = set()

    def fresh(self, trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The trades not seen before, oldest first. The first call only sets the mark."""
        ordered = sorted(trades, key=lambda t: (t.get("timestamp") or 0, str(t.get("id"))))
        out = []
        for trade in ordered:
            ts = trade.get("timestamp") or 0
            tid = str(trade.get("id"))
            if ts < self._last_ts or (ts == self._last_ts and tid in self._ids_at_last):
                continue
            if ts > self._last_ts:
                self._last_ts = ts
                self._ids_at_last = set()
            self._ids_at_last.add(tid)
            out.append(trade)
        if not self.primed:
            self.primed = True
            return []
        return out
