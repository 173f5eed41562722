"""WOO X account endpoints: balances, account info, positions, leverage, fees.

Equity figures: ``/v3/asset/balances`` shows the USDT ``holding`` (deposit + realised P&L -
fees, without unrealised P&L) and ``availableBalance`` (what new orders may use);
``/v3/account/info`` shows ``totalAccountValue`` (holding + unrealised P&L), ``freeCollateral``
and the ``positionMode``.
"""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo.common import (
    Envelope,
    Params,
    Route,
    RouteTable,
    VenueContext,
    int_param,
    text_param,
)
from testudo.sim.dialects.woo.errors import (
    INVALID_LEVERAGE,
    INVALID_PARAM,
    LEVERAGE_MARGIN,
    WooError,
    missing,
)
from testudo.sim.dialects.woo.position_mode import position_mode
from testudo.sim.dialects.woo.views import dec, secs
from testudo.sim.engine import MarginSummary
from testudo.sim.model import Side
from testudo.sim.money import ZERO

DAY_MS = 86_400_000
NO_RISK_RATIO = Decimal(10)


class AccountApi(VenueContext):
    """Signed account endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/v3/asset/balances"): r(self._balances, signed=True),
            ("GET", "/v3/account/info"): r(self._info, signed=True),
            ("GET", "/v3/futures/positions"): r(self._positions, signed=True),
            ("GET", "/v3/futures/leverage"): r(self._leverage, signed=True),
            ("PUT", "/v3/futures/leverage"): r(
                self._set_leverage, signed=True, trading=True, envelope=Envelope.BARE
            ),
            ("GET", "/v3/trade/tradingFee"): r(self._trading_fee, signed=True),
        }

    def _balances(self, params: Params, creds: Credentials | None) -> object:
        account_id = self.account_id(creds)
        account = self.engine.account(account_id)
        margin = self.engine.margin(account_id)
        row = {
            "token": account.settle,
            "holding": dec(margin.wallet_balance),
            "frozen": dec(margin.order_margin),
            "staked": "0",
            "unbonding": "0",
            "vault": "0",
            "interest": "0",
            "pendingShortQty": "0",
            "pendingLongQty": "0",
            "availableBalance": dec(max(ZERO, margin.available)),
            "averageOpenPrice": "0",
            "markPrice": "1",
            "updatedTime": secs(account.updated_ms),
        }
        return {"holding": [row]}

    def _info(self, params: Params, creds: Credentials | None) -> object:
        account_id = self.account_id(creds)
        margin = self.engine.margin(account_id)
        equity = dec(margin.margin_balance)
        return {
            "applicationId": f"00000000-0000-4000-8000-{account_id:012d}",
            "account": f"sim{account_id}@testudo.invalid",
            "alias": f"sim{account_id}",
            "otpauth": False,
            "accountMode": "FUTURES",
            "positionMode": position_mode(self.sim, account_id),
            "leverage": 0,
            "makerFeeRate": 2,
            "takerFeeRate": 5,
            "marginRatio": dec(_margin_ratio(margin)),
            "openMarginRatio": dec(_margin_ratio(margin)),
            "initialMarginRatio": dec(NO_RISK_RATIO),
            "maintenanceMarginRatio": "0.03",
            "totalCollateral": equity,
            "freeCollateral": dec(max(ZERO, margin.available)),
            "totalAccountValue": equity,
            "totalTradingValue": equity,
            "totalVaultValue": "0",
            "totalStakingValue": "0",
            "totalLaunchpadValue": "0",
            "totalEarnValue": "0",
            "referrerID": None,
            "accountType": "Main",
        }

    def _positions(self, params: Params, creds: Credentials | None) -> object:
        """Open positions (non-zero holdings), of ``symbol`` if given."""
        account_id = self.account_id(creds)
        instrument = self.instrument(params, required=False)
        account = self.engine.account(account_id)
        symbols = [instrument.symbol] if instrument else list(self.engine.instruments)
        recent = account.fills.between(self.now - DAY_MS, None, len(account.fills))
        rows = []
        for symbol in symbols:
            pos = account.positions.get(symbol)
            if pos is None or pos.size == 0:
                continue
            mark = self.engine.mark(symbol)
            pending = {side: ZERO for side in Side}
            for order in self.engine.open_orders(account_id, symbol):
                if not order.reduce_only and not order.awaiting_trigger:
                    pending[order.side] += order.remaining
            day = [f for f in recent if f.symbol == symbol]
            rows.append(
                {
                    "symbol": self.engine.instruments[symbol].venue_symbol,
                    "holding": dec(pos.size),
                    "pendingLongQty": dec(pending[Side.BUY]),
                    "pendingShortQty": dec(pending[Side.SELL]),
                    "settlePrice": dec(pos.entry_price),
                    "averageOpenPrice": dec(pos.entry_price),
                    "pnl24H": dec(sum((f.realized_pnl for f in day), ZERO)),
                    "fee24H": dec(sum((f.fee + f.extra_fee for f in day), ZERO)),
                    "markPrice": dec(mark),
                    "estLiqPrice": "0",
                    "timestamp": pos.updated_ms,
                    "adlQuantile": 2,
                    "positionSide": "BOTH",
                    "marginMode": "CROSS",
                    "isolatedMarginToken": "",
                    "isolatedMarginAmount": "0",
                    "isolatedFrozenLong": "0",
                    "isolatedFrozenShort": "0",
                    "leverage": self.engine.leverage(account_id, symbol),
                }
            )
        return {"positions": rows}

    def _leverage(self, params: Params, creds: Credentials | None) -> object:
        account_id = self.account_id(creds)
        instrument = self.must(params)
        return {
            "symbol": instrument.venue_symbol,
            "marginMode": "CROSS",
            "positionMode": position_mode(self.sim, account_id),
            "details": [
                {
                    "positionSide": "BOTH",
                    "leverage": self.engine.leverage(account_id, instrument.symbol),
                }
            ],
        }

    def _set_leverage(self, params: Params, creds: Credentials | None) -> object:
        """``PUT /v3/futures/leverage``: 1..max; refused if the margin would fall short."""
        account_id = self.account_id(creds)
        instrument = self.must(params)
        leverage = int_param(params, "leverage")
        if leverage is None:
            raise missing("leverage")
        if leverage < 1:
            raise WooError(INVALID_LEVERAGE)
        if leverage > instrument.max_leverage:
            raise WooError(INVALID_PARAM, f"leverage must be at most {instrument.max_leverage}")
        if text_param(params, "marginMode") not in (None, "CROSS", "ISOLATED"):
            raise WooError(INVALID_PARAM)
        before = self.engine.leverage(account_id, instrument.symbol)
        self.engine.set_leverage(account_id, instrument.symbol, leverage)
        if self.engine.margin(account_id).available < 0:
            self.engine.set_leverage(account_id, instrument.symbol, before)
            raise WooError(LEVERAGE_MARGIN)
        return None

    def _trading_fee(self, params: Params, creds: Credentials | None) -> object:
        instrument = self.must(params)
        return {
            "symbol": instrument.venue_symbol,
            "takerFee": dec(instrument.taker_fee * 10_000),
            "makerFee": dec(instrument.maker_fee * 10_000),
        }


def _margin_ratio(margin: MarginSummary) -> Decimal:
    """Account value over position notional (10 when flat, as WOO shows it)."""
    if margin.notional == 0:
        return NO_RISK_RATIO
    return min(NO_RISK_RATIO, margin.margin_balance / margin.notional)
