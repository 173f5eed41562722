"""Bybit order and execution look-ups: ``/v5/order/realtime``, ``/v5/order/history``,
``/v5/execution/list`` (trades and funding)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit import views
from testudo.sim.dialects.bybit.common import (
    LINEAR,
    Params,
    Route,
    RouteTable,
    VenueContext,
    account_id,
    integer,
    text,
)
from testudo.sim.dialects.bybit.errors import invalid
from testudo.sim.dialects.bybit.funding import funding_key, funding_view
from testudo.sim.dialects.bybit.ids import order_number
from testudo.sim.dialects.bybit.ledger import OrderLedger
from testudo.sim.dialects.bybit.mode import position_mode
from testudo.sim.dialects.bybit.paging import newest_first_page, page_limit
from testudo.sim.dialects.bybit.windows import execution_window, history_window
from testudo.sim.engine import Account
from testudo.sim.funding import Payment
from testudo.sim.model import Fill, Order
from testudo.sim.simulator import Simulator

RECENT_CLOSED = 500
DAY_MS = 86_400_000
SHORT_LIVED = ("Cancelled", "Rejected", "Deactivated")


def _order_key(order: Order) -> tuple[int, int]:
    return order.created_ms, order.id


def _fill_key(fill: Fill) -> tuple[int, int]:
    return fill.time_ms, fill.id


class QueryApi(VenueContext):
    """Signed read-only order and execution endpoints."""

    def __init__(self, sim: Simulator, ledger: OrderLedger) -> None:
        super().__init__(sim)
        self.ledger = ledger

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/v5/order/realtime"): r(self._realtime, signed=True),
            ("GET", "/v5/order/history"): r(self._history, signed=True),
            ("GET", "/v5/execution/list"): r(self._executions, signed=True),
        }

    def _by_key(self, params: Params, pool: Iterable[Order], *, coin_required: bool) -> list[Order]:
        """Orders named by ``orderId`` (first) or ``orderLinkId``, else the coin filters
        (``/v5/order/realtime`` needs ``symbol``, ``baseCoin`` or ``settleCoin``)."""
        order_id = text(params, "orderId")
        if order_id is not None:
            number = order_number(order_id)
            return [o for o in pool if o.id == number]
        link = text(params, "orderLinkId")
        if link is not None:
            return [o for o in pool if o.client_id == link]
        if coin_required:
            self.check_settle(params)
        self.instrument(params, required=False)
        return [o for o in pool if self.matches_coin(self.engine.instruments[o.symbol], params)]

    def _filtered(self, orders: list[Order], params: Params) -> list[Order]:
        order_filter = text(params, "orderFilter")
        if order_filter not in (None, "Order", "StopOrder"):
            raise invalid("orderFilter")
        if order_filter is not None:
            wanted = order_filter == "StopOrder"
            orders = [o for o in orders if views.is_conditional(o) == wanted]
        status = text(params, "orderStatus")
        if status is not None:
            orders = [o for o in orders if views.order_status(o) == status]
        return sorted(orders, key=_order_key, reverse=True)

    def _answer(self, account: Account, orders: list[Order], params: Params) -> object:
        page, cursor = newest_first_page(orders, _order_key, params, page_limit(params, 20, 50))
        facts = self.ledger.facts(account, page, position_mode(self.sim, account.id))
        return {
            "category": LINEAR,
            "list": [
                views.order_view(self.engine.instruments[o.symbol], o, facts[o.id]) for o in page
            ],
            "nextPageCursor": cursor,
        }

    def _recent_closed(self, account: Account) -> list[Order]:
        closed = [o for o in account.orders.values() if not o.is_open]
        closed.sort(key=lambda o: (o.updated_ms, o.id), reverse=True)
        return closed[:RECENT_CLOSED]

    def _realtime(self, params: Params, creds: Credentials | None) -> object:
        """Open orders; by ``orderId`` / ``orderLinkId`` also the 500 latest closed ones;
        ``openOnly=1``: those closed ones only."""
        self.category(params)
        account = self.engine.account(account_id(creds))
        open_only = integer(params, "openOnly") or 0
        if open_only not in (0, 1, 2):
            raise invalid("openOnly")
        recent = self._recent_closed(account)
        if text(params, "orderId") is not None or text(params, "orderLinkId") is not None:
            pool = [*account.open_orders.values(), *recent]
        else:
            pool = recent if open_only else list(account.open_orders.values())
        orders = self._filtered(self._by_key(params, pool, coin_required=True), params)
        return self._answer(account, orders, params)

    def _history(self, params: Params, creds: Credentials | None) -> object:
        """Orders of a 7-day window (the last 7 days by default); cancelled, rejected and
        deactivated orders without fills are kept 24 hours."""
        self.category(params)
        account = self.engine.account(account_id(creds))
        now = self.now
        pool = [
            o
            for o in account.orders.values()
            if not (
                views.order_status(o) in SHORT_LIVED
                and o.filled_qty == 0
                and o.updated_ms < now - DAY_MS
            )
        ]
        if text(params, "orderId") is None and text(params, "orderLinkId") is None:
            start, end = history_window(params, now)
            pool = [o for o in pool if start <= o.created_ms <= end]
        orders = self._filtered(self._by_key(params, pool, coin_required=False), params)
        return self._answer(account, orders, params)

    def _executions(self, params: Params, creds: Credentials | None) -> object:
        """Executions newest first, a 7-day window (or one order's, any age), cursor pages:
        trades and funding (``execType`` ``Trade`` / ``Funding``; both when absent)."""
        self.category(params)
        account = self.engine.account(account_id(creds))
        kind = text(params, "execType")
        rows: list[tuple[tuple[int, int], Callable[[], object]]] = []
        if kind in (None, "Trade"):
            rows += [
                (_fill_key(f), partial(self._fill_row, account, f))
                for f in self._fills(account, params)
            ]
        by_order = text(params, "orderId") is not None or text(params, "orderLinkId") is not None
        if kind in (None, "Funding") and not by_order:
            rows += [
                (funding_key(p), partial(funding_view, self.engine.instruments[p.symbol], p))
                for p in self._funding(account, params)
            ]
        rows.sort(key=lambda row: row[0], reverse=True)
        page, cursor = newest_first_page(
            rows, lambda row: row[0], params, page_limit(params, 50, 100)
        )
        return {"category": LINEAR, "list": [view() for _, view in page], "nextPageCursor": cursor}

    def _fill_row(self, account: Account, fill: Fill) -> object:
        instrument = self.engine.instruments[fill.symbol]
        return views.execution_view(instrument, fill, account.orders.get(fill.order_id))

    def _funding(self, account: Account, params: Params) -> list[Payment]:
        """The funding payments of the request's window and coin filters."""
        self.instrument(params, required=False)
        start, end = execution_window(params, self.now)
        return [
            p
            for p in account.funding
            if start <= p.time_ms <= end
            and self.matches_coin(self.engine.instruments[p.symbol], params)
        ]

    def _fills(self, account: Account, params: Params) -> list[Fill]:
        """The fills a request selects, newest first."""
        order_id, link = text(params, "orderId"), text(params, "orderLinkId")
        if order_id is not None or link is not None:
            numbers = (
                {order_number(order_id)}
                if order_id is not None
                else {o.id for o in account.orders.values() if o.client_id == link}
            )
            rows = [f for f in account.fills.all() if f.order_id in numbers]
        else:
            self.instrument(params, required=False)
            start, end = execution_window(params, self.now)
            rows = [
                f
                for f in account.fills.between(start, end, len(account.fills))
                if self.matches_coin(self.engine.instruments[f.symbol], params)
            ]
        return sorted(rows, key=_fill_key, reverse=True)
