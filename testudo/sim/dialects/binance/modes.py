"""Binance account modes: position mode (one-way or hedge) and Multi-Assets margin.

The modes come from the account's options (``Simulator.account_options``). Hedge mode is
detected and refused, not traded: ``GET /fapi/v1/positionSide/dual`` answers ``true``, an
order without ``positionSide`` (or ``BOTH``) gets ``-4061`` as on Binance, and an order
with ``LONG``/``SHORT`` gets Binance's ``-1020`` "This operation is not supported." naming
the simulator's limit (the engine keeps one position per symbol; ccxt: ``BadRequest``).
``POST /fapi/v1/positionSide/dual`` switches the mode with Binance's refusals (``-4059``,
``-4067``, ``-4068``).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.binance.auth import BinanceError, mandatory
from testudo.sim.dialects.binance.common import Route, RouteTable, VenueContext

POSITION_SIDES = ("BOTH", "LONG", "SHORT")
SIDE_MISMATCH = (-4061, "Order's position side does not match user's setting.")
HEDGE_NOT_SIMULATED = (
    -1020,
    "This operation is not supported. (The simulator refuses hedge-mode orders: "
    "positionSide LONG/SHORT positions are not simulated.)",
)


def position_side_error(hedge_mode: bool, position_side: str | None) -> tuple[int, str] | None:
    """The Binance error (code, message) refusing an order's ``positionSide`` in the account's
    mode, or ``None`` when it is accepted.

    One-way mode accepts only ``BOTH`` (the default); hedge mode requires ``LONG`` or
    ``SHORT`` (Binance: "It must be sent in Hedge Mode"), which the simulator cannot trade.
    """
    side = position_side or "BOTH"
    if side not in POSITION_SIDES:
        return SIDE_MISMATCH
    if not hedge_mode:
        return None if side == "BOTH" else SIDE_MISMATCH
    return SIDE_MISMATCH if side == "BOTH" else HEDGE_NOT_SIMULATED


def position_rows(size: Decimal, hedge_mode: bool) -> list[tuple[str, Decimal]]:
    """Position rows Binance reports for a net ``size``: ``BOTH`` in one-way mode, a ``LONG``
    and a ``SHORT`` row in hedge mode ("only LONG and SHORT positions will be returned")."""
    if not hedge_mode:
        return [("BOTH", size)]
    return [("LONG", max(size, Decimal(0))), ("SHORT", min(size, Decimal(0)))]


class ModeApi(VenueContext):
    """``/fapi/v1/positionSide/dual`` and ``/fapi/v1/multiAssetsMargin``."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/fapi/v1/positionSide/dual"): r(self._dual, signed=True),
            ("POST", "/fapi/v1/positionSide/dual"): r(self._set_dual, signed=True, trading=True),
            ("GET", "/fapi/v1/multiAssetsMargin"): r(self._multi_assets, signed=True),
        }

    def _dual(self, params: dict[str, str], creds: Credentials | None) -> object:
        options = self.sim.account_options(self._account_id(creds))
        return {"dualSidePosition": options.hedge_mode}

    def _multi_assets(self, params: dict[str, str], creds: Credentials | None) -> object:
        options = self.sim.account_options(self._account_id(creds))
        return {"multiAssetsMargin": options.multi_assets}

    def _set_dual(self, params: dict[str, str], creds: Credentials | None) -> object:
        account_id = self._account_id(creds)
        if not params.get("dualSidePosition"):
            raise mandatory("dualSidePosition")
        wanted = self._bool(params, "dualSidePosition")
        options = self.sim.account_options(account_id)
        if wanted == options.hedge_mode:
            raise BinanceError(-4059, "No need to change position side.")
        if self.engine.open_orders(account_id):
            raise BinanceError(
                -4067, "Position side cannot be changed if there exists open orders."
            )
        account = self.engine.account(account_id)
        if any(pos.size != 0 for pos in account.positions.values()):
            raise BinanceError(-4068, "Position side cannot be changed if there exists position.")
        self.sim.set_account_options(account_id, attrs.evolve(options, hedge_mode=wanted))
        return {"code": 200, "msg": "success"}


def check_position_side(hedge_mode: bool, params: dict[str, str]) -> None:
    """Raise the ``BinanceError`` refusing the order's ``positionSide``, if any."""
    refused = position_side_error(hedge_mode, params.get("positionSide"))
    if refused is not None:
        raise BinanceError(*refused)
