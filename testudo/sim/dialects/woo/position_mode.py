"""WOO X position mode: ``ONE_WAY`` (``positionSide`` BOTH) or ``HEDGE_MODE`` (LONG/SHORT).

The whole decision lives here. Every account is one-way for now; once the simulator has
per-account options (``hedge_mode``), ``position_mode`` reads them and everything that shows or
checks the mode (``/v3/account/info``, ``/v3/futures/leverage``, order ``positionSide``) follows.
"""

from __future__ import annotations

from testudo.sim.dialects.woo.common import Params, text_param
from testudo.sim.dialects.woo.errors import POSITION_SIDE_MODE, WooError
from testudo.sim.simulator import Simulator

ONE_WAY = "ONE_WAY"
HEDGE_MODE = "HEDGE_MODE"


def position_mode(sim: Simulator, account_id: int) -> str:
    """The account's WOO ``positionMode``: ``HEDGE_MODE`` for an account created with
    ``hedge_mode`` (detected and refused: the engine trades one-way), else ``ONE_WAY``."""
    try:
        hedged = sim.account_options(account_id).hedge_mode
    except KeyError:
        hedged = False
    return HEDGE_MODE if hedged else ONE_WAY


def check_position_side(mode: str, params: Params) -> str:
    """The order's ``positionSide`` if it fits ``mode``; else ``302186``.

    One-way accepts none or ``BOTH``; hedge mode needs ``LONG`` or ``SHORT``.
    """
    side = text_param(params, "positionSide") or ("BOTH" if mode == ONE_WAY else None)
    allowed = ("BOTH",) if mode == ONE_WAY else ("LONG", "SHORT")
    if side not in allowed:
        raise WooError(POSITION_SIDE_MODE)
    assert side is not None
    return side
