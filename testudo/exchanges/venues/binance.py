"""Binance USD-M futures (ccxt ``binanceusdm``).

* Conditional orders (stop-market, take-profit-market) live on Binance's Algo Order service:
  ccxt places them from ``stopLossPrice`` / ``takeProfitPrice`` and fetches, lists and
  cancels them with ``{"trigger": True}``. A triggered one reports its fill on the order it
  spawned (``actualOrderId``).
* Equity is the account's ``totalMarginBalance`` (and ``availableBalance``): in Multi-Assets
  mode that is the margin balance across every collateral asset, not the USDT row alone.
* Position mode: ``GET /fapi/v1/positionSide/dual`` (``dualSidePosition``).
* Error codes (Binance's documented list) refine ccxt's classes: ``-4045`` (maximum stop
  orders), ``-4061`` (hedge-mode position side) and ``-2021`` (would trigger at once) are
  refusals; ``-1003``/``-1008``/``-1015``/``-1021`` are transient (nothing was done);
  ``-1000``/``-1001``/``-1006``/``-1007`` leave the outcome unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from testudo.exchanges.failures import Classified, FailureKind, by_code, classify_ccxt
from testudo.money import to_decimal

from .base import Equity, OrderState, Venue
from .binance_history import BinanceHistory
from .history import HistorySource

T, U, R, A = (
    FailureKind.TRANSIENT,
    FailureKind.UNKNOWN,
    FailureKind.REFUSED,
    FailureKind.AUTH_LOST,
)
CODES: dict[str, tuple[FailureKind, str]] = {
    "-1003": (T, "rate_limited"),
    "-1008": (T, "overloaded"),
    "-1015": (T, "rate_limited"),
    "-1021": (T, "clock"),
    "-1000": (U, "exchange_error"),
    "-1001": (U, "disconnected"),
    "-1006": (U, "unexpected_response"),
    "-1007": (U, "timeout"),
    "-4116": (U, "duplicate_client_id"),
    "-4045": (R, "max_stop_orders"),
    "-4061": (R, "hedge_mode"),
    "-2021": (R, "would_trigger"),
    "-2022": (R, "reduce_only_rejected"),
    "-2019": (R, "insufficient_funds"),
    "-4164": (R, "min_notional"),
    "-4131": (R, "price_band"),
    "-4120": (R, "wrong_endpoint"),
    "-5022": (R, "post_only"),
    "-4028": (R, "leverage"),
    "-2011": (R, "cancel_rejected"),
    "-2013": (R, "order_not_found"),
    "-1111": (R, "precision"),
    "-1013": (R, "lot_size"),
    "-4003": (R, "quantity"),
    "-4014": (R, "tick_size"),
    "-1102": (R, "bad_request"),
    "-1121": (R, "bad_symbol"),
    "-2014": (A, "invalid_credentials"),
    "-2015": (A, "invalid_credentials"),
    "-1022": (A, "invalid_signature"),
}


class BinanceVenue(Venue):
    ccxt_id: ClassVar[str] = "binanceusdm"
    client_id_length: ClassVar[int] = 36
    separate_trigger_orders: ClassVar[bool] = True
    # 2400 weight per minute per IP; positionRisk weighs 5, openOrders and openAlgoOrders
    # with a symbol 1 each (without one 40: never used).
    request_budget: ClassVar[int] = 2400
    positions_weight: ClassVar[int] = 5
    orders_weight: ClassVar[int] = 1
    read_weight: ClassVar[int] = 5  # account, positionRisk, userTrades: 5; an order: 1
    write_weight: ClassVar[int] = 1
    funding_page: ClassVar[int] = 1000  # GET /fapi/v1/income: limit up to 1000

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        """``income`` as the venue wrote it (ccxt's ``amount`` is a float)."""
        return to_decimal((row.get("info") or {}).get("income")) or Decimal(0)

    def classify(self, exc: BaseException) -> Classified:
        return by_code(exc, CODES, classify_ccxt(exc))

    def state_of(self, client: Any, raw: Mapping[str, Any], is_trigger: bool = False) -> OrderState:
        """A triggered conditional order reports its fill on the order it spawned
        (``actualOrderId``): read the fill from there, keeping the conditional order's id."""
        state = super().state_of(client, raw, is_trigger)
        actual = str((raw.get("info") or {}).get("actualOrderId") or "")
        if not (state.is_trigger and actual and state.filled == 0):
            return state
        spawned = super().state_of(client, client.fetch_order(actual, raw.get("symbol")))
        return attrs.evolve(
            state,
            status=spawned.status,
            filled=spawned.filled,
            average_price=spawned.average_price,
        )

    def equity(self, raw_balance: Mapping[str, Any]) -> Equity:
        """``totalMarginBalance`` / ``availableBalance`` of the account (every collateral
        asset in Multi-Assets mode; the USDT asset in single-asset mode)."""
        info = raw_balance.get("info") or {}
        total = to_decimal(info.get("totalMarginBalance"))
        available = to_decimal(info.get("availableBalance"))
        if total is None or available is None:
            return super().equity(raw_balance)
        return Equity(total, available)

    def position_mode(self, client: Any) -> str:
        answer = client.fapiPrivateGetPositionSideDual()
        dual = answer.get("dualSidePosition") if isinstance(answer, dict) else None
        return "hedge" if dual in (True, "true") else "one_way"

    def read_permissions(self, client: Any) -> dict[str, Any]:
        restrictions = client.sapi_get_account_apirestrictions()
        return {
            "reading": bool(restrictions.get("enableReading", False)),
            "futures": bool(restrictions.get("enableFutures", False)),
            "withdrawals": bool(restrictions.get("enableWithdrawals", False)),
            "ip_restricted": bool(restrictions.get("ipRestrict", False)),
            "withdrawal_check": "verified",
        }

    def history(self) -> HistorySource:
        return BinanceHistory(self.info.id, self.info.settle)
