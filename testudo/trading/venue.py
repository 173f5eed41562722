"""Order operations on a ccxt client, with each exchange's own rules (worker-thread code).

* Binance USD-M keeps conditional orders (stop-market, take-profit-market) in its algo order
  service: they are fetched, listed and cancelled with ``{"trigger": True}``.
* Hyperliquid needs a reference price even for market orders (slippage bound) and reports
  fills' prices only through user fills.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import ccxt

from testudo.exchanges.catalog import ExchangeInfo
from testudo.exchanges.symbols import to_ccxt
from testudo.money import to_decimal


@attrs.frozen
class OrderSpec:
    """An order as a group wants it; ``trigger_price`` makes it a stop/take-profit trigger."""

    client_order_id: str
    symbol: str  # Testudo form
    side: str
    order_type: str  # limit | market
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_kind: str | None = None  # stop_loss | take_profit
    reduce_only: bool = False


@attrs.frozen
class OrderState:
    """An order as the exchange reports it."""

    exchange_order_id: str
    client_order_id: str | None
    status: str  # open | filled | cancelled | rejected
    filled: Decimal
    average_price: Decimal | None
    is_trigger: bool = False


def _is_binance(info: ExchangeInfo) -> bool:
    return info.ccxt_id == "binanceusdm"


def state_of(raw: dict[str, Any], is_trigger: bool = False) -> OrderState:
    status = raw.get("status") or "open"
    mapped = {
        "closed": "filled",
        "canceled": "cancelled",
        "expired": "cancelled",
        "rejected": "rejected",
    }.get(status, "open" if status == "open" else status)
    filled = to_decimal(raw.get("filled")) or Decimal(0)
    amount = to_decimal(raw.get("amount"))
    if mapped == "open" and amount is not None and amount > 0 and filled >= amount:
        mapped = "filled"
    return OrderState(
        str(raw["id"]),
        raw.get("clientOrderId"),
        mapped,
        filled,
        to_decimal(raw.get("average")),
        is_trigger,
    )


def place(client: Any, info: ExchangeInfo, spec: OrderSpec, reference: Decimal) -> OrderState:
    symbol = to_ccxt(info, spec.symbol)
    params: dict[str, Any] = {"clientOrderId": spec.client_order_id}
    if spec.reduce_only:
        params["reduceOnly"] = True
    price = spec.price
    if spec.trigger_price is not None:
        key = "stopLossPrice" if spec.trigger_kind == "stop_loss" else "takeProfitPrice"
        params[key] = float(spec.trigger_price)
        price = spec.trigger_price
    if spec.order_type == "market" and price is None:
        price = reference
    raw = client.create_order(
        symbol,
        spec.order_type,
        spec.side,
        float(spec.quantity),
        None if price is None else float(price),
        params,
    )
    state = state_of(raw, spec.trigger_price is not None)
    if raw.get("status") is None:  # some venues only acknowledge with an id
        state = attrs.evolve(state, status="open", filled=Decimal(0))
    return state


def _trigger_params(info: ExchangeInfo, is_trigger: bool) -> dict[str, Any]:
    return {"trigger": True} if is_trigger and _is_binance(info) else {}


def fetch(
    client: Any, info: ExchangeInfo, symbol: str, exchange_order_id: str, is_trigger: bool
) -> OrderState:
    raw = client.fetch_order(
        exchange_order_id, to_ccxt(info, symbol), _trigger_params(info, is_trigger)
    )
    return _with_triggered_fill(client, info, symbol, raw, is_trigger)


def _with_triggered_fill(
    client: Any, info: ExchangeInfo, symbol: str, raw: dict[str, Any], is_trigger: bool
) -> OrderState:
    """A Binance conditional order that triggered reports its fill on the order it spawned
    (``actualOrderId``); read the fill from there, keeping the conditional order's id."""
    state = state_of(raw, is_trigger)
    actual = str((raw.get("info") or {}).get("actualOrderId") or "")
    if not (is_trigger and _is_binance(info) and actual and state.filled == 0):
        return state
    spawned = state_of(client.fetch_order(actual, to_ccxt(info, symbol)))
    status = spawned.status if spawned.status != "open" else "open"
    return attrs.evolve(
        state, status=status, filled=spawned.filled, average_price=spawned.average_price
    )


