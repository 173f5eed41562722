"""Bybit v5 USDT linear perpetuals on a unified trading account (ccxt ``bybit``).

* **Client order ids** are Bybit's ``orderLinkId``: at most 36 characters of ``A-Z a-z 0-9
  _ -``, unique among the account's open orders (a duplicate is ``110072``). Testudo's is
  ``tdo-<22 base64url characters of the group id>-<role><seq>``, with a target's index before
  an underscore (``t1_11``: target 1, eleventh order; the generic ``t111`` could also read as
  target 11, first order). It is found again by ``orderLinkId`` in the realtime list (open
  and the 500 most recently finished orders) and then in the order history.
* **Orders** (:mod:`.bybit_orders`): entries and closes are plain limit / market orders; a stop
  or a trigger take-profit is a reduce-only conditional market order with ``triggerPrice`` and
  ``triggerDirection`` (a sell stop fires falling, a sell take-profit rising). One endpoint
  creates, cancels, fetches and looks up both kinds; ``fetch_order`` needs
  ``{"acknowledged": True}`` on a unified account (without it ccxt raises
  ``ArgumentsRequired`` and sends nothing), with the order history behind it for anything
  older than the 500 latest finished orders. The open orders of every USDT market are listed
  in one pass (``orderFilter`` ``Order``, then ``StopOrder``, 50 a page).
* **Leverage**: an unchanged leverage answers ``110043 leverage not modified``, which is
  success (the leverage is what was asked), not a refusal of the entry.
* **Equity** is the unified wallet's ``totalEquity`` (wallet + unrealised P&L across
  collateral) and ``totalAvailableBalance``; ccxt's ``USDT.total`` is the wallet balance
  without unrealised P&L.
* **Position mode**: hedge mode shows as ``positionIdx`` 1 / 2 (ccxt ``hedged``) in the
  position list of a symbol, flat positions included.
* **Errors** (:mod:`.bybit_codes`): the ``retCode`` table, with ``10001`` refined by message.
* **Funding** (:mod:`.bybit_funding`): the ``Funding`` executions, ``execFee`` negated.
* **Request budget**: 600 requests per 5 seconds per IP (7200 a minute), every request
  counting 1 (https://bybit-exchange.github.io/docs/v5/rate-limit). The per-UID limits (10 a
  second for order create/cancel and the lists) are per account and far above what one
  account's poller sends (two or three requests per poll interval).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import ccxt

from testudo.exchanges.failures import Classified
from testudo.money import to_decimal

from . import bybit_codes, bybit_funding
from .base import (
    ROLE_CODES,
    TESTUDO_PREFIX,
    Equity,
    OrderRequest,
    OrderSpec,
    OrderState,
    Venue,
    contract_size,
)
from .bybit_history import BybitHistory
from .bybit_orders import (
    by_client_id,
    by_id,
    fill_average,
    listing,
    order_params,
    status_of,
)
from .history import HistorySource

# The symbol whose position rows tell the account's position mode when nothing is open
# (Bybit sets the mode per settle coin or per symbol; BTCUSDT is always listed).
REFERENCE_SYMBOL = "BTC/USDT:USDT"


class BybitVenue(Venue):
    ccxt_id: ClassVar[str] = "bybit"
    client_id_length: ClassVar[int] = 36
    request_budget: ClassVar[int] = 7200  # 600 per 5 s per IP
    positions_weight: ClassVar[int] = 1
    orders_weight: ClassVar[int] = 1  # one realtime request (two per poll: both kinds)
    read_weight: ClassVar[int] = 1
    write_weight: ClassVar[int] = 1
    polls_all_symbols: ClassVar[bool] = True  # settleCoin=USDT lists every market
    funding_page: ClassVar[int] = bybit_funding.PAGE  # funding: see :mod:`.bybit_funding`

    def funding_rows(
        self, client: Any, market: str, since_ms: int, until_ms: int | None
    ) -> Iterator[Mapping[str, Any]]:
        return bybit_funding.funding_rows(client, market, since_ms, until_ms)

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        return bybit_funding.funding_amount(row)

    def client_order_id(
        self, group_id: str, role: str, seq: int, target_idx: int | None = None
    ) -> str:
        return order_link_id(group_id, role, seq, target_idx)

    def client_options(self) -> dict[str, Any]:
        # Linear markets only: load_markets costs 3 requests instead of about 12.
        return {"fetchMarkets": {"types": ["linear"]}}

    def classify(self, exc: BaseException) -> Classified:
        return bybit_codes.classify(exc)

    # -- orders (pure) -----------------------------------------------------------------

    def order_request(
        self, spec: OrderSpec, market: Mapping[str, Any], reference: Decimal | None
    ) -> OrderRequest:
        """Limit orders carry their price; market orders (triggered or not) none: Bybit
        bounds them itself."""
        del reference
        return OrderRequest(
            str(market["symbol"]),
            spec.order_type,
            spec.side,
            spec.quantity / contract_size(market),
            spec.price if spec.order_type == "limit" else None,
            order_params(spec),
        )

    def open_orders_weight(self, symbols: int) -> int:
        del symbols
        return 2 * self.orders_weight  # Order, then StopOrder, for every market at once

    def trigger_params(self, is_trigger: bool) -> dict[str, Any]:
        """None: one endpoint serves both kinds, and a triggered conditional order is no
        longer listed under the trigger filter."""
        del is_trigger
        return {}

    # -- orders (worker thread) --------------------------------------------------------

    def place(self, client: Any, spec: OrderSpec, reference: Decimal | None) -> OrderState:
        """Bybit acknowledges an order with its ids only: a market order (an entry or a
        close) is read back at once, so its fill is known without waiting for a poll."""
        state = super().place(client, spec, reference)
        if spec.order_type != "market" or spec.trigger_price is not None:
            return state
        try:
            return self.fetch(client, spec.symbol, state.exchange_order_id, False)
        except ccxt.BaseError:
            return state  # it is placed; the next reconcile reads its fill

    def fetch(self, client: Any, symbol: str, order_id: str, is_trigger: bool) -> OrderState:
        raw = by_id(client, self.ccxt_symbol(symbol), order_id)
        return self.state_of(client, raw, is_trigger)

    def find_by_client_id(
        self, client: Any, symbol: str, client_id: str, is_trigger: bool
    ) -> OrderState | None:
        raw = by_client_id(client, self.ccxt_symbol(symbol), client_id)
        return None if raw is None else self.state_of(client, raw, is_trigger)

    def open_orders(self, client: Any, symbol: str | None = None) -> list[OrderState]:
        market = None if symbol is None else self.ccxt_symbol(symbol)
        return [self.state_of(client, raw, trigger) for raw, trigger in listing(client, market)]

    def state_of(self, client: Any, raw: Mapping[str, Any], is_trigger: bool = False) -> OrderState:
        """Bybit's own status where ccxt's loses it (a partly filled order that was then
        cancelled is not "filled"); a market order's ``price`` is Bybit's protection bound,
        not a price anyone asked for, so it is dropped."""
        state = super().state_of(client, raw, is_trigger)
        status = status_of(raw)
        if status is not None:
            state = attrs.evolve(state, status=status)
        if raw.get("type") == "market":
            state = attrs.evolve(state, price=None)
        return state

    def average_fill_price(
        self, client: Any, symbol: str, order_id: str, since_ms: int
    ) -> Decimal | None:
        """From the order's own executions (any age: ``orderId`` overrides the window)."""
        del since_ms
        trades = client.fetch_my_trades(self.ccxt_symbol(symbol), None, None, {"orderId": order_id})
        return fill_average([t for t in trades if str(t.get("order")) == order_id])

    # -- account (worker thread) -------------------------------------------------------

    def set_leverage(self, client: Any, symbol: str, leverage: Decimal) -> None:
        """``110043 leverage not modified`` means the leverage already is ``leverage``."""
        try:
            client.set_leverage(int(leverage), self.ccxt_symbol(symbol))
        except ccxt.BadRequest as exc:
            if not bybit_codes.leverage_not_modified(exc):
                raise

    def position_mode(self, client: Any) -> str:
        """Hedge when any open position, or the reference symbol's position rows, sit on
        ``positionIdx`` 1 / 2."""
        client.load_markets()
        rows = list(client.fetch_positions())
        if REFERENCE_SYMBOL in client.markets:
            rows.append(client.fetch_position(REFERENCE_SYMBOL))
        return "hedge" if any(is_hedged(row) for row in rows) else "one_way"

    def equity(self, raw_balance: Mapping[str, Any]) -> Equity:
        """``totalEquity`` / ``totalAvailableBalance`` of the unified wallet."""
        wallet = unified_wallet(raw_balance)
        total = to_decimal(wallet.get("totalEquity"))
        available = to_decimal(wallet.get("totalAvailableBalance"))
        if total is None or available is None:
            return super().equity(raw_balance)
        return Equity(total, available)

    def read_permissions(self, client: Any) -> dict[str, Any]:
        """``/v5/user/query-api``: ``Withdraw`` in the key's ``Wallet`` permissions."""
        answer = client.privateGetV5UserQueryApi()
        return permissions_of((answer or {}).get("result") or {})

    def history(self) -> HistorySource:
        return BybitHistory(self.info.id, self.info.settle)


