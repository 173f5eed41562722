"""The one registry of exchanges Testudo knows: everything else is derived from it.

Each entry names the API-facing id (``binance``), the ccxt class that speaks it
(``binanceusdm``: USD-M perpetual futures), how users authenticate (API key or Hyperliquid agent
wallet), the credential fields, and the features Testudo offers on it.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ExchangeInfo:
    id: str
    name: str
    kind: str  # "cex" | "dex"
    ccxt_id: str
    auth_mode: str  # "api_key" | "agent_wallet"
    required_credentials: tuple[str, ...]
    optional_credentials: tuple[str, ...] = ()
    features: tuple[str, ...] = ("live_trading", "history_import")
    description: str = ""
    settle: str = "USDT"

    def to_json(self, *, available: bool, status: str) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "ccxt_id": self.ccxt_id,
            "auth_mode": self.auth_mode,
            "required_credentials": list(self.required_credentials),
            "optional_credentials": list(self.optional_credentials),
            "supported_features": list(self.features),
            "description": self.description,
            "settlement_asset": self.settle,
            "available": available,
            "status": status,
        }


EXCHANGES: tuple[ExchangeInfo, ...] = (
    ExchangeInfo(
        "binance",
        "Binance",
        "cex",
        "binanceusdm",
        "api_key",
        ("api_key", "secret"),
        description="Binance USD-M perpetual futures.",
    ),
    ExchangeInfo(
        "bybit",
        "Bybit",
        "cex",
        "bybit",
        "api_key",
        ("api_key", "secret"),
        description="Bybit USDT perpetuals.",
    ),
    ExchangeInfo(
        "okx",
        "OKX",
        "cex",
        "okx",
        "api_key",
        ("api_key", "secret", "passphrase"),
        description="OKX USDT-margined swaps.",
    ),
    ExchangeInfo(
        "woo",
        "WOO X",
        "cex",
        "woo",
        "api_key",
        ("api_key", "secret"),
        description="WOO X perpetuals.",
    ),
    ExchangeInfo(
        "hyperliquid",
        "Hyperliquid",
        "dex",
        "hyperliquid",
        "agent_wallet",
        ("wallet_address",),
        features=("live_trading", "history_import", "agent_wallet"),
        description="Hyperliquid perpetuals, traded through an approved agent wallet.",
        settle="USDC",
    ),
)

BY_ID = {info.id: info for info in EXCHANGES}
BY_CCXT_ID = {info.ccxt_id: info for info in EXCHANGES}

# The exchanges whose wire protocol Testudo's exchange simulator speaks (docs/simulator.md).
SIMULATED = frozenset({"binance", "bybit", "hyperliquid", "okx"})


def get(exchange_id: str) -> ExchangeInfo | None:
    """The exchange named ``exchange_id`` (API id or ccxt id), or None."""
    key = exchange_id.strip().lower()
    return BY_ID.get(key) or BY_CCXT_ID.get(key)
