"""WOO X fills: ``GET /v3/trade/transactionHistory`` (ccxt ``fetch_my_trades``) and the v1
``GET /v1/order/{oid}/trades`` (ccxt ``fetch_order_trades``).

``transactionHistory`` covers the past two years, optionally one ``symbol``, ``startTime`` ..
``endTime`` (execution time, inclusive). Without ``fromId`` the rows are newest first and paged
by ``page`` (from 1) and ``limit`` (default 100, at most 500); ``meta`` gives ``total``,
``recordsPerPage`` and ``currentPage``, and a page past the end is empty (ccxt's
``paginate`` stops there). With ``fromId`` the rows are the fills with ``id >= fromId``, oldest
first, up to ``limit`` (continue from the last id + 1).
"""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo import views
from testudo.sim.dialects.woo.common import (
    Params,
    Route,
    RouteTable,
    VenueContext,
    int_param,
    page,
)
from testudo.sim.dialects.woo.errors import INVALID_PARAM, NOT_FOUND, WooError
from testudo.sim.model import Fill

TWO_YEARS_MS = 730 * 86_400_000
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class TradeHistoryApi(VenueContext):
    """Signed fill endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/v3/trade/transactionHistory"): Route(self._history, signed=True),
        }

    def _history(self, params: Params, creds: Credentials | None) -> object:
        account = self.engine.account(self.account_id(creds))
        instrument = self.instrument(params, required=False)
        limit = min(int_param(params, "limit") or DEFAULT_LIMIT, MAX_LIMIT)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        from_id = int_param(params, "fromId")
        if limit < 1 or (start is not None and end is not None and end < start):
            raise WooError(INVALID_PARAM)
        oldest = max(self.now - TWO_YEARS_MS, start or 0)
        fills = [
            f
            for f in account.fills.between(oldest, end, len(account.fills))
            if (instrument is None or f.symbol == instrument.symbol)
            and (from_id is None or f.id >= from_id)
        ]
        if from_id is not None:
            chosen = sorted(fills, key=lambda f: f.id)[:limit]
            meta = {"total": len(fills), "recordsPerPage": limit, "currentPage": 1}
        else:
            newest_first = sorted(fills, key=lambda f: (f.time_ms, f.id), reverse=True)
            chosen, meta = page(newest_first, {**params, "size": limit})
        return {"rows": [self._row(f) for f in chosen], "meta": meta}

    def order_trades(self, params: Params, creds: Credentials | None) -> object:
        """``GET /v1/order/{oid}/trades``: the fills of one order (regular or algo)."""
        account_id = self.account_id(creds)
        order_id = int_param(params, "oid")
        assert order_id is not None
        account = self.engine.account(account_id)
        order = account.orders.get(order_id)
        if order is None:
            raise WooError(NOT_FOUND)
        fills = account.fills.between(order.created_ms, None, len(account.fills))
        instrument = self.engine.instruments[order.symbol]
        return {
            "rows": [views.v1_trade_row(instrument, f) for f in fills if f.order_id == order_id]
        }

    def _row(self, fill: Fill) -> dict[str, object]:
        return views.transaction_row(self.engine.instruments[fill.symbol], fill)
