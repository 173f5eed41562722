"""Exchange data as Testudo sees it: plain values, Decimal money, Testudo symbols."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs


@attrs.frozen
class Fill:
    """One execution of one of the account's orders (a "user trade")."""

    exchange: str  # Testudo exchange id: "binance", "hyperliquid", ...
    fill_id: str  # the exchange's execution id, as text (dedupe key with user and exchange)
    order_id: str
    client_order_id: str | None
    symbol: str  # Testudo form: "BTC_USDT"
    side: str  # "buy" | "sell"
    price: Decimal
    quantity: Decimal
    fee: Decimal  # in fee_asset, positive = paid
    fee_asset: str
    realized_pnl: Decimal | None
    timestamp: dt.datetime  # UTC


@attrs.frozen
class Balance:
    asset: str
    total: Decimal
    free: Decimal
    used: Decimal

    def to_json(self) -> dict[str, str]:
        return {
            "asset": self.asset,
            "total": str(self.total),
            "free": str(self.free),
            "used": str(self.used),
        }


@attrs.frozen
class Position:
    symbol: str
    side: str  # "long" | "short"
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None
    margin: Decimal | None
