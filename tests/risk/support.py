"""Builders for Decision Loop inputs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from testudo.risk.config import RiskConfig
from testudo.risk.decision import AccountState, Market, TargetRequest, TradeRequest

D = Decimal

BTC = Market(
    "BTC/USDT",
    tick_size=D("0.1"),
    lot_size=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D(5),
    max_leverage=D(125),
)


def config(**fields: Any) -> RiskConfig:
    """A RiskConfig; numbers may be ints or strings (the fields convert them)."""
    return RiskConfig(**fields)


def account(
    equity: object = 10_000,
    available: object | None = None,
    open_positions: int = 0,
    daily_pnl: object = 0,
    day_start_equity: object | None = None,
) -> AccountState:
    return AccountState(
        equity=D(str(equity)),
        available=D(str(equity if available is None else available)),
        open_positions=open_positions,
        daily_pnl=D(str(daily_pnl)),
        day_start_equity=D(str(equity if day_start_equity is None else day_start_equity)),
    )


def trade(
    side: str = "buy",
    entry: object = 50_000,
    stop: object | None = 49_000,
    targets: tuple[object, ...] = (52_000,),
    quantity: object | None = None,
    leverage: object = 5,
    target_quantities: tuple[object | None, ...] | None = None,
    entry_type: str = "limit",
) -> TradeRequest:
    amounts = target_quantities or tuple(None for _ in targets)
    return TradeRequest(
        side=side,
        entry_price=D(str(entry)),
        stop_price=None if stop is None else D(str(stop)),
        targets=tuple(
            TargetRequest(D(str(p)), None if q is None else D(str(q)))
            for p, q in zip(targets, amounts, strict=True)
        ),
        quantity=None if quantity is None else D(str(quantity)),
        leverage=D(str(leverage)),
        entry_type=entry_type,
    )
