"""Shared pieces of the WOO X dialect: routes, parameter parsing, look-ups, paging."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo.errors import INVALID_PARAM, UNSUPPORTED_SYMBOL, WooError, missing
from testudo.sim.engine import Engine
from testudo.sim.instruments import WOO, Instrument
from testudo.sim.model import Side
from testudo.sim.money import parse_decimal
from testudo.sim.simulator import Simulator

Params = dict[str, object]
Handler = Callable[[Params, Credentials | None], object]
MAX_CLIENT_ID = 9_223_372_036_854_775_807
ALGO_CLIENT_PREFIX = "algo-"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
T = TypeVar("T")


class Envelope(enum.Enum):
    """How a route's answer is wrapped."""

    DATA = "data"  # v3: {"success": true, "data": ..., "timestamp": ...}
    ROWS = "rows"  # v1: {"success": true, **answer}
    BARE = "bare"  # {"success": true, "timestamp": ...} (the answer is dropped)


@attrs.frozen
class Route:
    """A handler and what it requires: a signature, and the trading permission."""

    handler: Handler
    signed: bool
    trading: bool = False
    envelope: Envelope = Envelope.DATA


RouteTable = dict[tuple[str, str], Route]


def algo_client_id(client_id: str) -> str:
    """The engine's name for an algo order's client id (kept apart from regular ones)."""
    return ALGO_CLIENT_PREFIX + client_id


def wire_client_id(engine_id: str | None) -> int:
    """A client id as WOO shows it: the number, or 0 when there is none."""
    if engine_id is None:
        return 0
    return int(engine_id.removeprefix(ALGO_CLIENT_PREFIX))


def page(rows: Sequence[T], params: Params) -> tuple[list[T], dict[str, int]]:
    """One page of ``rows`` (``page`` from 1, ``size`` up to 500) and WOO's ``meta``."""
    number = int_param(params, "page") or 1
    size = min(int_param(params, "size") or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if number < 1 or size < 1:
        raise WooError(INVALID_PARAM)
    start = (number - 1) * size
    meta = {"total": len(rows), "recordsPerPage": size, "currentPage": number}
    return list(rows[start : start + size]), meta


def text_param(params: Params, name: str) -> str | None:
    """A parameter as text (None when absent or empty)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decimal_param(params: Params, name: str) -> Decimal | None:
    """A decimal parameter (JSON number or string); malformed → ``-1005``."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value)
    except ValueError:
        raise WooError(INVALID_PARAM) from None


def int_param(params: Params, name: str) -> int | None:
    """An integer parameter; malformed → ``-1005``."""
    value = decimal_param(params, name)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise WooError(INVALID_PARAM)
    return int(value)


def bool_param(params: Params, name: str) -> bool:
    """A boolean parameter (JSON ``true``/``false`` or the strings); default false."""
    value = params.get(name)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("true", "false"):
        raise WooError(INVALID_PARAM)
    return text == "true"


def client_id_param(params: Params, name: str) -> str | None:
    """A client order id: an integer 0..2^63-1 (JSON number or digits); 0 means none."""
    value = params.get(name)
    if value is None or value == "":
        return None
    text = str(value)
    if isinstance(value, bool) or not text.isdigit() or int(text) > MAX_CLIENT_ID:
        raise WooError(INVALID_PARAM, f"{name} must be an integer within 0..{MAX_CLIENT_ID}")
    number = int(text)
    return None if number == 0 else str(number)


def side_param(params: Params) -> Side:
    """``side``: BUY or SELL."""
    side = text_param(params, "side")
    if side is None:
        raise missing("side")
    if side not in ("BUY", "SELL"):
        raise WooError(INVALID_PARAM)
    return Side(side)


class VenueContext:
    """The ``woo`` engine plus the look-ups every endpoint group needs."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[WOO]
        self.by_id: Mapping[str, Instrument] = {
            i.venue_symbol: i for i in self.engine.instruments.values()
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def instrument(self, params: Params, *, required: bool = True) -> Instrument | None:
        """The instrument named by ``symbol`` (``PERP_BTC_USDT``)."""
        symbol = text_param(params, "symbol")
        if symbol is None:
            if required:
                raise missing("symbol")
            return None
        instrument = self.by_id.get(symbol)
        if instrument is None:
            raise WooError(UNSUPPORTED_SYMBOL, f"unsupported symbol: {symbol}")
        return instrument

    def must(self, params: Params) -> Instrument:
        """The instrument named by the mandatory ``symbol``."""
        instrument = self.instrument(params)
        assert instrument is not None
        return instrument

    @staticmethod
    def account_id(creds: Credentials | None) -> int:
        """The signed caller's account."""
        assert creds is not None
        return creds.account_id
