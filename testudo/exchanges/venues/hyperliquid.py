"""Hyperliquid perpetuals (ccxt ``hyperliquid``), traded through an approved agent wallet.

* Every order carries a limit price, market orders too: Hyperliquid executes a "market"
  order as an immediate-or-cancel limit, and ccxt derives that limit from the price it is
  given and a slippage bound. So market orders (entries, closes, emergency exits) are priced
  from the *current mark* with an explicit bound, never from the group's old entry price: after
  a move of more than the bound against the position a close priced from the entry is refused.
  A triggered stop executes the same way, bounded around its trigger price.
* Client order ids are 16-byte hex ``cloid`` s: ``0x7e57`` and 28 hex digits of a hash.
* ccxt would send a referral (``setReferrer``) and a builder-fee approval from the user's
  account before the first order, and attach a builder to every order. Testudo never does:
  the client is prepared so neither action is ever sent (:meth:`prepare_client`).
* Orders report no average price: it comes from the user's fills.
* Errors are text only: "User or API Wallet 0x... does not exist." means the agent is no
  longer approved (credentials lost, never "invalid order"); "Too many cumulative requests"
  is a rate limit.
* Open orders of every coin come back in one ``openOrders`` request (weight 20 of the per-IP
  budget of 1200 per minute), so an account is polled once, whatever its symbols.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import ccxt

from testudo.exchanges.failures import Classified, FailureKind, by_message, classify_ccxt
from testudo.exchanges.symbols import base_of
from testudo.money import to_decimal

from .base import OrderRequest, OrderSpec, OrderState, Venue, role_code
from .history import HistorySource
from .hyperliquid_history import HyperliquidHistory

PREFIX = "0x7e57"
T, R, A = FailureKind.TRANSIENT, FailureKind.REFUSED, FailureKind.AUTH_LOST
MESSAGES: tuple[tuple[str, FailureKind, str], ...] = (
    ("does not exist", A, "agent_unknown"),
    ("Too many cumulative requests", T, "rate_limited"),
    ("Invalid nonce", T, "clock"),
    ("Invalid TP/SL price", R, "invalid_trigger"),
    ("Reduce only order would increase position", R, "reduce_only_rejected"),
    ("Insufficient margin", R, "insufficient_funds"),
    ("could not immediately match", R, "no_liquidity"),
    ("No liquidity available", R, "no_liquidity"),
    ("80% away from the reference price", R, "price_band"),
    ("Price must be divisible by tick size", R, "tick_size"),
    ("minimum value of $10", R, "min_notional"),
    ("never placed, already canceled, or filled", R, "order_not_found"),
)
DEFAULT_SLIPPAGE = Decimal("0.05")


class HyperliquidVenue(Venue):
    ccxt_id: ClassVar[str] = "hyperliquid"
    market_needs_price: ClassVar[bool] = True
    # 1200 weight per minute per IP; clearinghouseState (positions) weighs 2, the open orders
    # of every coin (frontendOpenOrders) 20.
    request_budget: ClassVar[int] = 1200
    positions_weight: ClassVar[int] = 2
    orders_weight: ClassVar[int] = 20
    read_weight: ClassVar[int] = 2  # orderStatus, allMids, clearinghouseState: 2
    write_weight: ClassVar[int] = 1  # an action of one order
    polls_all_symbols: ClassVar[bool] = True
    funding_page: ClassVar[int] = 500  # userFunding answers at most 500 payments

    def funding_rows(
        self, client: Any, market: str, since_ms: int, until_ms: int | None
    ) -> Iterator[Mapping[str, Any]]:
        """userFunding answers every coin's payments, and ccxt labels a row whose coin it
        cannot resolve with the market it was asked for: keep the rows of the market's coin."""
        coin = client.load_markets()[market].get("baseName") or market.split("/")[0]
        for row in super().funding_rows(client, market, since_ms, until_ms):
            if ((row.get("info") or {}).get("delta") or {}).get("coin") == coin:
                yield row

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        """``delta.usdc`` as the venue wrote it."""
        delta = (row.get("info") or {}).get("delta") or {}
        return to_decimal(delta.get("usdc")) or Decimal(0)

    def client_order_id(
        self, group_id: str, role: str, seq: int, target_idx: int | None = None
    ) -> str:
        digest = hashlib.sha256(f"{group_id}:{role_code(role, seq, target_idx)}".encode())
        return PREFIX + digest.hexdigest()[:28]

    def is_testudo_order(self, client_id: str | None) -> bool:
        return bool(client_id) and str(client_id).lower().startswith(PREFIX)

    def client_options(self) -> dict[str, Any]:
        # No referral: ccxt only sends setReferrer while ``refSet`` is false. No builder:
        # ccxt attaches one to every order once ``approvedBuilderFee`` is true. Perpetuals
        # only: loading spot and HIP-3 markets costs 60 weight of the budget per load.
        return {
            "refSet": True,
            "approvedBuilderFee": False,
            "builderFee": False,
            "fetchMarkets": {"types": ["swap"]},
        }

    def last_prices(self, client: Any, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Mid prices of every coin in one ``allMids`` request (weight 2; a ticker through
        ccxt costs 60: it reads every spot and perpetual context)."""
        wanted = list(symbols)
        if not wanted:
            return {}
        mids = client.publicPostInfo({"type": "allMids"}) or {}
        out = {}
        for symbol in wanted:
            price = to_decimal(mids.get(base_of(symbol)))
            if price is None:
                raise ccxt.BadSymbol(f"hyperliquid has no price for {symbol}")
            out[symbol] = price
        return out

    def prepare_client(self, client: Any) -> None:
        """ccxt approves a builder fee before the first order whenever the approval is not
        recorded; answering "nothing to approve" keeps that action from ever being sent."""
        client.handle_builder_fee_approval = lambda: True

    def order_request(
        self, spec: OrderSpec, market: Mapping[str, Any], reference: Decimal | None
    ) -> OrderRequest:
        request = super().order_request(spec, market, reference)
        params = dict(request.params)
        params["slippage"] = str(spec.max_slippage or DEFAULT_SLIPPAGE)
        price = request.price
        if spec.trigger_price is not None and spec.order_type == "market":
            price = spec.trigger_price  # the triggered order's bound is set around it
        return OrderRequest(
            request.symbol, request.order_type, request.side, request.amount, price, params
        )

    def classify(self, exc: BaseException) -> Classified:
        return by_message(exc, MESSAGES, classify_ccxt(exc))

    def find_by_client_id(
        self, client: Any, symbol: str, client_id: str, is_trigger: bool
    ) -> OrderState | None:
        """``orderStatus`` by cloid; Hyperliquid answers ``unknownOid`` for an order it never
        received (ccxt then yields an order without id)."""
        try:
            raw = client.fetch_order(None, self.ccxt_symbol(symbol), {"clientOrderId": client_id})
        except ccxt.OrderNotFound:
            return None
        if not raw or raw.get("id") is None:
            return None
        return self.state_of(client, raw, is_trigger)

    def fill_fee(self, trade: Mapping[str, Any]) -> Decimal:
        """The fill's fee plus its builder fee, which ccxt leaves in ``info``."""
        info = trade.get("info") or {}
        return super().fill_fee(trade) + (to_decimal(info.get("builderFee")) or Decimal(0))

    def history(self) -> HistorySource:
        return HyperliquidHistory(self.info.id, self.info.settle)
