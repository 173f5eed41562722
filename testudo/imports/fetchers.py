"""Per-exchange history paging: which request comes next, and fills parsed from the answers.

Each page is one exchange request, run by :meth:`AccountsService.with_client` in the account
actor's worker thread (serialised and rate-limited per account, read calls retried). The
paging state between pages is a small attrs value that is stored as the import's watermark,
so a later run (or a retry after a crash) continues from it.

* **Binance USD-M** ``/fapi/v1/userTrades`` needs a symbol, covers at most 7 days per
  ``startTime``/``endTime`` window and returns at most 1000 rows. Per symbol: 7-day windows
  from the start of the import range until one holds a fill, then ``fromId`` paging (every
  later fill of the symbol, 1000 at a time) until a short page. The watermark is the last
  trade id; the next run pages from ``fromId = last + 1``. Trade ids are per symbol, so the
  fill id is ``<symbol>:<id>``.
* **Hyperliquid** ``userFillsByTime`` returns at most 2000 fills from ``startTime``; the next
  page starts at the last fill's time (fills already stored are skipped by the database), and
  a short page ends the range. The watermark is the last fill time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from testudo.exchanges.models import Fill
from testudo.exchanges.symbols import from_ccxt
from testudo.money import to_decimal

WEEK_MS = 7 * 86_400_000
BINANCE_PAGE = 1000
HYPERLIQUID_PAGE = 2000


class BadFill(ValueError):
    """A row the exchange sent could not be read as a fill."""


def ms_to_datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _decimal(row: dict[str, Any], key: str) -> Decimal:
    value = to_decimal(row.get(key))
    if value is None or not value.is_finite():
        raise BadFill(f"missing or invalid {key}")
    return value


# --------------------------------------------------------------------------- Binance


@attrs.frozen
class BinanceCursor:
    """Paging state of one symbol: the last trade id seen, or the next window to scan."""

    last_id: int | None = None
    window_start_ms: int | None = None
    done: bool = False


def binance_request(
    market_id: str, cursor: BinanceCursor, start_ms: int, end_ms: int
) -> dict[str, Any]:
    """The ``userTrades`` parameters of the next page."""
    if cursor.last_id is not None:
        return {"symbol": market_id, "fromId": cursor.last_id + 1, "limit": BINANCE_PAGE}
    window = cursor.window_start_ms if cursor.window_start_ms is not None else start_ms
    return {
        "symbol": market_id,
        "startTime": window,
        "endTime": min(window + WEEK_MS - 1, end_ms),
        "limit": BINANCE_PAGE,
    }


def binance_advance(
    cursor: BinanceCursor, request: dict[str, Any], rows: list[dict[str, Any]], end_ms: int
) -> BinanceCursor:
    """The state after a page: fromId paging once a fill was seen, else the next window."""
    if rows:
        # Found fills: continue with fromId (every later fill of the symbol); only a short
        # fromId page ends the symbol, since a window page ends at its window.
        last = max(int(r["id"]) for r in rows)
        return BinanceCursor(
            last_id=last, done=cursor.last_id is not None and len(rows) < BINANCE_PAGE
        )
    if cursor.last_id is not None:
        return attrs.evolve(cursor, done=True)
    following = int(request["endTime"]) + 1
    return BinanceCursor(window_start_ms=following, done=following > end_ms)


def binance_fill(exchange: str, symbol: str, row: dict[str, Any]) -> Fill:
    """A ``userTrades`` row as a Fill (fill id ``<symbol>:<trade id>``)."""
    try:
        side = str(row["side"]).lower()
        if side not in ("buy", "sell"):
            raise BadFill(f"unknown side {row['side']!r}")
        return Fill(
            exchange=exchange,
            fill_id=f"{symbol}:{int(row['id'])}",
            order_id=str(row["orderId"]),
            client_order_id=None,
            symbol=symbol,
            side=side,
            price=_decimal(row, "price"),
            quantity=_decimal(row, "qty"),
            fee=abs(_decimal(row, "commission")),
            fee_asset=str(row.get("commissionAsset") or ""),
            realized_pnl=to_decimal(row.get("realizedPnl")),
            timestamp=ms_to_datetime(int(row["time"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None


def binance_markets(client: Any, settle: str = "USDT") -> dict[str, str]:
    """Testudo symbol → market id of every active linear perpetual settled in ``settle``."""
    client.load_markets()
    out: dict[str, str] = {}
    for market in client.markets.values():
        if (
            market.get("swap")
            and market.get("linear")
            and market.get("settle") == settle
            and market.get("active", True) is not False
        ):
            out[from_ccxt(market["symbol"])] = market["id"]
    return dict(sorted(out.items()))


def binance_page(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``GET /fapi/v1/userTrades`` (runs in the account's worker thread)."""
    rows = client.fapiPrivateGetUserTrades(request)
    return list(rows)


