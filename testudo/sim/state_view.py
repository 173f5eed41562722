"""Venue-neutral JSON views of simulator state for the control API."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.accounts import Credentials
from testudo.sim.engine import Engine
from testudo.sim.model import Fill, Order
from testudo.sim.money import plain, quantize
from testudo.sim.positions import unrealized_pnl
from testudo.sim.simulator import Simulator


def price_state(sim: Simulator) -> dict[str, dict[str, object]]:
    """Reference price, frozen flag and each venue's mark, per symbol."""
    return {
        symbol: {
            "price": plain(sim.feed.price(symbol)),
            "frozen": sim.feed.is_frozen(symbol),
            "marks": {
                venue: plain(engine.mark(symbol))
                for venue, engine in sim.engines.items()
                if symbol in engine.instruments
            },
        }
        for symbol in sim.feed.symbols
    }


def order_state(order: Order) -> dict[str, object]:
    """An order in venue-neutral form."""
    return {
        "id": order.id,
        "client_id": order.client_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.kind.value,
        "qty": plain(order.qty),
        "filled": plain(order.filled_qty),
        "price": None if order.price is None else plain(order.price),
        "trigger_price": None if order.trigger is None else plain(order.trigger.price),
        "trigger_kind": None if order.trigger is None else order.trigger.kind.value,
        "reduce_only": order.reduce_only,
        "status": order.status.value,
        "triggered": order.triggered_ms is not None,
        "created": order.created_ms,
    }


def fill_state(fill: Fill) -> dict[str, object]:
    """A fill in venue-neutral form."""
    return {
        "id": fill.id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "price": plain(fill.price),
        "qty": plain(fill.qty),
        "fee": plain(fill.fee + fill.extra_fee),
        "realized_pnl": plain(fill.realized_pnl),
        "maker": fill.is_maker,
        "time": fill.time_ms,
    }


def venue_state(engine: Engine, account_id: int, fills_limit: int) -> dict[str, object]:
    """Balances, positions, open orders and latest fills of one account on one venue."""
    account = engine.account(account_id)
    margin = engine.margin(account_id)
    positions = []
    for symbol, pos in account.positions.items():
        if pos.size == 0 and pos.realized_pnl == 0:
            continue
        mark = engine.mark(symbol)
        positions.append(
            {
                "symbol": symbol,
                "size": plain(pos.size),
                "entry_price": plain(quantize(pos.entry_price, Decimal("0.00000001"))),
                "mark_price": plain(mark),
                "unrealized_pnl": plain(unrealized_pnl(pos.size, pos.entry_price, mark)),
                "realized_pnl": plain(pos.realized_pnl),
                "leverage": engine.leverage(account_id, symbol),
            }
        )
    return {
        "settle": account.settle,
        "balance": {
            "wallet": plain(account.wallet_balance),
            "collateral": {asset: plain(amount) for asset, amount in account.collateral.items()},
            "unrealized_pnl": plain(margin.unrealized_pnl),
            "margin_balance": plain(margin.margin_balance),
            "initial_margin": plain(margin.initial_margin),
            "available": plain(margin.available),
            "realized_pnl": plain(account.realized_pnl),
            "fees_paid": plain(account.fees_paid),
        },
        "positions": positions,
        "open_orders": [order_state(o) for o in account.open_orders.values()],
        "fills_total": len(account.fills),
        "fills": [fill_state(f) for f in account.fills.latest(fills_limit)],
    }


def account_state(sim: Simulator, creds: Credentials, fills_limit: int = 100) -> dict[str, object]:
    """Everything about one account, on every venue."""
    return {
        **creds.public(),
        "venues": {
            venue: venue_state(engine, creds.account_id, fills_limit)
            for venue, engine in sim.engines.items()
        },
    }
