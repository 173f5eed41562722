"""What every venue module provides, and the behaviour most ccxt venues share.

A :class:`Venue` knows one exchange's rules: its symbols, its client order ids, the ccxt
parameters of entry, stop and take-profit orders, where conditional orders are listed,
cancelled and looked up, how its amounts relate to base units, how it reports equity and
position mode, and how its errors are classified (:mod:`testudo.exchanges.failures`). The
subclasses in this package (one module per exchange) override only what their venue does
differently; nothing venue-specific lives in the actors.

Two kinds of methods:

* pure ones (``order_request``, ``classify``, ``client_order_id``): plain functions of
  their arguments, tested directly;
* worker-thread ones taking a ccxt ``client`` (``place``, ``fetch``, ``open_orders``, ...):
  they block on HTTP and run in the exchange-account actor's worker thread.

Quantities are always in base units (0.01 BTC) on Testudo's side; ccxt amounts are in the
market's contracts (``contractSize`` base units each, 1 on most linear perpetuals), converted
here at the boundary.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import ccxt

from testudo.exchanges.catalog import ExchangeInfo
from testudo.exchanges.failures import Classified, classify_ccxt
from testudo.exchanges.models import Balance
from testudo.exchanges.symbols import from_ccxt, to_ccxt
from testudo.money import to_decimal

from .history import HistorySource

ROLE_CODES = {"entry": "e", "stop_loss": "s", "take_profit": "t", "close": "c"}
TESTUDO_PREFIX = "tdo-"


@attrs.frozen
class OrderSpec:
    """An order as a group wants it; ``trigger_price`` makes it a stop/take-profit trigger."""

    client_order_id: str
    symbol: str  # Testudo form
    side: str
    order_type: str  # limit | market
    quantity: Decimal  # base units
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_kind: str | None = None  # stop_loss | take_profit
    reduce_only: bool = False
    max_slippage: Decimal | None = None  # bound of a market order's price, where the venue has one


@attrs.frozen
class OrderRequest:
    """The arguments of one ccxt ``create_order`` call."""

    symbol: str  # ccxt unified symbol
    order_type: str
    side: str
    amount: Decimal  # in the market's contracts
    price: Decimal | None
    params: Mapping[str, Any]


@attrs.frozen
class OrderState:
    """An order as the exchange reports it (quantities in base units)."""

    exchange_order_id: str
    client_order_id: str | None
    status: str  # open | filled | cancelled | rejected
    filled: Decimal
    average_price: Decimal | None
    is_trigger: bool = False
    symbol: str | None = None  # Testudo form, when the listing said
    side: str | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    reduce_only: bool = False
    order_type: str | None = None
    expired: bool = False  # ended by the exchange (time in force), not cancelled by us


@attrs.frozen
class Position:
    """An open position (one-way mode) in base units."""

    symbol: str  # Testudo form
    side: str  # long | short
    quantity: Decimal  # base units, positive
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None


@attrs.frozen
class MarketRules:
    tick_size: Decimal
    lot_size: Decimal  # base units
    min_qty: Decimal  # base units
    min_notional: Decimal
    max_leverage: Decimal | None
    last_price: Decimal
    contract_size: Decimal = Decimal(1)


@attrs.frozen
class Equity:
    """What the account is worth for risk sizing, in the settlement currency."""

    equity: Decimal  # total margin balance (wallet + unrealised P&L) across collateral
    available: Decimal  # what new positions may use


@attrs.frozen
class AccountSnapshot:
    """What the Decision Loop needs from the exchange: market rules (with the last price),
    equity and available margin in the settlement asset, and the open positions."""

    rules: MarketRules
    equity: Decimal
    available: Decimal
    position_symbols: frozenset[str]
    unrealized_pnl: Decimal


def contract_size(market: Mapping[str, Any]) -> Decimal:
    """Base units per contract of a ccxt market (1 when the market does not say)."""
    size = to_decimal(market.get("contractSize"))
    return size if size is not None and size > 0 else Decimal(1)


class Venue:
    """The generic ccxt venue; one subclass per exchange overrides what differs."""

    #: ccxt class id this module speaks for (``binanceusdm``, ``hyperliquid``, ...).
    ccxt_id: ClassVar[str] = ""
    #: Client order ids: at most this many characters.
    client_id_length: ClassVar[int] = 36
    #: Conditional orders are listed and cancelled separately (``{"trigger": True}``).
    separate_trigger_orders: ClassVar[bool] = False
    #: The venue's published request budget, in weight per minute (per IP or per account,
    #: whichever binds first); polling spends a share of it (``TESTUDO_POLL_BUDGET_SHARE``).
    request_budget: ClassVar[int] = 1200
    #: Weight of one positions request, and of one open-orders request of one symbol.
    positions_weight: ClassVar[int] = 1
    orders_weight: ClassVar[int] = 1
    #: One open-orders request answers for every symbol at no extra cost.
    polls_all_symbols: ClassVar[bool] = False
    #: Weight charged to the venue's budget for any other read and write (orders, lookups).
    read_weight: ClassVar[int] = 1
    write_weight: ClassVar[int] = 1
    #: Funding payments are read with ccxt's ``fetch_funding_history``, this many a page
    #: (0: the venue reports none, its trades carry no funding).
    funding_page: ClassVar[int] = 0

    def __init__(self, info: ExchangeInfo) -> None:
        self.info = info

    # -- symbols and ids (pure) --------------------------------------------------------

    def ccxt_symbol(self, symbol: str) -> str:
        return to_ccxt(self.info, symbol)

    def testudo_symbol(self, ccxt_symbol: str) -> str:
        return from_ccxt(ccxt_symbol)

    def client_order_id(
        self, group_id: str, role: str, seq: int, target_idx: int | None = None
    ) -> str:
        """``tdo-<22 chars of the group id>-<role><target><seq>``: unique per order of a
        group, recomputable, tagged as Testudo's."""
        short = base64.urlsafe_b64encode(uuid.UUID(group_id).bytes).rstrip(b"=").decode()
        return f"{TESTUDO_PREFIX}{short}-{role_code(role, seq, target_idx)}"[
            : self.client_id_length
        ]

    def is_testudo_order(self, client_id: str | None) -> bool:
        return bool(client_id) and str(client_id).lower().startswith(TESTUDO_PREFIX)

    # -- ccxt client setup -----------------------------------------------------------

    def client_options(self) -> dict[str, Any]:
        """Extra ccxt options for this venue's clients."""
        return {}

    def prepare_client(self, client: Any) -> None:
        """Adjust a freshly built ccxt client (nothing by default)."""

    # -- orders (pure) -----------------------------------------------------------------

    def order_request(
        self, spec: OrderSpec, market: Mapping[str, Any], reference: Decimal | None
    ) -> OrderRequest:
        """The ccxt call for ``spec``: amounts in contracts, triggers as ccxt's
        ``stopLossPrice`` / ``takeProfitPrice`` (a market order when triggered)."""
        params: dict[str, Any] = {"clientOrderId": spec.client_order_id}
        if spec.reduce_only:
            params["reduceOnly"] = True
        price = spec.price
        if spec.trigger_price is not None:
            key = "stopLossPrice" if spec.trigger_kind == "stop_loss" else "takeProfitPrice"
            params[key] = spec.trigger_price
            price = None if spec.order_type == "market" else spec.price
        elif spec.order_type == "market" and self.market_needs_price:
            price = reference
        return OrderRequest(
            str(market["symbol"]),
            spec.order_type,
            spec.side,
            spec.quantity / contract_size(market),
            price,
            params,
        )

    #: Market orders need a reference price (the venue bounds their slippage with it).
    market_needs_price: ClassVar[bool] = False

    def open_orders_weight(self, symbols: int) -> int:
        """Weight of reading the open orders (regular and conditional) of ``symbols`` markets."""
        requests = 2 if self.separate_trigger_orders else 1
        return self.orders_weight * requests * (1 if self.polls_all_symbols else max(symbols, 1))

    def trigger_params(self, is_trigger: bool) -> dict[str, Any]:
        """Extra parameters naming the conditional-order service (none by default)."""
        return {"trigger": True} if is_trigger and self.separate_trigger_orders else {}

    def classify(self, exc: BaseException) -> Classified:
        """Transient, outcome unknown, refused, or credentials lost (see failures.py)."""
        return classify_ccxt(exc)

    # -- orders (worker thread) --------------------------------------------------------

    def place(self, client: Any, spec: OrderSpec, reference: Decimal | None) -> OrderState:
        market = client.market(self.ccxt_symbol(spec.symbol))
        request = self.order_request(spec, market, reference)
        raw = client.create_order(
            request.symbol,
            request.order_type,
            request.side,
            float(request.amount),
            None if request.price is None else float(request.price),
            {k: float(v) if isinstance(v, Decimal) else v for k, v in request.params.items()},
        )
        state = self.state_of(client, raw, spec.trigger_price is not None)
        if raw.get("status") is None:  # some venues only acknowledge with an id
            state = attrs.evolve(state, status="open", filled=Decimal(0))
        return state

    def fetch(self, client: Any, symbol: str, order_id: str, is_trigger: bool) -> OrderState:
        raw = client.fetch_order(
            order_id, self.ccxt_symbol(symbol), self.trigger_params(is_trigger)
        )
        return self.state_of(client, raw, is_trigger)

    def find_by_client_id(
        self, client: Any, symbol: str, client_id: str, is_trigger: bool
    ) -> OrderState | None:
        """The order with this client id, or None when the exchange does not know it."""
        params = {"clientOrderId": client_id, **self.trigger_params(is_trigger)}
        try:
            raw = client.fetch_order(None, self.ccxt_symbol(symbol), params)
        except ccxt.OrderNotFound:
            return None
        return self.state_of(client, raw, is_trigger)

    def cancel(self, client: Any, symbol: str, order_id: str, is_trigger: bool) -> bool:
        """Cancel; True when it was cancelled now, False when it was already gone."""
        try:
            client.cancel_order(order_id, self.ccxt_symbol(symbol), self.trigger_params(is_trigger))
        except ccxt.OrderNotFound:
            return False
        return True

    def open_orders(self, client: Any, symbol: str | None = None) -> list[OrderState]:
        """The account's open orders, regular and conditional (one symbol, or all)."""
        market = None if symbol is None else self.ccxt_symbol(symbol)
        out = [self.state_of(client, raw) for raw in client.fetch_open_orders(market)]
        if self.separate_trigger_orders:
            triggers = client.fetch_open_orders(market, None, None, self.trigger_params(True))
            out += [self.state_of(client, raw, True) for raw in triggers]
        return out

    def state_of(self, client: Any, raw: Mapping[str, Any], is_trigger: bool = False) -> OrderState:
        """A ccxt order as an :class:`OrderState` in base units."""
        symbol = raw.get("symbol")
        size = Decimal(1)
        if symbol and symbol in (getattr(client, "markets", None) or {}):
            size = contract_size(client.markets[symbol])
        return order_state(raw, size, is_trigger or _is_trigger_order(raw))

    def average_fill_price(
        self, client: Any, symbol: str, order_id: str, since_ms: int
    ) -> Decimal | None:
        """The volume-weighted price of an order's fills (for venues whose orders lack it)."""
        trades = client.fetch_my_trades(self.ccxt_symbol(symbol), since_ms)
        quantity = Decimal(0)
        notional = Decimal(0)
        for trade in trades:
            if str(trade.get("order")) != order_id:
                continue
            amount = to_decimal(trade.get("amount")) or Decimal(0)
            price = to_decimal(trade.get("price")) or Decimal(0)
            quantity += amount
            notional += amount * price
        return None if quantity == 0 else notional / quantity

    def order_fees(
        self, client: Any, symbol: str, order_ids: Iterable[str], since_ms: int
    ) -> dict[str, Decimal]:
        """The fees paid so far by each of ``order_ids`` (from the account's fills of
        ``symbol`` since ``since_ms``); an order without fills is absent."""
        wanted = set(order_ids)
        fees: dict[str, Decimal] = {}
        for trade in client.fetch_my_trades(self.ccxt_symbol(symbol), since_ms):
            order = str(trade.get("order"))
            if order in wanted:
                fees[order] = fees.get(order, Decimal(0)) + self.fill_fee(trade)
        return fees

    def fill_fee(self, trade: Mapping[str, Any]) -> Decimal:
        """What one ccxt trade cost in fees (positive = paid)."""
        fees = trade.get("fees") or ([trade["fee"]] if trade.get("fee") else [])
        return sum((to_decimal(f.get("cost")) or Decimal(0) for f in fees if f), Decimal(0))

    def funding_payments(
        self, client: Any, symbol: str, since_ms: int, until_ms: int | None = None
    ) -> list[tuple[int, Decimal]]:
        """The account's funding payments of ``symbol`` from ``since_ms`` to ``until_ms``
        (both included; None: up to now), oldest first: (time, amount received; negative
        when paid)."""
        if self.funding_page == 0:
            return []
        market = self.ccxt_symbol(symbol)
        last = until_ms if until_ms is not None else 2**62
        out: dict[tuple[int, str], Decimal] = {}
        for row in self.funding_rows(client, market, since_ms, until_ms):
            at = int(row["timestamp"])
            if row.get("symbol") == market and since_ms <= at <= last:
                out[(at, str(row.get("id")))] = self.funding_amount(row)
        return [(at, amount) for (at, _), amount in sorted(out.items())]

    def funding_rows(
        self, client: Any, market: str, since_ms: int, until_ms: int | None
    ) -> Iterator[Mapping[str, Any]]:
        """ccxt funding-history rows of ``market`` covering ``since_ms`` .. ``until_ms`` (more
        may come; :meth:`funding_payments` keeps the span's). By default the venue answers
        oldest first from ``since``: the next page starts after the last row's time."""
        last = until_ms if until_ms is not None else 2**62
        params = {} if until_ms is None else {"until": until_ms}
        start = since_ms
        while start <= last:
            rows = client.fetch_funding_history(market, start, self.funding_page, params)
            yield from rows
            if len(rows) < self.funding_page:
                break
            start = max(int(row["timestamp"]) for row in rows) + 1

    def funding_amount(self, row: Mapping[str, Any]) -> Decimal:
        """What one ccxt funding-history row received (negative: paid)."""
        return to_decimal(row.get("amount")) or Decimal(0)

    # -- account (worker thread) -------------------------------------------------------

    def set_leverage(self, client: Any, symbol: str, leverage: Decimal) -> None:
        client.set_leverage(int(leverage), self.ccxt_symbol(symbol))

    def position_mode(self, client: Any) -> str:
        """``one_way`` or ``hedge`` (the generic venue cannot tell: one-way)."""
        del client
        return "one_way"

    def equity(self, raw_balance: Mapping[str, Any]) -> Equity:
        """Equity and available margin from a ccxt ``fetch_balance`` result: the settlement
        asset's total and free amounts."""
        settle = self.info.settle
        total = to_decimal((raw_balance.get("total") or {}).get(settle)) or Decimal(0)
        free = to_decimal((raw_balance.get("free") or {}).get(settle)) or Decimal(0)
        return Equity(total, free)

    def account_equity(self, raw_balance: Mapping[str, Any], positions: list[Position]) -> Equity:
        """Equity from the balance and the open positions (the balance alone, by default)."""
        del positions
        return self.equity(raw_balance)

    def positions(self, client: Any) -> list[Position]:
        """Open positions in base units."""
        out = []
        for raw in client.fetch_positions():
            position = self.position_of(client, raw)
            if position is not None:
                out.append(position)
        return out

    def position_of(self, client: Any, raw: Mapping[str, Any]) -> Position | None:
        contracts = to_decimal(raw.get("contracts")) or Decimal(0)
        if contracts == 0:
            return None
        symbol = str(raw["symbol"])
        size = contract_size(client.markets[symbol]) if symbol in client.markets else Decimal(1)
        side = raw.get("side") or ("long" if contracts > 0 else "short")
        return Position(
            self.testudo_symbol(symbol),
            str(side),
            abs(contracts) * size,
            to_decimal(raw.get("entryPrice")),
            to_decimal(raw.get("markPrice")),
            to_decimal(raw.get("unrealizedPnl")),
            to_decimal(raw.get("leverage")),
            to_decimal(raw.get("liquidationPrice")),
        )

    def market_rules(self, client: Any, symbol: str, need_price: bool = True) -> MarketRules:
        """Tick, lot and minimums (base units) from the loaded markets; the last price only
        when asked."""
        market = client.market(self.ccxt_symbol(symbol))
        ticker = client.fetch_ticker(market["symbol"]) if need_price else {}
        size = contract_size(market)
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        return MarketRules(
            tick_size=to_decimal(precision.get("price")) or Decimal("0.01"),
            lot_size=(to_decimal(precision.get("amount")) or Decimal("0.001")) * size,
            min_qty=(to_decimal((limits.get("amount") or {}).get("min")) or Decimal(0)) * size,
            min_notional=to_decimal((limits.get("cost") or {}).get("min")) or Decimal(0),
            max_leverage=to_decimal((limits.get("leverage") or {}).get("max")),
            last_price=to_decimal(ticker.get("last")) or Decimal(0),
            contract_size=size,
        )

    def last_prices(self, client: Any, symbols: Iterable[str]) -> dict[str, Decimal]:
        """The last price of each Testudo symbol (one ticker request each)."""
        prices = {}
        for symbol in symbols:
            ticker = client.fetch_ticker(self.ccxt_symbol(symbol))
            prices[symbol] = to_decimal(ticker.get("last")) or Decimal(0)
        return prices

    def read_permissions(self, client: Any) -> dict[str, Any]:
        """What the key may do, where the venue tells (worker thread)."""
        del client
        return {"withdrawal_check": "unsupported"}

    def history(self) -> HistorySource | None:
        """How this venue's fill history is imported (None: not available yet)."""
        return None


