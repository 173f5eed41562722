"""How a simulated account is set up on the venues: position mode, collateral mode, balances.

One small value, shared by every dialect: Binance reads ``hedge_mode`` and ``multi_assets``,
Hyperliquid its USDC from ``balances``, and the dialects of other venues read the same
fields (``Simulator.account_options(account_id)``), so a test describes an account once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from testudo.sim.money import parse_decimal

COLLATERAL_ASSETS = ("USDT", "USDC")


class OptionsError(ValueError):
    """The account options in a request are invalid (HTTP 400)."""


def _frozen_balances(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return dict(value)


@attrs.frozen
class AccountOptions:
    """Account modes and collateral.

    - ``hedge_mode``: positions are held per side (Binance "dual side position").
    - ``multi_assets``: every collateral asset backs the margin (Binance Multi-Assets mode).
    - ``balances``: collateral per asset (``{"USDT": 5000, "USDC": 5000}``); empty means the
      account was funded with one ``balance`` in each venue's settlement asset.
    """

    hedge_mode: bool = False
    multi_assets: bool = False
    balances: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_frozen_balances)

    def balance_of(self, asset: str, default: Decimal) -> Decimal:
        """The collateral in ``asset``: ``balances``' amount (0 if absent), else ``default``."""
        if not self.balances:
            return default
        return self.balances.get(asset, Decimal(0))

    def public(self) -> dict[str, object]:
        """JSON shape for the control API."""
        return {
            "hedge_mode": self.hedge_mode,
            "multi_assets": self.multi_assets,
            "balances": {asset: format(amount, "f") for asset, amount in self.balances.items()},
        }


def _flag(body: Mapping[str, object], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise OptionsError(f"{name} must be a boolean")
    return value


def parse_balances(raw: object) -> dict[str, Decimal]:
    """Validate ``{"USDT": "5000", "USDC": "5000"}``: known assets, finite amounts >= 0."""
    if not isinstance(raw, dict) or not raw:
        raise OptionsError("balances must map collateral assets to amounts")
    balances: dict[str, Decimal] = {}
    for asset, amount in raw.items():
        if asset not in COLLATERAL_ASSETS:
            raise OptionsError(f"balances: asset must be one of {', '.join(COLLATERAL_ASSETS)}")
        try:
            value = parse_decimal(amount)
        except ValueError as exc:
            raise OptionsError(f"balances.{asset}: {exc}") from None
        if value < 0:
            raise OptionsError(f"balances.{asset} must not be negative")
        balances[asset] = value
    return balances


def options_from_json(body: Mapping[str, object]) -> AccountOptions:
    """The options of a ``POST /_sim/accounts`` body (``balance`` and ``balances`` exclude
    each other); raise ``OptionsError``."""
    raw = body.get("balances")
    if raw is not None and body.get("balance") is not None:
        raise OptionsError("give balance or balances, not both")
    return AccountOptions(
        hedge_mode=_flag(body, "hedge_mode"),
        multi_assets=_flag(body, "multi_assets"),
        balances={} if raw is None else parse_balances(raw),
    )
