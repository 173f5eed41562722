"""Finding orders the way OKX does: by ``ordId`` / ``clOrdId`` (regular) or ``algoId`` /
``algoClOrdId`` (algo), with OKX's retention of canceled orders that never filled."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from testudo.sim.dialects.okx import views
from testudo.sim.dialects.okx.common import TRIGGERED_ORDER_OFFSET, Contract, Venue, text
from testudo.sim.engine import Account
from testudo.sim.model import Order, OrderStatus

# OKX keeps a canceled order that never filled for 2 hours only (order details and
# order history both stop showing it).
UNFILLED_CANCEL_RETENTION_MS = 2 * 3_600_000


def visible(order: Order, now_ms: int) -> bool:
    """Whether OKX still shows the order (canceled unfilled orders vanish after 2 h)."""
    gone = order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and order.filled_qty == 0
    return not (gone and order.updated_ms < now_ms - UNFILLED_CANCEL_RETENTION_MS)


def is_regular(order: Order) -> bool:
    """A regular order: placed as one, or the order a triggered algo order placed (none
    when placing it failed: the algo order is then ``order_failed``)."""
    if not views.is_algo(order):
        return True
    return order.triggered_ms is not None and views.algo_state(order) != "order_failed"


def by_ord_id(account: Account, ord_id: str) -> Order | None:
    """The regular order with wire id ``ord_id`` (a triggered algo's order included)."""
    if not ord_id.isdigit():
        return None
    number = int(ord_id)
    order = account.orders.get(number)
    if order is not None and not views.is_algo(order):
        return order
    order = account.orders.get(number - TRIGGERED_ORDER_OFFSET)
    if order is not None and views.is_algo(order) and is_regular(order):
        return order
    return None


def newest_first(account: Account) -> Iterator[Order]:
    """Open orders first, then every order, newest first (a client id may be reused)."""
    yield from reversed(account.open_orders.values())
    yield from reversed(account.orders.values())


def find_regular(
    venue: Venue, account_id: int, contract: Contract, source: Mapping[str, object], *, live: bool
) -> Order | None:
    """The regular order ``source`` names (``ordId`` wins over ``clOrdId``), in ``contract``.

    ``live`` asks for an order still working (to cancel it); otherwise any order OKX still
    shows.
    """
    account = venue.engine.account(account_id)
    ord_id = text(source, "ordId")
    cl_ord_id = text(source, "clOrdId")
    order: Order | None = None
    if ord_id is not None:
        order = by_ord_id(account, ord_id)
    elif cl_ord_id is not None:
        order = next(
            (o for o in newest_first(account) if not views.is_algo(o) and o.client_id == cl_ord_id),
            None,
        )
    if order is None or order.symbol != contract.instrument.symbol:
        return None
    if live:
        return order if order.is_open else None
    return order if visible(order, venue.now) else None


def find_algo(venue: Venue, account_id: int, source: Mapping[str, object]) -> Order | None:
    """The algo order named by ``algoId`` or ``algoClOrdId``."""
    account = venue.engine.account(account_id)
    algo_id = text(source, "algoId")
    algo_cl_ord_id = text(source, "algoClOrdId")
    if algo_id is not None:
        order = account.orders.get(int(algo_id)) if algo_id.isdigit() else None
        return order if order is not None and views.is_algo(order) else None
    if algo_cl_ord_id is None:
        return None
    return next(
        (o for o in newest_first(account) if views.is_algo(o) and o.client_id == algo_cl_ord_id),
        None,
    )
