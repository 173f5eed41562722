"""OKX v5 orders through ccxt: the parameters Testudo sends, and how orders are read back.

Pure parts (tested directly): :func:`order_params`, :func:`next_after`, :func:`executed_id`.
Worker-thread parts take a ccxt ``okx`` client: :func:`listing` (every open order, regular
and conditional, every page), :func:`algo_by_id` / :func:`algo_by_client_id` (a conditional
order and, once it fired, the regular order it became), :func:`regular_by_client_id`.

Why these calls (ccxt's ``okx`` client, USDT swaps, net position mode, cross margin):

* A stop or a trigger take-profit is a *conditional algo order*: ``POST
  /api/v5/trade/order-algo`` (``ordType`` ``conditional``) with ``slTriggerPx`` and ``slOrdPx``
  ``-1`` (a market order when triggered; ccxt sends ``-1`` when no price is given) or
  ``tpTriggerPx`` / ``tpOrdPx`` ``-1``, reduce-only, its client id as ``algoClOrdId``. The
  regular order endpoints do not know it: a fetch or a cancel there answers ``51603`` /
  ``51400`` ("not found"), which must never be read as "the stop is gone".
* So every call about a conditional order passes ``{"trigger": True}`` (ccxt then uses
  ``/trade/order-algo`` by ``algoId`` or ``algoClOrdId`` and ``/trade/cancel-algos``), and
  the open ones are listed with ``{"ordType": "conditional"}`` on
  ``/trade/orders-algo-pending`` (``{"trigger": True}`` alone lists ``ordType`` ``trigger``,
  a different kind, and would find no stop at all).
* A conditional order that fired reports ``state`` ``effective`` and the ``ordId`` of the
  regular order it placed; the fill (size, average price) is that order's. Testudo keeps
  knowing the order by its ``algoId``.
* The open lists answer at most 100 orders a page, newest first; the next page is ``after``
  the oldest id of the page (OKX's ids grow with time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ccxt

from .base import OrderSpec

PAGE = 100  # orders-pending and orders-algo-pending: limit 1..100
MAX_PAGES = 20
CONDITIONAL = {"ordType": "conditional"}
TRIGGER = {"trigger": True}


def order_params(spec: OrderSpec) -> dict[str, Any]:
    """The ccxt ``params`` of an order: ``clientOrderId`` (sent as ``clOrdId``),
    ``reduceOnly``, and for a conditional order ``stopLossPrice`` / ``takeProfitPrice`` with
    the same client id as ``algoClOrdId`` (OKX's field on the algo endpoint). No order price
    goes with a conditional order, so ccxt sends ``slOrdPx`` / ``tpOrdPx`` ``-1``: a market
    order when it fires."""
    params: dict[str, Any] = {"clientOrderId": spec.client_order_id}
    if spec.reduce_only:
        params["reduceOnly"] = True
    if spec.trigger_price is not None:
        key = "stopLossPrice" if spec.trigger_kind == "stop_loss" else "takeProfitPrice"
        params[key] = spec.trigger_price
        params["algoClOrdId"] = spec.client_order_id
    return params


def next_after(page: list[dict[str, Any]], conditional: bool) -> str | None:
    """The ``after`` cursor of the next page: the oldest id of a full page (ccxt sorts the
    page oldest first, OKX answered it newest first); None when this page was the last."""
    if len(page) < PAGE:
        return None
    key = "algoId" if conditional else "ordId"
    ids = [str((raw.get("info") or {}).get(key) or raw.get("id") or "") for raw in page]
    numeric = [int(i) for i in ids if i.isdigit()]
    return str(min(numeric)) if numeric else None


def listing(client: Any, market: str | None) -> list[tuple[dict[str, Any], bool]]:
    """Every open order of ``market`` (of every swap when None), regular and conditional,
    each with whether it is a (not yet triggered) conditional order."""
    out: list[tuple[dict[str, Any], bool]] = []
    for conditional in (False, True):
        base: dict[str, Any] = dict(CONDITIONAL) if conditional else {}
        params = dict(base)
        for _ in range(MAX_PAGES):
            page = list(client.fetch_open_orders(market, None, PAGE, params))
            out += [(raw, conditional) for raw in page]
            after = next_after(page, conditional)
            if after is None:
                break
            params = {**base, "after": after}
    return out


def executed_id(algo: Mapping[str, Any]) -> str | None:
    """The ``ordId`` of the regular order a fired conditional order placed (None while it
    waits, or when it failed)."""
    info = algo.get("info") or {}
    if str(info.get("state") or "") not in ("effective", "partially_effective"):
        return None
    return str(info.get("ordId") or "") or None


def with_execution(client: Any, market: str, algo: dict[str, Any]) -> dict[str, Any]:
    """A conditional order, with the fill of the order it placed once it fired."""
    ord_id = executed_id(algo)
    if ord_id is None:
        return algo
    try:
        executed = client.fetch_order(ord_id, market)
    except ccxt.OrderNotFound:
        return algo
    merged = dict(algo)
    for key in ("filled", "average", "status", "remaining", "cost"):
        if executed.get(key) is not None:
            merged[key] = executed[key]
    return merged


def algo_by_id(client: Any, market: str, algo_id: str) -> dict[str, Any]:
    """The conditional order ``algo_id`` (raises ``OrderNotFound`` when OKX does not know
    it), with its execution's fill."""
    raw: dict[str, Any] = client.fetch_order(algo_id, market, dict(TRIGGER))
    return with_execution(client, market, raw)


def algo_by_client_id(client: Any, market: str, client_id: str) -> dict[str, Any] | None:
    """The conditional order whose ``algoClOrdId`` is ``client_id``; None when OKX never
    received it."""
    try:
        raw: dict[str, Any] = client.fetch_order(
            None, market, {**TRIGGER, "clientOrderId": client_id}
        )
    except ccxt.OrderNotFound:
        return None
    return with_execution(client, market, raw)


def regular_by_client_id(client: Any, market: str, client_id: str) -> dict[str, Any] | None:
    """The regular order whose ``clOrdId`` is ``client_id``; None when OKX never received
    it."""
    try:
        raw: dict[str, Any] = client.fetch_order(None, market, {"clientOrderId": client_id})
    except ccxt.OrderNotFound:
        return None
    return raw
