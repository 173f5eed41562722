"""JSON shapes of Bybit account data: unified wallet, positions, API key and account info."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit.formats import money, ms, price_text, qty_text
from testudo.sim.engine import Account, MarginSummary
from testudo.sim.instruments import Instrument
from testudo.sim.model import Position
from testudo.sim.money import ZERO, fixed
from testudo.sim.positions import unrealized_pnl

MAINTENANCE_RATE = Decimal("0.005")
COINS = {"USDT": "Tether USDT", "USDC": "USD Coin", "BTC": "Bitcoin", "ETH": "Ether", "SOL": "SOL"}


def _rate(part: Decimal, whole: Decimal) -> str:
    return fixed(part / whole, 4) if whole > 0 else "0"


def coin_view(account: Account, summary: MarginSummary) -> dict[str, object]:
    """The settlement coin's entry in the unified wallet."""
    equity = summary.margin_balance
    return {
        "coin": account.settle,
        "equity": money(equity),
        "usdValue": money(equity),
        "walletBalance": money(summary.wallet_balance),
        "free": "",
        "locked": "0",
        "spotHedgingQty": "0",
        "borrowAmount": "0.000000000000000000",
        "availableToBorrow": "",
        "availableToWithdraw": "",
        "accruedInterest": "0",
        "totalOrderIM": money(summary.order_margin),
        "totalPositionIM": money(summary.position_margin),
        "totalPositionMM": money(summary.notional * MAINTENANCE_RATE),
        "unrealisedPnl": money(summary.unrealized_pnl),
        "cumRealisedPnl": money(account.realized_pnl - account.fees_paid),
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
    }


def wallet_view(
    account: Account, summary: MarginSummary, coins: set[str] | None = None
) -> dict[str, object]:
    """``GET /v5/account/wallet-balance?accountType=UNIFIED``: one unified account holding
    the settlement coin (``coins`` filters the coin list, as the ``coin`` parameter does)."""
    maintenance = summary.notional * MAINTENANCE_RATE
    margin_balance = summary.margin_balance
    return {
        "list": [
            {
                "accountType": "UNIFIED",
                "accountLTV": "0",
                "accountIMRate": _rate(summary.initial_margin, margin_balance),
                "accountMMRate": _rate(maintenance, margin_balance),
                "totalEquity": money(margin_balance),
                "totalWalletBalance": money(summary.wallet_balance),
                "totalMarginBalance": money(margin_balance),
                "totalAvailableBalance": money(max(ZERO, summary.available)),
                "totalPerpUPL": money(summary.unrealized_pnl),
                "totalInitialMargin": money(summary.initial_margin),
                "totalMaintenanceMargin": money(maintenance),
                "coin": (
                    [coin_view(account, summary)]
                    if coins is None or account.settle in coins
                    else []
                ),
            }
        ]
    }


def position_view(
    instrument: Instrument,
    position: Position,
    *,
    mark: Decimal,
    leverage: int,
    position_idx: int,
    created_ms: int,
) -> dict[str, object]:
    """One entry of ``GET /v5/position/list`` (a flat position shows ``side`` ``""``)."""
    size = abs(position.size)
    value = size * position.entry_price
    initial = size * mark / leverage
    flat = size == 0
    return {
        "positionIdx": position_idx,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": instrument.venue_symbol,
        "side": "" if flat else ("Buy" if position.size > 0 else "Sell"),
        "size": qty_text(instrument, size),
        "avgPrice": "0" if flat else money(position.entry_price),
        "positionValue": "" if flat else money(value),
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": str(leverage),
        "markPrice": price_text(instrument, mark),
        "liqPrice": "",
        "bustPrice": "",
        "positionIM": money(initial),
        "positionMM": money(size * mark * MAINTENANCE_RATE),
        "positionBalance": money(initial),
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": (
            "" if flat else money(unrealized_pnl(position.size, position.entry_price, mark))
        ),
        "curRealisedPnl": money(position.realized_pnl),
        "cumRealisedPnl": money(position.realized_pnl),
        "adlRankIndicator": 0 if flat else 2,
        "createdTime": ms(created_ms),
        "updatedTime": ms(position.updated_ms or created_ms),
        "seq": position.updated_ms,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "tpslMode": "Full",
    }


def api_key_view(creds: Credentials) -> dict[str, object]:
    """``GET /v5/user/query-api``: a unified trading account (``uta`` 1) master key.

    Permissions follow the account's key permissions: ``enableFutures`` gives
    ``ContractTrade`` and ``Derivatives``, ``enableWithdrawals`` adds ``Withdraw`` to
    ``Wallet``; a key without futures trading is ``readOnly``.
    """
    perms = creds.permissions
    trade = perms.get("enableFutures", True)
    wallet = ["AccountTransfer", "SubMemberTransfer"]
    if perms.get("enableWithdrawals", False):
        wallet.append("Withdraw")
    return {
        "id": str(10_000_000 + creds.account_id),
        "note": "testudo-sim",
        "apiKey": creds.api_key,
        "readOnly": 0 if trade else 1,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"] if trade else [],
            "Spot": ["SpotTrade"] if trade else [],
            "Wallet": wallet,
            "Options": [],
            "Derivatives": ["DerivativesTrade"] if trade else [],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": 90,
        "expiredAt": "",
        "createdAt": ms(creds.created_ms),
        "unified": 0,
        "uta": 1,
        "userID": 100_000_000 + creds.account_id,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


def account_info_view(updated_ms: int) -> dict[str, object]:
    """``GET /v5/account/info``: unified account 2.0 (``unifiedMarginStatus`` 6), cross margin."""
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": ms(updated_ms),
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def coin_info_rows() -> list[dict[str, object]]:
    """``GET /v5/asset/coin/query-info`` rows (one chain per coin)."""
    return [
        {
            "name": name,
            "coin": coin,
            "remainAmount": "50000000",
            "chains": [
                {
                    "chainType": coin,
                    "confirmation": "12",
                    "withdrawFee": "1" if coin in ("USDT", "USDC") else "0.0001",
                    "depositMin": "0",
                    "withdrawMin": "10" if coin in ("USDT", "USDC") else "0.001",
                    "chain": "ETH" if coin in ("USDT", "USDC", "ETH") else coin,
                    "chainDeposit": "1",
                    "chainWithdraw": "1",
                    "minAccuracy": "8",
                    "withdrawPercentageFee": "0",
                    "contractAddress": "",
                }
            ],
        }
        for coin, name in COINS.items()
    ]
