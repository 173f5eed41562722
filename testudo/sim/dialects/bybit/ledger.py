"""What the dialect remembers about orders beyond the engine: the last price when each was
placed, and the fees each has paid (summed from the account's fills on demand)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from testudo.sim.dialects.bybit.mode import PositionMode, position_idx
from testudo.sim.dialects.bybit.views import OrderFacts
from testudo.sim.engine import Account
from testudo.sim.model import Order
from testudo.sim.money import ZERO


class OrderLedger:
    """Per-order facts Bybit shows and the engine does not keep."""

    def __init__(self) -> None:
        self.created_price: dict[int, Decimal] = {}

    def record(self, order: Order, last_price: Decimal) -> None:
        """Remember the last price at the moment ``order`` was accepted."""
        self.created_price[order.id] = last_price

    def facts(
        self, account: Account, orders: Iterable[Order], mode: PositionMode
    ) -> dict[int, OrderFacts]:
        """``OrderFacts`` of each order, fees summed in one pass over the fills since the
        oldest of them was created."""
        chosen = list(orders)
        if not chosen:
            return {}
        fees = dict.fromkeys((o.id for o in chosen), ZERO)
        since = min(o.created_ms for o in chosen)
        for fill in account.fills.between(since, None, len(account.fills)):
            if fill.order_id in fees:
                fees[fill.order_id] += fill.fee + fill.extra_fee
        return {
            o.id: OrderFacts(
                fee=fees[o.id],
                created_price=self.created_price.get(o.id),
                position_idx=position_idx(mode, o.side, o.reduce_only),
            )
            for o in chosen
        }
