"""Binance USD-M account and balance answers, in single-asset and Multi-Assets mode.

Shapes follow the "Account Information V3" documentation and a real Multi-Assets account
recorded by ccxt (USDT and USDC collateral, ``ts/src/test/static/response/binance.json``,
``fetchPositions`` with ``method: account``):

- single-asset mode: the totals are those of USDT only; a USDC wallet shows as its own row
  but does not back USDT-margined positions;
- Multi-Assets mode: the totals are the sum over collateral assets "in USD" (USDC is valued
  1:1 here, where Binance applies an index price and a haircut); every asset row reports the
  account-wide ``availableBalance``, and its ``maxWithdrawAmount`` is the smaller of its own
  wallet and that available balance. The USDT-margined positions' initial and maintenance
  margin and unrealised profit sit on the USDT row, as in the recorded account.

ccxt's ``fetch_balance`` reads each row (``free`` = ``availableBalance``, ``used`` =
``initialMargin``, ``total`` = ``marginBalance``, rows with ``updateTime`` 0 skipped), so
the account-wide equity is ``info['totalMarginBalance']``.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.dialects.binance.modes import position_rows
from testudo.sim.dialects.binance.views import money, qty_text
from testudo.sim.engine import Account, Engine, MarginSummary
from testudo.sim.money import ZERO
from testudo.sim.positions import unrealized_pnl

MAINT_RATE = Decimal("0.004")


def _totals(summary: MarginSummary, available: Decimal) -> dict[str, object]:
    return {
        "totalInitialMargin": money(summary.initial_margin),
        "totalMaintMargin": money(summary.notional * MAINT_RATE),
        "totalWalletBalance": money(summary.wallet_balance),
        "totalUnrealizedProfit": money(summary.unrealized_pnl),
        "totalMarginBalance": money(summary.margin_balance),
        "totalPositionInitialMargin": money(summary.position_margin),
        "totalOpenOrderInitialMargin": money(summary.order_margin),
        "totalCrossWalletBalance": money(summary.wallet_balance),
        "totalCrossUnPnl": money(summary.unrealized_pnl),
        "availableBalance": money(available),
        "maxWithdrawAmount": money(available),
    }


def _settle_row(account: Account, summary: MarginSummary, available: Decimal) -> dict[str, object]:
    """The settlement asset (USDT): its wallet, and every USDT-margined position's figures."""
    wallet = account.wallet_balance
    withdrawable = max(ZERO, min(wallet, available)) if account.multi_assets else available
    return {
        "asset": account.settle,
        "walletBalance": money(wallet),
        "unrealizedProfit": money(summary.unrealized_pnl),
        "marginBalance": money(wallet + summary.unrealized_pnl),
        "maintMargin": money(summary.notional * MAINT_RATE),
        "initialMargin": money(summary.initial_margin),
        "positionInitialMargin": money(summary.position_margin),
        "openOrderInitialMargin": money(summary.order_margin),
        "crossWalletBalance": money(wallet),
        "crossUnPnl": money(summary.unrealized_pnl),
        "availableBalance": money(available),
        "maxWithdrawAmount": money(withdrawable),
        "marginAvailable": True,
        "updateTime": account.updated_ms,
    }


def _collateral_row(
    account: Account, asset: str, wallet: Decimal, available: Decimal
) -> dict[str, object]:
    """Another collateral asset (USDC): no positions of its own."""
    usable = available if account.multi_assets else wallet
    return {
        "asset": asset,
        "walletBalance": money(wallet),
        "unrealizedProfit": money(ZERO),
        "marginBalance": money(wallet),
        "maintMargin": money(ZERO),
        "initialMargin": money(ZERO),
        "positionInitialMargin": money(ZERO),
        "openOrderInitialMargin": money(ZERO),
        "crossWalletBalance": money(wallet),
        "crossUnPnl": money(ZERO),
        "availableBalance": money(usable),
        "maxWithdrawAmount": money(max(ZERO, min(wallet, usable))),
        "marginAvailable": True,
        "updateTime": account.created_ms,
    }


def _positions(engine: Engine, account: Account, hedge_mode: bool) -> list[object]:
    rows: list[object] = []
    for symbol, pos in account.positions.items():
        if pos.size == 0:
            continue
        instrument = engine.instruments[symbol]
        mark = engine.mark(symbol)
        leverage = engine.leverage(account.id, symbol)
        for side, amount in position_rows(pos.size, hedge_mode):
            notional = amount * mark
            rows.append(
                {
                    "symbol": instrument.venue_symbol,
                    "positionSide": side,
                    "positionAmt": qty_text(instrument, amount),
                    "unrealizedProfit": money(unrealized_pnl(amount, pos.entry_price, mark)),
                    "isolatedMargin": "0",
                    "notional": money(notional),
                    "isolatedWallet": "0",
                    "initialMargin": money(abs(notional) / leverage),
                    "maintMargin": money(abs(notional) * MAINT_RATE),
                    "updateTime": pos.updated_ms,
                }
            )
    return rows


def asset_rows(engine: Engine, account_id: int) -> list[dict[str, object]]:
    """The per-asset rows: the settlement asset first, then the other collateral assets."""
    account = engine.account(account_id)
    summary = engine.margin(account_id)
    available = max(ZERO, summary.available)
    rows = [_settle_row(account, summary, available)]
    for asset, wallet in sorted(account.collateral.items()):
        rows.append(_collateral_row(account, asset, wallet, available))
    return rows


def account_view(
    engine: Engine, account_id: int, *, hedge_mode: bool, v2: bool = False
) -> dict[str, object]:
    """``GET /fapi/v3/account`` (``v2``: ``/fapi/v2/account``, which adds the account flags)."""
    account = engine.account(account_id)
    summary = engine.margin(account_id)
    totals = _totals(summary, max(ZERO, summary.available))
    flags: dict[str, object] = {}
    if v2:
        flags = {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "tradeGroupId": -1,
            "updateTime": 0,
            "multiAssetsMargin": account.multi_assets,
        }
    return {
        **flags,
        **totals,
        "assets": asset_rows(engine, account_id),
        "positions": _positions(engine, account, hedge_mode),
    }


def balance_view(engine: Engine, account_id: int) -> list[object]:
    """``GET /fapi/v2/balance`` (and v3): one row per collateral asset."""
    return [
        {
            "accountAlias": "SgsR",
            "asset": row["asset"],
            "balance": row["walletBalance"],
            "crossWalletBalance": row["crossWalletBalance"],
            "crossUnPnl": row["crossUnPnl"],
            "availableBalance": row["availableBalance"],
            "maxWithdrawAmount": row["maxWithdrawAmount"],
            "marginAvailable": True,
            "updateTime": row["updateTime"],
        }
        for row in asset_rows(engine, account_id)
    ]
