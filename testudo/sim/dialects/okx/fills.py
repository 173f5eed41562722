"""OKX fills: ``/trade/fills`` (last 3 days) and ``/trade/fills-history`` (last 3 months,
``instType`` required), newest first, at most 100 a page.

Paging is by ``billId``: ``after`` returns fills older than that id, ``before`` newer ones
(the newest of them first, as OKX's cursors do); ``begin`` / ``end`` bound the fill time.
Bill ids increase with time (history is generated below live ids), so both cursors and
time bounds are binary searches over the account's time-ordered fill log.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from testudo.sim.dialects.okx import views
from testudo.sim.dialects.okx.common import (
    Call,
    Route,
    RouteTable,
    Venue,
    integer,
    page_limit,
    text,
)
from testudo.sim.dialects.okx.listing import DAY_MS, QUARTER_MS, check_inst_type
from testudo.sim.dialects.okx.lookup import by_ord_id
from testudo.sim.engine import Account
from testudo.sim.model import Fill

RECENT_MS = 3 * DAY_MS


def _time(fill: Fill) -> int:
    return fill.time_ms


def _id(fill: Fill) -> int:
    return fill.id


class FillsApi:
    """Signed fill endpoints."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/api/v5/trade/fills"): Route(
                lambda call: self._fills(call, RECENT_MS, inst_type_required=False), True
            ),
            ("GET", "/api/v5/trade/fills-history"): Route(
                lambda call: self._fills(call, QUARTER_MS, inst_type_required=True), True
            ),
        }

    def _order_filter(self, account: Account, call: Call) -> int | None:
        """The engine order id ``ordId`` names (-1 when it names no order)."""
        raw = text(call.params, "ordId")
        if raw is None:
            return None
        order = by_ord_id(account, raw)
        if order is not None:
            return order.id
        return int(raw) if raw.isdigit() else -1

    def _bounds(self, rows: Sequence[Fill], call: Call, window_ms: int) -> tuple[int, int]:
        """Index range of the fills inside the window, time bounds and cursors."""
        begin = max(integer(call.params, "begin") or 0, self.venue.now - window_ms)
        end = integer(call.params, "end")
        after = integer(call.params, "after")
        before = integer(call.params, "before")
        lo = bisect.bisect_left(rows, begin, key=_time)
        hi = len(rows) if end is None else bisect.bisect_right(rows, end, key=_time)
        if after is not None:
            hi = min(hi, bisect.bisect_left(rows, after, key=_id))
        if before is not None:
            lo = max(lo, bisect.bisect_right(rows, before, key=_id))
        return lo, hi

    def _fills(self, call: Call, window_ms: int, *, inst_type_required: bool) -> list[object]:
        limit = page_limit(call.params)
        if not check_inst_type(call, required=inst_type_required):
            return []
        inst_id = text(call.params, "instId")
        symbol = None if inst_id is None else self.venue.contract(inst_id).instrument.symbol
        account = self.venue.account(call)
        order_id = self._order_filter(account, call)
        rows = account.fills.all()
        lo, hi = self._bounds(rows, call, window_ms)
        chosen: list[object] = []
        for index in range(hi - 1, lo - 1, -1):
            fill = rows[index]
            if symbol is not None and fill.symbol != symbol:
                continue
            if order_id is not None and fill.order_id != order_id:
                continue
            contract = self.venue.by_symbol[fill.symbol]
            chosen.append(views.fill_view(self.venue, contract, fill))
            if len(chosen) == limit:
                break
        return chosen
