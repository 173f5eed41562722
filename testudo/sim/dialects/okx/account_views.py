"""JSON shapes of the OKX trading account: balance, positions and account configuration.

The account is a single-currency-margin unified account (``acctLv`` 2) holding USDT, all
positions cross margin. ``eq`` = cash balance + unrealised P&L; ``availEq`` is what new
orders may still use; ``frozenBal`` the initial margin of positions and resting orders.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.dialects.okx.common import SWAP, Venue
from testudo.sim.money import ZERO, plain, quantize
from testudo.sim.positions import unrealized_pnl

MAINTENANCE_RATE = Decimal("0.004")
QUANTUM = Decimal("0.00000001")
POS_ID_BASE = 3_084_716_306_329_329_664


def money(value: Decimal) -> str:
    """A derived figure (margins, ratios) rounded to 1e-8."""
    return plain(quantize(value, QUANTUM))


def balance_view(venue: Venue, account_id: int, *, with_usdt: bool) -> dict[str, object]:
    """``GET /api/v5/account/balance``: account totals and the USDT detail."""
    engine = venue.engine
    account = engine.account(account_id)
    summary = engine.margin(account_id)
    equity = summary.margin_balance
    available = max(ZERO, summary.available)
    maintenance = summary.notional * MAINTENANCE_RATE
    ratio = money(equity / maintenance) if maintenance else ""
    detail = {
        "accAvgPx": "",
        "availBal": plain(available),
        "availEq": plain(available),
        "borrowFroz": "0",
        "cashBal": plain(summary.wallet_balance),
        "ccy": account.settle,
        "clSpotInUseAmt": "",
        "colBorrAutoConversion": "0",
        "collateralEnabled": False,
        "collateralRestrict": False,
        "crossLiab": "0",
        "disEq": plain(equity),
        "eq": plain(equity),
        "eqUsd": plain(equity),
        "fixedBal": "0",
        "frozenBal": money(summary.initial_margin),
        "imr": money(summary.position_margin),
        "interest": "0",
        "isoEq": "0",
        "isoLiab": "0",
        "isoUpl": "0",
        "liab": "0",
        "maxLoan": "0",
        "mgnRatio": ratio,
        "mmr": money(maintenance),
        "notionalLever": money(summary.notional / equity) if equity > 0 else "",
        "ordFrozen": money(summary.order_margin),
        "smtSyncEq": "0",
        "spotInUseAmt": "",
        "stgyEq": "0",
        "twap": "0",
        "uTime": str(account.updated_ms),
        "upl": plain(summary.unrealized_pnl),
        "uplLiab": "0",
    }
    return {
        # Multi-currency and portfolio margin only: empty on a single-currency account.
        "adjEq": "",
        "availEq": plain(available),
        "borrowFroz": "0",
        "details": [detail] if with_usdt else [],
        "imr": money(summary.initial_margin),
        "isoEq": "0",
        "mgnRatio": ratio,
        "mmr": money(maintenance),
        "notionalUsd": money(summary.notional),
        "notionalUsdForBorrow": "0",
        "notionalUsdForFutures": "0",
        "notionalUsdForOption": "0",
        "notionalUsdForSwap": money(summary.notional),
        "ordFroz": money(summary.order_margin),
        "totalEq": plain(equity),
        "uTime": str(venue.now),
        "upl": plain(summary.unrealized_pnl),
    }


def position_view(venue: Venue, account_id: int, symbol: str) -> dict[str, object]:
    """One net-mode position (``pos`` signed, in contracts) of ``/account/positions``."""
    engine = venue.engine
    contract = venue.by_symbol[symbol]
    pos = engine.position(account_id, symbol)
    mark = engine.mark(symbol)
    lever = engine.leverage(account_id, symbol)
    notional = abs(pos.size) * mark
    initial = notional / lever
    upl = unrealized_pnl(pos.size, pos.entry_price, mark)
    entry = plain(quantize(pos.entry_price, QUANTUM))
    return {
        "adl": "1",
        "availPos": contract.contracts(abs(pos.size)),
        "avgPx": entry,
        "bePx": entry,
        "cTime": str(pos.updated_ms),
        "ccy": contract.instrument.settle,
        "closeOrderAlgo": [],
        "fee": "",
        "fundingFee": "0",
        "idxPx": plain(mark),
        "imr": money(initial),
        "instId": contract.inst_id,
        "instType": SWAP,
        "last": plain(mark),
        "lever": str(lever),
        "liab": "",
        "liabCcy": "",
        "liqPenalty": "0",
        "liqPx": "",
        "margin": "",
        "markPx": plain(mark),
        "mgnMode": "cross",
        "mgnRatio": "",
        "mmr": money(notional * MAINTENANCE_RATE),
        "notionalUsd": money(notional),
        "pendingCloseOrdLiabVal": "",
        "pnl": plain(pos.realized_pnl),
        "pos": contract.contracts(pos.size),
        "posCcy": "",
        "posId": str(POS_ID_BASE + account_id * 1000 + contract.instrument.index),
        "posSide": "net",
        "realizedPnl": plain(pos.realized_pnl),
        "tradeId": "",
        "uTime": str(pos.updated_ms),
        "upl": plain(upl),
        "uplLastPx": plain(upl),
        "uplRatio": money(upl / initial) if initial else "0",
        "uplRatioLastPx": money(upl / initial) if initial else "0",
        "usdPx": "",
    }


def config_view(venue: Venue, account_id: int, pos_mode: str) -> dict[str, object]:
    """``GET /api/v5/account/config``: a single-currency-margin account in ``pos_mode``."""
    creds = venue.sim.registry.by_id[account_id]
    perm = "read_only,trade"
    if creds.permissions.get("enableWithdrawals", False):
        perm += ",withdraw"
    uid = str(440_000_000_000_000_000 + account_id)
    return {
        "acctLv": "2",
        "acctStpMode": "cancel_maker",
        "autoLoan": False,
        "ctIsoMode": "automatic",
        "enableSpotBorrow": False,
        "greeksType": "PA",
        "ip": "",
        "kycLv": "2",
        "label": "testudo-sim",
        "level": "Lv1",
        "levelTmp": "",
        "liquidationGear": "-1",
        "mainUid": uid,
        "mgnIsoMode": "automatic",
        "opAuth": "0",
        "perm": perm,
        "posMode": pos_mode,
        "roleType": "0",
        "spotBorrowAutoRepay": False,
        "spotOffsetType": "",
        "spotRoleType": "0",
        "spotTraderInsts": [],
        "traderInsts": [],
        "type": "0",
        "uid": uid,
    }
