"""Shared pieces of the Bybit dialect: routes, parameter parsing, look-ups."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit.errors import BybitError, invalid, params_error
from testudo.sim.engine import Engine
from testudo.sim.instruments import BYBIT, Instrument
from testudo.sim.money import parse_decimal
from testudo.sim.simulator import Simulator

Params = dict[str, object]
Handler = Callable[[Params, Credentials | None], object]
LINEAR = "linear"
CATEGORIES = ("linear", "inverse", "spot", "option")


@attrs.frozen
class Route:
    """A handler and what it requires: a signature, and trading permission."""

    handler: Handler
    signed: bool
    trading: bool = False


RouteTable = dict[tuple[str, str], Route]


def text(params: Params, name: str) -> str | None:
    """A parameter as text (JSON numbers and booleans as Bybit reads them); empty = absent."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decimal(params: Params, name: str) -> Decimal | None:
    """A decimal parameter; raise ``10001 params error: <name> invalid``."""
    raw = text(params, name)
    if raw is None:
        return None
    try:
        return parse_decimal(raw)
    except ValueError:
        raise invalid(name) from None


def integer(params: Params, name: str) -> int | None:
    """An integer parameter; raise ``10001 params error: <name> invalid``."""
    raw = text(params, name)
    if raw is None:
        return None
    if not raw.lstrip("-").isdigit():
        raise invalid(name)
    return int(raw)


def flag(params: Params, name: str) -> bool:
    """A boolean parameter (``true``/``false``, JSON or text); absent = false."""
    raw = text(params, name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise invalid(name)
    return raw.lower() == "true"


def account_id(creds: Credentials | None) -> int:
    """The engine account of an authenticated request."""
    assert creds is not None
    return creds.account_id


class VenueContext:
    """The Bybit engine plus the look-ups every endpoint group shares."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[BYBIT]
        self.by_id: dict[str, Instrument] = {
            i.venue_symbol: i for i in self.engine.instruments.values()
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    @staticmethod
    def category(params: Params, *, linear_only: bool = True) -> str:
        """The ``category`` parameter; the simulator trades ``linear`` only."""
        category = text(params, "category")
        if category is None:
            raise params_error("category is required")
        if category not in CATEGORIES or (linear_only and category != LINEAR):
            raise invalid("category")
        return category

    def instrument(self, params: Params, *, required: bool = True) -> Instrument | None:
        """The instrument named by ``symbol``; raise ``10001 params error: symbol invalid``."""
        symbol = text(params, "symbol")
        if symbol is None:
            if required:
                raise params_error("symbol is required")
            return None
        instrument = self.by_id.get(symbol)
        if instrument is None:
            raise invalid("symbol")
        return instrument

    def must(self, params: Params) -> Instrument:
        """The instrument of a request that requires ``symbol``."""
        instrument = self.instrument(params)
        assert instrument is not None
        return instrument

    def check_settle(self, params: Params) -> None:
        """Linear lists need ``symbol``, ``baseCoin`` or ``settleCoin`` (USDT here)."""
        if text(params, "symbol") or text(params, "baseCoin"):
            return
        settle = text(params, "settleCoin")
        if settle is None:
            raise BybitError(
                10001, "Missing some parameters that must be filled in, symbol or settleCoin"
            )
        if settle != "USDT":
            raise invalid("settleCoin")

    def matches_coin(self, instrument: Instrument, params: Params) -> bool:
        """Whether ``instrument`` passes the ``symbol`` / ``baseCoin`` filters."""
        symbol = text(params, "symbol")
        base = text(params, "baseCoin")
        return symbol in (None, instrument.venue_symbol) and base in (None, instrument.base)
