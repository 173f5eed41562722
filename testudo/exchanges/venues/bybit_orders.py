"""Bybit v5 orders through ccxt: the parameters Testudo sends, and how orders are read back.

Pure parts (tested directly): :func:`trigger_direction`, :func:`order_params`,
:func:`status_of`. Worker-thread parts take a ccxt ``bybit`` client: :func:`listing` (every
open order, both kinds, every page), :func:`by_id` and :func:`by_client_id` (open or
recently finished first, then the order history).

Why these calls (ccxt 4.5.90 on a unified trading account):

* ``fetch_order(id, symbol)`` raises ``ArgumentsRequired`` before sending anything unless
  ``{"acknowledged": True}`` is passed; it then asks ``/v5/order/realtime``, which answers the
  open orders and the account's 500 most recently finished ones. Anything older is read from
  ``/v5/order/history`` (``fetch_canceled_and_closed_orders`` by ``orderId``).
* A conditional order is listed under ``orderFilter=StopOrder`` only until it triggers; then it
  works as an active order under the same id. So fetches and look-ups never pass the trigger
  filter (on a unified account no filter means every kind); the listing asks for both kinds
  explicitly, ``Order`` and ``StopOrder``, so it does not depend on the account type's default.
* ``/v5/order/realtime`` answers at most 50 orders a page (20 by default): the listing follows
  ``nextPageCursor`` (ccxt hangs it on one of the page's orders, then sorts them).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import ccxt

from testudo.money import to_decimal

from .base import OrderSpec

PAGE = 50  # /v5/order/realtime and /v5/order/history: limit 1..50
MAX_PAGES = 20  # 1000 open orders: Bybit's own cap is 500 active + 10 conditional a symbol
FILTERS = (("Order", False), ("StopOrder", True))


def trigger_direction(side: str, kind: str | None) -> str:
    """ccxt's ``triggerDirection`` for a conditional order: a stop that sells (closing a
    long) fires when the price falls to it, one that buys when it rises; a take-profit the
    other way round. Bybit refuses a direction whose condition already holds (``110092`` /
    ``110093``), which is how a stop the market has passed is caught."""
    falling = (side == "sell") == (kind == "stop_loss")
    return "descending" if falling else "ascending"


def order_params(spec: OrderSpec) -> dict[str, Any]:
    """The ccxt ``params`` of an order: ``clientOrderId`` (sent as ``orderLinkId``),
    ``reduceOnly``, and for a conditional order ``triggerPrice`` with its direction (the
    explicit form: ccxt's ``stopLossPrice`` / ``takeProfitPrice`` infer the same direction,
    but passing both at once would send the order to ``/v5/position/trading-stop``)."""
    params: dict[str, Any] = {"clientOrderId": spec.client_order_id}
    if spec.reduce_only:
        params["reduceOnly"] = True
    if spec.trigger_price is not None:
        params["triggerPrice"] = spec.trigger_price
        params["triggerDirection"] = trigger_direction(spec.side, spec.trigger_kind)
    return params


# Bybit's orderStatus where ccxt's unified status loses what Testudo needs: an order that
# filled in part and was then cancelled is ccxt "closed" (as if filled); a conditional order
# cancelled before it fired is "Deactivated".
STATUS_OF = {
    "PartiallyFilledCanceled": "cancelled",
    "Deactivated": "cancelled",
    "Cancelled": "cancelled",
    "Rejected": "rejected",
    "Filled": "filled",
}


def status_of(raw: Mapping[str, Any]) -> str | None:
    """Testudo's status of a ccxt Bybit order from Bybit's own ``orderStatus`` (None when
    ccxt's unified status says enough: the open ones)."""
    info = raw.get("info") or {}
    return STATUS_OF.get(str(info.get("orderStatus") or ""))


def next_cursor(page: list[dict[str, Any]]) -> str | None:
    """The ``nextPageCursor`` ccxt attached to one order of the page ("" on the last)."""
    for order in page:
        cursor = (order.get("info") or {}).get("nextPageCursor")
        if cursor:
            return str(cursor)
    return None


def listing(client: Any, market: str | None) -> list[tuple[dict[str, Any], bool]]:
    """Every open order of ``market`` (of every USDT market when None), regular and
    conditional, each with whether it is a (not yet triggered) conditional order."""
    out: list[tuple[dict[str, Any], bool]] = []
    for order_filter, conditional in FILTERS:
        params: dict[str, Any] = {"orderFilter": order_filter}
        for _ in range(MAX_PAGES):
            page = list(client.fetch_open_orders(market, None, PAGE, params))
            out += [(raw, conditional) for raw in page]
            cursor = next_cursor(page)
            if cursor is None:
                break
            params = {"orderFilter": order_filter, "cursor": cursor}
    return out


def by_id(client: Any, market: str, order_id: str) -> dict[str, Any]:
    """The order ``order_id``: open or among the 500 latest finished (realtime), else from
    the order history; raises ``OrderNotFound`` when neither knows it."""
    try:
        found: dict[str, Any] = client.fetch_order(order_id, market, {"acknowledged": True})
        return found
    except ccxt.OrderNotFound:
        pass
    older = client.fetch_canceled_and_closed_orders(market, None, None, {"orderId": order_id})
    for raw in older:
        if str(raw.get("id")) == order_id:
            return dict(raw)
    raise ccxt.OrderNotFound(f"bybit order {order_id} was not found")


def by_client_id(client: Any, market: str, client_id: str) -> dict[str, Any] | None:
    """The order whose ``orderLinkId`` is ``client_id``: open or recently finished
    (realtime), else from the order history; None when Bybit never received it."""
    recent = client.fetch_open_orders(market, None, None, {"orderLinkId": client_id})
    found = _newest_with(recent, client_id)
    if found is not None:
        return found
    older = client.fetch_canceled_and_closed_orders(market, None, None, {"orderLinkId": client_id})
    return _newest_with(older, client_id)


def _newest_with(orders: list[dict[str, Any]], client_id: str) -> dict[str, Any] | None:
    matching = [o for o in orders if o.get("clientOrderId") == client_id]
    if not matching:
        return None
    newest: dict[str, Any] = max(matching, key=lambda o: int(o.get("timestamp") or 0))
    return dict(newest)


def fill_average(trades: list[dict[str, Any]]) -> Decimal | None:
    """The volume-weighted price of executions (ccxt trades)."""
    quantity = Decimal(0)
    notional = Decimal(0)
    for trade in trades:
        amount = to_decimal(trade.get("amount")) or Decimal(0)
        quantity += amount
        notional += amount * (to_decimal(trade.get("price")) or Decimal(0))
    return None if quantity == 0 else notional / quantity