def signed_positions(raw_positions: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    """ccxt positions as Testudo symbol → signed size (long positive)."""
    out: dict[str, Decimal] = {}
    for raw in raw_positions:
        contracts = to_decimal(raw.get("contracts")) or Decimal(0)
        if contracts == 0:
            continue
        short = raw.get("side") == "short" or contracts < 0
        out[from_ccxt(raw["symbol"])] = -abs(contracts) if short else abs(contracts)
    return out


def fetch_signed_positions(client: Any) -> dict[str, Decimal]:
    return signed_positions(client.fetch_positions())


# --------------------------------------------------------------------------- Hyperliquid


@attrs.frozen
class HyperliquidCursor:
    start_ms: int
    done: bool = False


def hyperliquid_request(wallet: str, cursor: HyperliquidCursor, end_ms: int) -> dict[str, Any]:
    return {
        "type": "userFillsByTime",
        "user": wallet,
        "startTime": cursor.start_ms,
        "endTime": end_ms,
        "aggregateByTime": False,
    }


def hyperliquid_advance(
    cursor: HyperliquidCursor, rows: list[dict[str, Any]], end_ms: int
) -> HyperliquidCursor:
    """Next page from the last fill's time (+1 ms when a page did not move forward)."""
    if len(rows) < HYPERLIQUID_PAGE:
        return HyperliquidCursor(cursor.start_ms, done=True)
    last = max(int(r["time"]) for r in rows)
    following = last if last > cursor.start_ms else cursor.start_ms + 1
    return HyperliquidCursor(following, done=following > end_ms)


def hyperliquid_page(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``POST /info`` ``userFillsByTime`` (runs in the account's worker thread)."""
    rows = client.publicPostInfo(request)
    return list(rows or [])


def hyperliquid_fill(exchange: str, settle: str, row: dict[str, Any]) -> Fill | None:
    """A ``userFills`` row as a Fill; None for a spot fill (``@``-coins and pairs)."""
    try:
        coin = str(row["coin"])
        if coin.startswith("@") or "/" in coin:
            return None
        side = {"B": "buy", "A": "sell"}.get(str(row["side"]))
        if side is None:
            raise BadFill(f"unknown side {row['side']!r}")
        cloid = row.get("cloid")
        return Fill(
            exchange=exchange,
            fill_id=str(int(row["tid"])),
            order_id=str(row["oid"]),
            client_order_id=str(cloid) if cloid else None,
            symbol=from_ccxt(f"{coin}/{settle}:{settle}"),
            side=side,
            price=_decimal(row, "px"),
            quantity=_decimal(row, "sz"),
            fee=_decimal(row, "fee") + (to_decimal(row.get("builderFee")) or Decimal(0)),
            fee_asset=str(row.get("feeToken") or settle),
            realized_pnl=to_decimal(row.get("closedPnl")),
            timestamp=ms_to_datetime(int(row["time"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadFill(str(exc)) from None


def hyperliquid_start_position(row: dict[str, Any]) -> Decimal | None:
    return to_decimal(row.get("startPosition"))
