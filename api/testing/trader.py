"""A signed-in user with an exchange account on a simulated venue, and the market around it.

Trades go through the service's HTTP API; prices, fills and faults go to the simulator's
control API (``/_sim``), scoped to this trader's venue and account.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import trio

from testudo.sim.client import SimAccount, SimClient

from .desk import Desk
from .venues import Venue, link_account

TradeView = dict[str, Any]
WAIT = 30.0  # a hang guard: every wait ends as soon as what it waits for happens


def live_orders(trade: TradeView, role: str) -> list[dict[str, Any]]:
    """The trade's open orders of ``role`` (``entry``, ``stop_loss``, ``take_profit``)."""
    return [o for o in trade["orders"] if o["role"] == role and o["status"] == "open"]


def event_names(trade: TradeView) -> list[str]:
    """The trade's event log, by name."""
    return [e["event_type"] for e in trade.get("events", [])]


@attrs.define
class Trader:
    """``desk``'s user, trading on ``venue`` with the simulator's ``account``."""

    desk: Desk
    sim: SimClient
    venue: Venue
    account: SimAccount
    account_id: str

    async def open_trade(self, **body: Any) -> TradeView:
        """``POST /api/v1/trades`` on this account; the created trade (201, or raise)."""
        payload = {"exchange_account_id": self.account_id, **body}
        trade: TradeView = await self.desk.post("/api/v1/trades", payload, expect=201)
        return trade

    async def trade(self, trade_id: str) -> TradeView:
        """``GET /api/v1/trades/{id}`` (its orders, protection and event log)."""
        trade: TradeView = await self.desk.get(f"/api/v1/trades/{trade_id}")
        return trade

    async def close_trade(self, trade_id: str) -> TradeView:
        """``DELETE /api/v1/trades/{id}``: cancel a pending trade, close an active one."""
        trade: TradeView = await self.desk.delete(f"/api/v1/trades/{trade_id}")
        return trade

    async def wait_trade(
        self, trade_id: str, until: Callable[[TradeView], bool], timeout: float = WAIT
    ) -> TradeView:
        """Poll the trade until ``until(trade)`` holds; raise ``AssertionError`` after
        ``timeout`` seconds with the last state seen."""
        trade: TradeView = {}
        with trio.move_on_after(timeout):
            while True:
                trade = await self.trade(trade_id)
                if until(trade):
                    return trade
                await trio.sleep(0.1)
        raise AssertionError(f"trade {trade_id} never reached the expected state: {trade}")

    async def set_price(self, symbol: str, price: Decimal | str) -> None:
        """Move ``symbol`` (``BTC_USDT``) to ``price`` on every venue and hold it there:
        resting orders and triggers it crosses fill."""
        await self.sim.set_price(symbol, price, freeze=True)

    async def fill(
        self,
        order: dict[str, Any],
        quantity: Decimal | str | None = None,
        price: Decimal | str | None = None,
    ) -> dict[str, Any]:
        """Fill a resting limit order of a trade (an item of its ``orders``) as maker: all of
        what is left, or ``quantity`` of it; at its limit unless ``price`` is given."""
        left = Decimal(order["quantity"]) - Decimal(order["filled_quantity"])
        return await self.sim.fill_order(
            self.account,
            self.venue.prefix,
            client_order_id=order["client_order_id"],
            quantity=left if quantity is None else quantity,
            price=price,
        )

    async def fault(self, mode: str, endpoint: str | None = None, **params: Any) -> None:
        """Switch a fault on for this venue (``latency``, ``error``, ``rate_limit``,
        ``timeout``, ``outage``, ``reject``; ``count=n`` makes it lapse after n requests);
        ``endpoint`` limits it to one of the venue's endpoints (the simulator's fault keys)."""
        await self.sim.set_fault(self.venue.prefix, mode, endpoint, **params)

    async def clear_faults(self) -> None:
        """Every fault off."""
        await self.sim.clear_faults()

    async def exchange_state(self) -> dict[str, Any]:
        """What the venue holds for this account: balances, positions, open orders, fills."""
        state = await self.sim.state(self.account)
        venues: dict[str, Any] = state["venues"]
        return dict(venues[self.venue.engine])

    async def requests(self, status: int | None = None) -> list[dict[str, Any]]:
        """The requests the venue received (oldest first), those answered ``status`` if given."""
        sent = await self.sim.requests(self.venue.prefix)
        return [r for r in sent if status is None or r["status"] == status]


async def open_trader(
    desk: Desk, sim: SimClient, venue: Venue, balance: Decimal | str = "10000"
) -> Trader:
    """A new simulator account holding ``balance`` on ``venue``, linked to ``desk``'s user."""
    account = await sim.create_account(balance)
    account_id = await link_account(desk, venue, account)
    return Trader(desk, sim, venue, account, account_id)