def role_code(role: str, seq: int, target_idx: int | None) -> str:
    """``e1``, ``s2``, ``t03`` (target 0, third order): the order's place in its group."""
    return ROLE_CODES[role] + ("" if target_idx is None else str(target_idx)) + str(seq)


def balances_of(raw: Mapping[str, Any]) -> tuple[Balance, ...]:
    """Non-zero balances of a ccxt ``fetch_balance`` result, as Decimal values."""
    zero = Decimal(0)
    out = []
    for asset, value in sorted((raw.get("total") or {}).items()):
        total = to_decimal(value) or zero
        if total == 0:
            continue
        free = to_decimal((raw.get("free") or {}).get(asset)) or zero
        used = to_decimal((raw.get("used") or {}).get(asset)) or zero
        out.append(Balance(asset, total, free, used))
    return tuple(out)


STATUS_OF = {"closed": "filled", "canceled": "cancelled", "expired": "cancelled"}


def order_state(raw: Mapping[str, Any], size: Decimal, is_trigger: bool) -> OrderState:
    """A ccxt order structure as an :class:`OrderState`, ``size`` base units per contract."""
    status = str(raw.get("status") or "open")
    mapped = STATUS_OF.get(status, status if status in ("open", "rejected") else "open")
    filled = (to_decimal(raw.get("filled")) or Decimal(0)) * size
    amount = to_decimal(raw.get("amount"))
    quantity = None if amount is None else amount * size
    if mapped == "open" and quantity is not None and quantity > 0 and filled >= quantity:
        mapped = "filled"
    symbol = raw.get("symbol")
    trigger = to_decimal(raw.get("triggerPrice") or raw.get("stopPrice"))
    return OrderState(
        str(raw["id"]),
        raw.get("clientOrderId"),
        mapped,
        filled,
        to_decimal(raw.get("average")),
        is_trigger,
        symbol=from_ccxt(str(symbol)) if symbol else None,
        side=raw.get("side"),
        quantity=quantity,
        price=to_decimal(raw.get("price")),
        trigger_price=trigger,
        reduce_only=bool(raw.get("reduceOnly")),
        order_type=raw.get("type"),
        expired=status == "expired",
    )


def _is_trigger_order(raw: Mapping[str, Any]) -> bool:
    return bool(raw.get("triggerPrice") or raw.get("stopPrice"))