def order_link_id(group_id: str, role: str, seq: int, target_idx: int | None) -> str:
    """``tdo-<group>-<role><target>_<seq>``: at most 36 characters for up to 100 targets and
    99,999 orders of a role; beyond that (never seen) a 32-digit hash of the same, still
    recomputable and tagged, rather than a truncation that could collide."""
    short = base64.urlsafe_b64encode(uuid.UUID(group_id).bytes).rstrip(b"=").decode()
    target = "" if target_idx is None else f"{target_idx}_"
    place = f"{ROLE_CODES[role]}{target}{seq}"
    link = f"{TESTUDO_PREFIX}{short}-{place}"
    if len(link) <= BybitVenue.client_id_length:
        return link
    return TESTUDO_PREFIX + hashlib.sha256(f"{group_id}:{place}".encode()).hexdigest()[:32]


def is_hedged(position: Mapping[str, Any]) -> bool:
    """A ccxt Bybit position on a hedge-mode side (``positionIdx`` 1 long, 2 short)."""
    index = str((position.get("info") or {}).get("positionIdx", "0"))
    return position.get("hedged") is True or index in ("1", "2")


def unified_wallet(raw_balance: Mapping[str, Any]) -> Mapping[str, Any]:
    """The account row of a ccxt ``fetch_balance`` on Bybit (``info.result.list[0]``)."""
    result = (raw_balance.get("info") or {}).get("result") or {}
    rows = result.get("list") or []
    return rows[0] if rows and isinstance(rows[0], Mapping) else {}


def permissions_of(key: Mapping[str, Any]) -> dict[str, Any]:
    """What an API key may do, from its ``query-api`` description."""
    granted = key.get("permissions") or {}
    trades = bool(granted.get("ContractTrade") or granted.get("Derivatives"))
    ips = list(key.get("ips") or [])
    return {
        "reading": True,
        "futures": trades and str(key.get("readOnly", "0")) == "0",
        "withdrawals": "Withdraw" in (granted.get("Wallet") or []),
        "ip_restricted": bool(ips) and ips != ["*"],
        "withdrawal_check": "verified",
    }
