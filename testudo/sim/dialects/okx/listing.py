"""OKX order lists: ``orders-pending``, ``orders-history`` (7 days) and
``orders-history-archive`` (3 months), newest first, paged by ``ordId`` (``after`` = older,
``before`` = newer), at most 100 per page."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from testudo.sim.dialects.okx import views
from testudo.sim.dialects.okx.common import (
    SWAP,
    Call,
    OkxError,
    Route,
    RouteTable,
    Venue,
    bad,
    integer,
    page_limit,
    text,
)
from testudo.sim.dialects.okx.lookup import by_ord_id, is_regular, visible
from testudo.sim.engine import Account
from testudo.sim.model import Order

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
QUARTER_MS = 90 * DAY_MS
Key = tuple[int, int]


def order_key(order: Order) -> Key:
    """Sort key of a regular order: creation time (trigger time for a triggered algo's
    order), then id."""
    created = (
        order.triggered_ms if views.is_algo(order) and order.triggered_ms else order.created_ms
    )
    return (created, order.id)


def paged(
    rows: Iterable[Order],
    key: Callable[[Order], Key],
    cursors: tuple[Key | None, Key | None],
    limit: int,
) -> list[Order]:
    """Rows newer than ``before`` and older than ``after``, newest first, ``limit`` of them."""
    after, before = cursors
    chosen = [
        row
        for row in rows
        if (after is None or key(row) < after) and (before is None or key(row) > before)
    ]
    chosen.sort(key=key, reverse=True)
    return chosen[:limit]


def check_inst_type(call: Call, *, required: bool) -> bool:
    """Whether the request is about swaps (``instType`` absent or ``SWAP``)."""
    inst_type = text(call.params, "instType")
    if inst_type is None:
        if required:
            raise OkxError("50014", "Parameter instType can not be empty")
        return True
    if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
        raise bad("instType")
    return inst_type == SWAP


class ListingApi:
    """Signed order-list endpoints."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/api/v5/trade/orders-pending"): Route(self._pending, True),
            ("GET", "/api/v5/trade/orders-history"): Route(
                lambda call: self._history(call, WEEK_MS), True
            ),
            ("GET", "/api/v5/trade/orders-history-archive"): Route(
                lambda call: self._history(call, QUARTER_MS), True
            ),
        }

    def _cursors(self, account: Account, call: Call) -> tuple[Key | None, Key | None]:
        keys: list[Key | None] = []
        for name in ("after", "before"):
            raw = text(call.params, name)
            if raw is None:
                keys.append(None)
                continue
            order = by_ord_id(account, raw)
            if order is None:
                raise bad(name)
            keys.append(order_key(order))
        return keys[0], keys[1]

    def _matches(self, call: Call, order: Order) -> bool:
        inst_id = text(call.params, "instId")
        ord_type = text(call.params, "ordType")
        state = text(call.params, "state")
        contract = self.venue.by_symbol[order.symbol]
        return (
            (inst_id is None or inst_id == contract.inst_id)
            and (ord_type is None or ord_type == views.ord_type(order))
            and (state is None or state == views.order_state(order))
        )

    def _view(self, orders: list[Order]) -> list[object]:
        return [views.order_view(self.venue, self.venue.by_symbol[o.symbol], o) for o in orders]

    def _pending(self, call: Call) -> list[object]:
        """Live regular orders (a triggered limit stop included)."""
        limit = page_limit(call.params)
        if not check_inst_type(call, required=False):
            return []
        account = self.venue.account(call)
        rows = [o for o in account.open_orders.values() if is_regular(o) and self._matches(call, o)]
        return self._view(paged(rows, order_key, self._cursors(account, call), limit))

    def _history(self, call: Call, window_ms: int) -> list[object]:
        """Finished regular orders of the last 7 days (or 3 months for the archive)."""
        limit = page_limit(call.params)
        if not check_inst_type(call, required=True):
            return []
        account = self.venue.account(call)
        now = self.venue.now
        begin = max(integer(call.params, "begin") or 0, now - window_ms)
        end = integer(call.params, "end")
        rows = [
            o
            for o in account.orders.values()
            if is_regular(o)
            and not o.is_open
            and visible(o, now)
            and begin <= order_key(o)[0]
            and (end is None or order_key(o)[0] <= end)
            and self._matches(call, o)
        ]
        return self._view(paged(rows, order_key, self._cursors(account, call), limit))
