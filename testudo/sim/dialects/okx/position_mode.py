"""The account's position mode: OKX's ``net_mode`` (one-way) unless configured otherwise.

One place decides it, so a per-account hedge-mode option can be wired here later. Only
``net_mode`` is simulated: ``long_short_mode`` would need two positions per instrument.
"""

from __future__ import annotations

from collections.abc import Mapping

from testudo.sim.dialects.okx.common import Venue, bad, text

NET_MODE = "net_mode"
LONG_SHORT_MODE = "long_short_mode"


def position_mode(venue: Venue, account_id: int) -> str:
    """``posMode`` of the account (``/api/v5/account/config``): always ``net_mode`` now."""
    del venue, account_id  # no per-account option yet: every account is one-way
    return NET_MODE


def check_pos_side(venue: Venue, account_id: int, item: Mapping[str, object]) -> None:
    """In net mode ``posSide`` is absent or ``net`` (``51000 Parameter posSide error``)."""
    pos_side = text(item, "posSide")
    if position_mode(venue, account_id) == NET_MODE and pos_side not in (None, "net"):
        raise bad("posSide")