def find_by_client_id(
    client: Any, info: ExchangeInfo, symbol: str, client_id: str, is_trigger: bool
) -> OrderState | None:
    """The order with this client id, or None when the exchange does not know it."""
    market = to_ccxt(info, symbol)
    try:
        if _is_binance(info):
            raw = client.fetch_order(
                None, market, {"clientOrderId": client_id, **_trigger_params(info, is_trigger)}
            )
        else:
            raw = client.fetch_order(client_id, market)
    except ccxt.OrderNotFound:
        return None
    return _with_triggered_fill(client, info, symbol, raw, is_trigger)


def cancel(
    client: Any, info: ExchangeInfo, symbol: str, exchange_order_id: str, is_trigger: bool
) -> bool:
    """Cancel; True when it was cancelled now, False when it was already gone."""
    try:
        client.cancel_order(
            exchange_order_id, to_ccxt(info, symbol), _trigger_params(info, is_trigger)
        )
    except ccxt.OrderNotFound:
        return False
    return True


def open_orders(
    client: Any, info: ExchangeInfo, symbol: str | None = None
) -> list[tuple[str, OrderState]]:
    """(Testudo symbol, state) of the account's open orders, regular and trigger.

    With ``symbol`` one market only: Binance weighs an all-symbols request 40 times more.
    """
    from testudo.exchanges.symbols import from_ccxt

    market = None if symbol is None else to_ccxt(info, symbol)
    out = [(from_ccxt(raw["symbol"]), state_of(raw)) for raw in client.fetch_open_orders(market)]
    if _is_binance(info):
        triggers = client.fetch_open_orders(market, None, None, {"trigger": True})
        out += [(from_ccxt(raw["symbol"]), state_of(raw, True)) for raw in triggers]
    return out


def average_fill_price(
    client: Any, info: ExchangeInfo, symbol: str, exchange_order_id: str, since_ms: int
) -> Decimal | None:
    """The volume-weighted price of an order's fills (for venues whose orders lack it)."""
    trades = client.fetch_my_trades(to_ccxt(info, symbol), since_ms)
    quantity = Decimal(0)
    notional = Decimal(0)
    for trade in trades:
        if str(trade.get("order")) != exchange_order_id:
            continue
        amount = to_decimal(trade.get("amount")) or Decimal(0)
        price = to_decimal(trade.get("price")) or Decimal(0)
        quantity += amount
        notional += amount * price
    return None if quantity == 0 else notional / quantity


@attrs.frozen
class MarketRules:
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_leverage: Decimal | None
    last_price: Decimal


def market_rules(
    client: Any, info: ExchangeInfo, symbol: str, need_price: bool = True
) -> MarketRules:
    """Tick, lot and minimums from the loaded markets; the last price only when asked."""
    market = client.market(to_ccxt(info, symbol))
    ticker = client.fetch_ticker(market["symbol"]) if need_price else {}
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    return MarketRules(
        tick_size=to_decimal(precision.get("price")) or Decimal("0.01"),
        lot_size=to_decimal(precision.get("amount")) or Decimal("0.001"),
        min_qty=to_decimal((limits.get("amount") or {}).get("min")) or Decimal(0),
        min_notional=to_decimal((limits.get("cost") or {}).get("min")) or Decimal(0),
        max_leverage=to_decimal((limits.get("leverage") or {}).get("max")),
        last_price=to_decimal(ticker.get("last")) or Decimal(0),
    )


def set_leverage(client: Any, info: ExchangeInfo, symbol: str, leverage: Decimal) -> None:
    client.set_leverage(int(leverage), to_ccxt(info, symbol))


@attrs.frozen
class AccountSnapshot:
    """What the Decision Loop needs from the exchange: market rules (with the last price),
    equity and available margin in the settlement asset, and the open positions."""

    rules: MarketRules
    equity: Decimal
    available: Decimal
    position_symbols: frozenset[str]
    unrealized_pnl: Decimal
