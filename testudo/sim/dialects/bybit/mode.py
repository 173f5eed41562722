"""Bybit position mode: one-way (``positionIdx`` 0) or hedge (1 = long side, 2 = short side).

The decision lives in ``position_mode`` alone so that a per-account option (``hedge_mode``
on ``POST /_sim/accounts``) can switch it; until then every account is one-way, which is
Bybit's default for USDT perpetuals and the only mode the matching engine keeps positions in.
"""

from __future__ import annotations

import enum

from testudo.sim.dialects.bybit.errors import BybitError
from testudo.sim.model import Side
from testudo.sim.simulator import Simulator


class PositionMode(enum.Enum):
    """Bybit's two position modes (``/v5/position/switch-mode`` ``mode`` 0 and 3)."""

    ONE_WAY = 0
    HEDGE = 3


def position_mode(sim: Simulator, account_id: int) -> PositionMode:
    """The position mode of an account: hedge for an account created with ``hedge_mode``
    (shown and enforced on orders; the engine itself keeps one-way positions), else one-way."""
    try:
        hedged = sim.account_options(account_id).hedge_mode
    except KeyError:
        hedged = False
    return PositionMode.HEDGE if hedged else PositionMode.ONE_WAY


def position_indices(mode: PositionMode) -> tuple[int, ...]:
    """The ``positionIdx`` values a symbol's positions are listed under."""
    return (0,) if mode is PositionMode.ONE_WAY else (1, 2)


def position_idx(mode: PositionMode, side: Side, reduce_only: bool) -> int:
    """The ``positionIdx`` an order of ``side`` works on."""
    if mode is PositionMode.ONE_WAY:
        return 0
    long_side = (side is Side.BUY) != reduce_only
    return 1 if long_side else 2


def check_position_idx(mode: PositionMode, given: int | None) -> None:
    """Refuse a ``positionIdx`` that does not fit the mode, as Bybit does."""
    if given is None and mode is PositionMode.ONE_WAY:
        return
    if given not in position_indices(mode):
        raise BybitError(10001, "position idx not match position mode")
