"""The account's position mode: OKX's ``net_mode`` (one-way) unless configured otherwise.

One place decides it: an account created with ``hedge_mode`` shows ``long_short_mode`` (so a
client can detect it) and its orders must name a ``posSide`` of ``long`` or ``short``, which the
engine refuses to trade (``51000``); only ``net_mode`` positions are simulated.
"""

from __future__ import annotations

from collections.abc import Mapping

from testudo.sim.dialects.okx.common import Venue, bad, text

NET_MODE = "net_mode"
LONG_SHORT_MODE = "long_short_mode"


def position_mode(venue: Venue, account_id: int) -> str:
    """``posMode`` of the account (``/api/v5/account/config``)."""
    try:
        hedged = venue.sim.account_options(account_id).hedge_mode
    except KeyError:
        hedged = False
    return LONG_SHORT_MODE if hedged else NET_MODE


def check_pos_side(venue: Venue, account_id: int, item: Mapping[str, object]) -> None:
    """In net mode ``posSide`` is absent or ``net``; in long/short mode the simulator trades
    nothing (``51000 Parameter posSide error`` either way, as OKX answers a wrong one)."""
    pos_side = text(item, "posSide")
    if position_mode(venue, account_id) != NET_MODE or pos_side not in (None, "net"):
        raise bad("posSide")
