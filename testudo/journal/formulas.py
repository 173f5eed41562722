"""Per-trade figures (docs/journal.md, "Analytics"): P&L, return on margin, net, risk and R.

```
realized_pnl     = (exit - entry) x qty  (LONG)   |  (entry - exit) x qty  (SHORT)
margin           = entry x qty / leverage          (leverage <= 0 -> entry x qty)
realized_pnl_pct = realized_pnl / margin x 100     (0 when margin <= 0)
net_pnl          = realized_pnl - fees + funding   (funding: received > 0, paid < 0)
effective_risk   = risk_amount if > 0, else |entry - stop| x qty if a stop is set, else none
r_multiple       = net_pnl / effective_risk        (none without a risk)
```

For round trips built from fills, ``realized_pnl`` and the entry notional come exactly from the
fills (every partial close at its own price) rather than from the rounded average prices.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from .money import ZERO, round_ratio
from .roundtrips import LONG, SHORT, RoundTrip

SIDES = (LONG, SHORT)


def normalise_side(side: str) -> str:
    """``long``/``buy`` → ``LONG``, ``short``/``sell`` → ``SHORT``; ValueError otherwise."""
    value = side.strip().upper()
    if value in ("LONG", "BUY"):
        return LONG
    if value in ("SHORT", "SELL"):
        return SHORT
    raise ValueError(f"unknown side {side!r}")


@attrs.frozen
class TradeFigures:
    realized_pnl: Decimal
    realized_pnl_pct: Decimal
    fees: Decimal
    net_pnl: Decimal
    effective_risk: Decimal | None
    r_multiple: Decimal | None


def effective_risk(
    entry_price: Decimal,
    quantity: Decimal,
    stop_price: Decimal | None,
    risk_amount: Decimal | None,
) -> Decimal | None:
    """The amount at risk: the planned risk amount, else the stop distance times quantity."""
    if risk_amount is not None and risk_amount > 0:
        return risk_amount
    if stop_price is not None and stop_price > 0:
        risk = abs(entry_price - stop_price) * quantity
        return risk if risk > 0 else None
    return None


def trade_figures(
    side: str,
    entry_price: Decimal,
    exit_price: Decimal,
    quantity: Decimal,
    fees: Decimal,
    *,
    leverage: Decimal = Decimal(1),
    stop_price: Decimal | None = None,
    risk_amount: Decimal | None = None,
    realized_pnl: Decimal | None = None,
    entry_notional: Decimal | None = None,
    funding: Decimal = ZERO,
) -> TradeFigures:
    """Every derived figure of one closed trade."""
    side = normalise_side(side)
    if realized_pnl is None:
        move = exit_price - entry_price if side == LONG else entry_price - exit_price
        realized_pnl = move * quantity
    notional = entry_notional if entry_notional is not None else entry_price * quantity
    margin = notional / leverage if leverage > 0 else notional
    pct = round_ratio(realized_pnl / margin * 100) if margin > 0 else ZERO
    net = realized_pnl - fees + funding
    risk = effective_risk(entry_price, quantity, stop_price, risk_amount)
    r_multiple = round_ratio(net / risk) if risk is not None else None
    return TradeFigures(realized_pnl, pct, fees, net, risk, r_multiple)


def trip_figures(trip: RoundTrip, *, leverage: Decimal = Decimal(1)) -> TradeFigures:
    """The figures of a round trip built from fills (exact P&L, no stop, so no R)."""
    return trade_figures(
        trip.side,
        trip.entry_price,
        trip.exit_price,
        trip.quantity,
        trip.fees,
        leverage=leverage,
        realized_pnl=trip.realized_pnl,
        entry_notional=trip.entry_notional,
    )


def duration_secs(opened_at: dt.datetime, closed_at: dt.datetime) -> int:
    """Whole seconds between open and close (the database computes the same column)."""
    return int((closed_at - opened_at).total_seconds() // 1)


__all__ = [
    "LONG",
    "SHORT",
    "SIDES",
    "TradeFigures",
    "duration_secs",
    "effective_risk",
    "normalise_side",
    "trade_figures",
    "trip_figures",
]
