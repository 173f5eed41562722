"""WOO X USDT perpetuals (``PERP_*`` symbols) through ccxt ``woo``.

* **Client order ids** are numbers (:mod:`.woo_ids`): 19 digits derived from the group id
  and the order's place in it, recorded before the call, tagged by ``73`` and two check
  digits. After an ambiguous failure the order is found by it with WOO's own parameter
  (``clientOrderId``, or ``clientAlgoOrderId`` on the algo service), never by passing it
  where an order id goes.
* **Orders** (:mod:`.woo_orders`): entries, closes and limit targets are plain orders; a stop
  or a trigger take-profit is a reduce-only market **algo order** with ``triggerPrice`` (WOO
  fires it when the price trades through the trigger from where it stood at placement). Algo
  orders are listed, fetched, looked up and cancelled on the algo endpoints only. A trigger
  the price has already reached is refused (``317150`` / ``317151``).
* **Market orders** are acknowledged with their ids only: an entry or a close is read back at
  once, so its fill is known without waiting for a poll.
* **Equity** is the USDT ``holding`` (deposit + realised P&L - fees) plus the unrealised P&L of
  the open positions of ``/v3/futures/positions`` (the account's ``totalAccountValue``
  without other collateral tokens); the available margin is the USDT ``availableBalance``.
  ``/v3/account/info`` tells the same total but allows only 10 requests a minute.
* **Position mode**: ``positionMode`` of ``/v3/account/info`` (``HEDGE_MODE`` is refused like
  Binance's dual-side mode), or any position on a ``LONG`` / ``SHORT`` side.
* **Errors** (:mod:`.woo_codes`): WOO's code table over ccxt's classes.
* **Funding** (:mod:`.woo_funding`): ``fundingFee/history``, signed by ``paymentType``.
* **Request budget**: WOO limits requests per account and endpoint (most private endpoints 10
  a second; ccxt spaces one client's requests 100 ms apart), not per IP. One account's poller
  (three requests an interval) stays far below that, so the process-wide window (6000 a
  minute, every request 1) only stops a runaway: a per-account figure there would make every
  account's polls wait on the others' (two accounts at a 0.5 s interval would fill it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import ccxt

from testudo.exchanges.failures import Classified

from . import woo_codes, woo_funding, woo_ids
from .base import Equity, OrderRequest, OrderSpec, OrderState, Position, Venue, contract_size
from .bybit_orders import fill_average
from .history import HistorySource
from .woo_history import WooHistory
from .woo_orders import by_client_id, fills_of, kind_params, listing, order_params

HEDGE_MODE = "HEDGE_MODE"


class WooVenue(Venue):
    ccxt_id: ClassVar[str] = "woo"
    client_id_length: ClassVar[int] = woo_ids.LENGTH
    separate_trigger_orders: ClassVar[bool] = True
    request_budget: ClassVar[int] = 6000  # per account limits; the process window is a guard
    positions_weight: ClassVar[int] = 1
    orders_weight: ClassVar[int] = 1  # one list request (two per poll: both kinds)
    read_weight: ClassVar[int] = 1
    write_weight: ClassVar[int] = 1
    polls_all_symbols: ClassVar[bool] = True  # the lists answer every symbol at once
    funding_page: ClassVar[int] = woo_funding.PAGE  # funding: see :mod:`.woo_funding`

    def funding_rows(
        self, client: Any, market: str, since_ms: int, until_ms: int | None
    ) -> Iterator[Mapping[str, Any]]:
        return woo_funding.funding_rows(client, market, since_ms, until_ms)

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        return woo_funding.funding_amount(row)

    def client_order_id(
        self, group_id: str, role: str, seq: int, target_idx: int | None = None
    ) -> str:
        return woo_ids.client_order_id(group_id, role, seq, target_idx)

    def is_testudo_order(self, client_id: str | None) -> bool:
        return woo_ids.is_testudo_id(client_id)

    def classify(self, exc: BaseException) -> Classified:
        return woo_codes.classify(exc)

    # -- orders (pure) -----------------------------------------------------------------

    def order_request(
        self, spec: OrderSpec, market: Mapping[str, Any], reference: Decimal | None
    ) -> OrderRequest:
        """Limit orders carry their price; market orders (triggered or not) none."""
        del reference
        return OrderRequest(
            str(market["symbol"]),
            spec.order_type,
            spec.side,
            spec.quantity / contract_size(market),
            spec.price if spec.order_type == "limit" else None,
            order_params(spec),
        )

    def trigger_params(self, is_trigger: bool) -> dict[str, Any]:
        return kind_params(is_trigger)

    # -- orders (worker thread) --------------------------------------------------------

    def place(self, client: Any, spec: OrderSpec, reference: Decimal | None) -> OrderState:
        """A market order (an entry or a close) is read back at once for its fill."""
        state = super().place(client, spec, reference)
        if spec.order_type != "market" or spec.trigger_price is not None:
            return state
        try:
            return self.fetch(client, spec.symbol, state.exchange_order_id, False)
        except ccxt.BaseError:
            return state  # it is placed; the next reconcile reads its fill

    def find_by_client_id(
        self, client: Any, symbol: str, client_id: str, is_trigger: bool
    ) -> OrderState | None:
        market = client.market(self.ccxt_symbol(symbol))
        raw = by_client_id(client, market, client_id, is_trigger)
        return None if raw is None else self.state_of(client, raw, is_trigger)

    def cancel(self, client: Any, symbol: str, order_id: str, is_trigger: bool) -> bool:
        """Cancel; False when WOO no longer has it open (``-1006`` / ``317184``)."""
        try:
            client.cancel_order(order_id, self.ccxt_symbol(symbol), kind_params(is_trigger))
        except (ccxt.BadRequest, ccxt.OrderNotFound) as exc:
            if woo_codes.not_found(exc):
                return False
            raise
        return True

    def open_orders(self, client: Any, symbol: str | None = None) -> list[OrderState]:
        market = None if symbol is None else self.ccxt_symbol(symbol)
        return [self.state_of(client, raw, trigger) for raw, trigger in listing(client, market)]

    def state_of(self, client: Any, raw: Mapping[str, Any], is_trigger: bool = False) -> OrderState:
        """A market order's ``price`` is dropped (WOO shows none that anyone asked for)."""
        state = super().state_of(client, raw, is_trigger)
        if raw.get("type") == "market":
            state = attrs.evolve(state, price=None)
        return state

    def average_fill_price(
        self, client: Any, symbol: str, order_id: str, since_ms: int
    ) -> Decimal | None:
        """From the order's own executions (any age)."""
        del since_ms
        return fill_average(fills_of(client, self.ccxt_symbol(symbol), order_id))

    # -- account (worker thread) -------------------------------------------------------

    def position_mode(self, client: Any) -> str:
        """``HEDGE_MODE`` in the account info, or a position on a hedge side."""
        info = (client.v3PrivateGetAccountInfo() or {}).get("data") or {}
        if str(info.get("positionMode") or "") == HEDGE_MODE:
            return "hedge"
        rows = client.fetch_positions()
        return "hedge" if any(row.get("hedged") for row in rows) else "one_way"

    def account_equity(self, raw_balance: Mapping[str, Any], positions: list[Position]) -> Equity:
        """The USDT holding plus the positions' unrealised P&L; available: the USDT
        ``availableBalance``."""
        base = self.equity(raw_balance)
        unrealized = sum((p.unrealized_pnl or Decimal(0) for p in positions), Decimal(0))
        return Equity(base.equity + unrealized, base.available)

    def position_of(self, client: Any, raw: Mapping[str, Any]) -> Position | None:
        """WOO shows ``estLiqPrice`` 0 when there is no liquidation price."""
        position = super().position_of(client, raw)
        if position is not None and not position.liquidation_price:
            position = attrs.evolve(position, liquidation_price=None)
        return position

    def history(self) -> HistorySource:
        return WooHistory(self.info.id, self.info.settle)
