"""WOO X orders through ccxt: the parameters Testudo sends, and how orders are read back.

Pure parts (tested directly): :func:`order_params`. Worker-thread parts take a ccxt ``woo``
client: :func:`listing` (every open order, both kinds, every page), :func:`by_client_id`
(regular or algo), :func:`fills_of` (one order's executions).

Why these calls (ccxt 4.5.90):

* A stop or a trigger take-profit is an **algo order**: ccxt sends any order with
  ``triggerPrice`` to ``POST /v3/trade/algoOrder`` as ``algoType: STOP`` (WOO reports it as
  ``STOP_LOSS`` or ``TAKE_PROFIT`` by the trigger's side). ccxt's ``stopLossPrice`` /
  ``takeProfitPrice`` are not WOO parameters: ccxt passes them through to the plain order
  endpoint, where WOO ignores them and the reduce-only market order closes the position at
  once. So Testudo never sends them.
* Algo orders live apart: their own ids, their own client ids (``clientAlgoOrderId``; ccxt
  maps ``clientOrderId`` to it for a conditional order), and their own endpoints to list
  (``/v3/trade/algoOrders``), fetch and cancel (``/v3/trade/algoOrder``); the regular
  endpoints never show them. ccxt reaches them with ``{"trigger": True}``.
* A look-up by client id goes to WOO's own parameter (``clientOrderId`` /
  ``clientAlgoOrderId``) directly: ccxt's ``fetch_order`` with ``trigger`` sends its *id*
  argument as the client algo id, which reads a client id as an order id. Not found is
  ``-1006`` for a regular order (ccxt: ``BadRequest``) and ``317152`` for an algo order.
* The open-order lists are paged (``page`` from 1, ``size`` up to 500) and answer every
  symbol at once when none is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ccxt

from . import woo_codes
from .base import OrderSpec

PAGE = 500  # /v3/trade/orders and /v3/trade/algoOrders: size up to 500
MAX_PAGES = 10
OPEN = {"status": "INCOMPLETE"}


def order_params(spec: OrderSpec) -> dict[str, Any]:
    """The ccxt ``params`` of an order: the numeric ``clientOrderId`` (sent as
    ``clientAlgoOrderId`` on the algo endpoint), ``reduceOnly``, and ``triggerPrice`` for a
    stop or a trigger take-profit (which sends it to the algo endpoint)."""
    params: dict[str, Any] = {"clientOrderId": spec.client_order_id}
    if spec.reduce_only:
        params["reduceOnly"] = True
    if spec.trigger_price is not None:
        params["triggerPrice"] = spec.trigger_price
    return params


def kind_params(is_trigger: bool) -> dict[str, Any]:
    """ccxt's switch to the algo endpoints."""
    return {"trigger": True} if is_trigger else {}


def listing(client: Any, market: str | None) -> list[tuple[dict[str, Any], bool]]:
    """Every open order of ``market`` (of every market when None), regular and algo, each
    with whether it is an algo order."""
    out: list[tuple[dict[str, Any], bool]] = []
    for is_trigger in (False, True):
        for number in range(1, MAX_PAGES + 1):
            params = {**kind_params(is_trigger), "page": number}
            page = list(client.fetch_open_orders(market, None, PAGE, params))
            out += [(raw, is_trigger) for raw in page]
            if len(page) < PAGE:
                break
    return out


def by_client_id(
    client: Any, market: Mapping[str, Any], client_id: str, is_trigger: bool
) -> dict[str, Any] | None:
    """The order (regular, or algo when ``is_trigger``) whose client id is ``client_id``;
    None when WOO never received it."""
    try:
        if is_trigger:
            answer = client.v3PrivateGetTradeAlgoOrder({"clientAlgoOrderId": client_id})
        else:
            answer = client.v3PrivateGetTradeOrder({"clientOrderId": client_id})
    except (ccxt.BadRequest, ccxt.OrderNotFound) as exc:
        if woo_codes.not_found(exc):
            return None
        raise
    data = (answer or {}).get("data") or {}
    if not data:
        return None
    found: dict[str, Any] = client.parse_order(data, market)
    return found


def fills_of(client: Any, symbol: str, order_id: str) -> list[dict[str, Any]]:
    """The executions of one order, regular or algo (``GET /v1/order/{oid}/trades``)."""
    return list(client.fetch_order_trades(order_id, symbol))
