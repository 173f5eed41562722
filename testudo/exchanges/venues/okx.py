"""OKX v5 USDT-margined swaps, cross margin, net position mode (ccxt ``okx``).

* **Credentials**: an API key, its secret and the passphrase chosen when the key was made
  (ccxt's ``password``); every private request is signed with all three.
* **Client order ids** (:mod:`.okx_ids`): 1 to 32 letters and digits, so not the generic
  ``tdo-...-e1``; ``tdo`` + the group in base 62 + the order's place, recomputable from the
  group for a lookup after an ambiguous failure.
* **Amounts are contracts**: ``ctVal`` base units each (0.01 BTC for BTC-USDT-SWAP, 0.1 ETH,
  1 SOL), ccxt's ``contractSize``. Every quantity is converted at this boundary: order sizes
  (base units / ``ctVal``), lot size and minimum (``lotSz`` / ``minSz`` x ``ctVal``),
  positions, fills and imported history (x ``ctVal``).
* **Orders** (:mod:`.okx_orders`): entries and closes are regular orders (ccxt sends one
  order through ``batch-orders``); stops and trigger take-profits are reduce-only
  conditional algo orders, always *market* when they fire (``slOrdPx`` / ``tpOrdPx`` ``-1``),
  created, fetched, looked up, listed and cancelled on the algo endpoints only.
* **Leverage** is set for cross margin (``mgnMode`` ``cross``).
* **Equity** is the USDT detail of ``/account/balance``: ``eq`` (cash balance + unrealised
  P&L) and ``availEq`` (``availBal`` where OKX leaves ``availEq`` empty). The account-level
  ``adjEq`` is a USD figure of the multi-currency and portfolio margin modes, empty in
  single-currency margin, so it is never read.
* **Position mode** and **permissions** come from ``/account/config``: ``posMode``
  (``net_mode`` or ``long_short_mode``), ``perm`` (``read_only``, ``trade``, ``withdraw``)
  and ``ip``.
* **Errors** (:mod:`.okx_codes`): the order's ``sCode`` before the envelope's ``code``.
* **Funding** (:mod:`.okx_funding`): the account bills of type 8, ``balChg`` as written.
* **Request budget**: OKX limits private endpoints per user ID and endpoint (positions 10
  requests per 2 s, open orders 60, open algo orders 20), not per IP. Testudo's governor keeps
  one window per *venue*, shared by every account of the process, so a per-account figure
  there would throttle every OKX account together to one account's allowance. There is no
  venue-wide figure to protect, so the budget is a process-wide ceiling (6000 a minute, 100
  requests a second across accounts); the per-account limits are above what one account's
  poller sends (one cycle per 0.5 s at most: 120 position reads a minute against 300).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import ccxt

from testudo.exchanges.failures import Classified
from testudo.money import to_decimal

from . import okx_codes, okx_funding, okx_ids
from .base import Equity, OrderRequest, OrderSpec, OrderState, Venue, contract_size
from .history import HistorySource
from .okx_history import OkxHistory
from .okx_orders import (
    TRIGGER,
    algo_by_client_id,
    algo_by_id,
    listing,
    order_params,
    regular_by_client_id,
)


class OkxVenue(Venue):
    ccxt_id: ClassVar[str] = "okx"
    client_id_length: ClassVar[int] = okx_ids.MAX_LENGTH
    separate_trigger_orders: ClassVar[bool] = True
    request_budget: ClassVar[int] = 6000
    positions_weight: ClassVar[int] = 1
    orders_weight: ClassVar[int] = 1  # one orders-pending and one orders-algo-pending a poll
    read_weight: ClassVar[int] = 1
    write_weight: ClassVar[int] = 1
    polls_all_symbols: ClassVar[bool] = True  # the pending lists answer every swap at once
    funding_page: ClassVar[int] = okx_funding.PAGE  # funding: see :mod:`.okx_funding`

    def funding_rows(
        self, client: Any, market: str, since_ms: int, until_ms: int | None
    ) -> Iterator[Mapping[str, Any]]:
        return okx_funding.funding_rows(client, market, since_ms, until_ms)

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        return okx_funding.funding_amount(row)

    def client_order_id(
        self, group_id: str, role: str, seq: int, target_idx: int | None = None
    ) -> str:
        return okx_ids.client_order_id(group_id, role, seq, target_idx)

    def is_testudo_order(self, client_id: str | None) -> bool:
        return okx_ids.is_testudo(client_id)

    def client_options(self) -> dict[str, Any]:
        # Swaps only: load_markets asks for one instrument type instead of four.
        return {"fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"}

    def classify(self, exc: BaseException) -> Classified:
        return okx_codes.classify(exc)

    # -- orders (pure) -----------------------------------------------------------------

    def order_request(
        self, spec: OrderSpec, market: Mapping[str, Any], reference: Decimal | None
    ) -> OrderRequest:
        """Amounts in contracts; a limit order carries its price, a market order (triggered
        or not) none."""
        del reference
        plain_limit = spec.order_type == "limit" and spec.trigger_price is None
        return OrderRequest(
            str(market["symbol"]),
            "market" if spec.trigger_price is not None else spec.order_type,
            spec.side,
            spec.quantity / contract_size(market),
            spec.price if plain_limit else None,
            order_params(spec),
        )

    def trigger_params(self, is_trigger: bool) -> dict[str, Any]:
        return dict(TRIGGER) if is_trigger else {}

    # -- orders (worker thread) --------------------------------------------------------

    def place(self, client: Any, spec: OrderSpec, reference: Decimal | None) -> OrderState:
        """OKX acknowledges an order with its ids only: a market order (an entry or a
        close) is read back at once, so its fill is known without waiting for a poll."""
        state = super().place(client, spec, reference)
        if spec.order_type != "market" or spec.trigger_price is not None:
            return state
        try:
            return self.fetch(client, spec.symbol, state.exchange_order_id, False)
        except ccxt.BaseError:
            return state  # it is placed; the next reconcile reads its fill

    def fetch(self, client: Any, symbol: str, order_id: str, is_trigger: bool) -> OrderState:
        market = self.ccxt_symbol(symbol)
        if is_trigger:
            raw = algo_by_id(client, market, order_id)
            return attrs.evolve(self.state_of(client, raw, True), exchange_order_id=order_id)
        return self.state_of(client, client.fetch_order(order_id, market), False)

    def find_by_client_id(
        self, client: Any, symbol: str, client_id: str, is_trigger: bool
    ) -> OrderState | None:
        market = self.ccxt_symbol(symbol)
        if is_trigger:
            raw = algo_by_client_id(client, market, client_id)
        else:
            raw = regular_by_client_id(client, market, client_id)
        return None if raw is None else self.state_of(client, raw, is_trigger)

    def open_orders(self, client: Any, symbol: str | None = None) -> list[OrderState]:
        market = None if symbol is None else self.ccxt_symbol(symbol)
        return [self.state_of(client, raw, trigger) for raw, trigger in listing(client, market)]

    def state_of(self, client: Any, raw: Mapping[str, Any], is_trigger: bool = False) -> OrderState:
        """A conditional order keeps its ``algoClOrdId`` and its trigger (ccxt names it
        ``stopLossPrice`` / ``takeProfitPrice`` there); a market order's price (``-1`` on the
        algo endpoint) is no price anyone asked for."""
        state = super().state_of(client, raw, is_trigger)
        info = raw.get("info") or {}
        if is_trigger and info.get("algoClOrdId"):
            state = attrs.evolve(state, client_order_id=str(info["algoClOrdId"]))
        if state.trigger_price is None:
            trigger = to_decimal(raw.get("stopLossPrice") or raw.get("takeProfitPrice"))
            state = attrs.evolve(state, trigger_price=trigger)
        if raw.get("type") == "market" or (state.price is not None and state.price <= 0):
            state = attrs.evolve(state, price=None)
        return state

    def average_fill_price(
        self, client: Any, symbol: str, order_id: str, since_ms: int
    ) -> Decimal | None:
        """From the order's own fills (``ordId``; a conditional order's are those of the
        order it placed, read by :meth:`fetch`)."""
        del since_ms
        trades = client.fetch_my_trades(self.ccxt_symbol(symbol), None, None, {"ordId": order_id})
        quantity = Decimal(0)
        notional = Decimal(0)
        for trade in trades:
            if str(trade.get("order")) != order_id:
                continue
            amount = to_decimal(trade.get("amount")) or Decimal(0)
            quantity += amount
            notional += amount * (to_decimal(trade.get("price")) or Decimal(0))
        return None if quantity == 0 else notional / quantity

    # -- account (worker thread) -------------------------------------------------------

    def set_leverage(self, client: Any, symbol: str, leverage: Decimal) -> None:
        client.set_leverage(int(leverage), self.ccxt_symbol(symbol), {"marginMode": "cross"})

    def position_mode(self, client: Any) -> str:
        """``long_short_mode`` is hedge mode; ``net_mode`` one-way."""
        config = account_config(client)
        return "hedge" if config.get("posMode") == "long_short_mode" else "one_way"

    def equity(self, raw_balance: Mapping[str, Any]) -> Equity:
        """``eq`` / ``availEq`` of the settlement currency's detail (never ``adjEq``)."""
        detail = settle_detail(raw_balance, self.info.settle)
        total = to_decimal(detail.get("eq"))
        available = to_decimal(detail.get("availEq")) or to_decimal(detail.get("availBal"))
        if total is None or available is None:
            return super().equity(raw_balance)
        return Equity(total, available)

    def read_permissions(self, client: Any) -> dict[str, Any]:
        """``/account/config``: ``perm`` and the key's bound ``ip``."""
        return permissions_of(account_config(client))

    def history(self) -> HistorySource:
        return OkxHistory(self.info.id, self.info.settle)


def account_config(client: Any) -> Mapping[str, Any]:
    """The first row of ``GET /api/v5/account/config`` (worker thread)."""
    answer = client.privateGetAccountConfig()
    rows = (answer or {}).get("data") or []
    return rows[0] if rows and isinstance(rows[0], Mapping) else {}


def settle_detail(raw_balance: Mapping[str, Any], settle: str) -> Mapping[str, Any]:
    """The ``details`` row of ``settle`` in a ccxt ``fetch_balance`` on OKX
    (``info.data[0].details``); empty when the account holds none."""
    rows = (raw_balance.get("info") or {}).get("data") or []
    first = rows[0] if rows and isinstance(rows[0], Mapping) else {}
    for detail in first.get("details") or []:
        if isinstance(detail, Mapping) and detail.get("ccy") == settle:
            return detail
    return {}


def permissions_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """What an API key may do, from the account configuration it reads."""
    granted = {p.strip() for p in str(config.get("perm") or "").split(",") if p.strip()}
    ip = str(config.get("ip") or "").strip()
    return {
        "reading": "read_only" in granted or bool(granted),
        "futures": "trade" in granted,
        "withdrawals": "withdraw" in granted,
        "ip_restricted": bool(ip),
        "withdrawal_check": "verified",
    }
