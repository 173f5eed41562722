"""Shared pieces of the Binance dialect: routes, parameter parsing, look-ups."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.binance.auth import BinanceError, mandatory
from testudo.sim.engine import Engine
from testudo.sim.instruments import BINANCE, Instrument
from testudo.sim.model import Order, Side
from testudo.sim.money import parse_decimal
from testudo.sim.simulator import Simulator

Params = dict[str, str]
Handler = Callable[[Params, Credentials | None], object]
CLIENT_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:/_-")


@attrs.frozen
class Route:
    """A handler and what it requires: a signature, and trading permission."""

    handler: Handler
    signed: bool
    trading: bool = False


RouteTable = dict[tuple[str, str], Route]


class VenueContext:
    """The Binance engine plus parameter helpers shared by every endpoint group."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[BINANCE]
        self.by_id: dict[str, Instrument] = {
            i.venue_symbol: i for i in self.engine.instruments.values()
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def _instrument(self, params: dict[str, str], *, required: bool = True) -> Instrument | None:
        symbol = params.get("symbol")
        if not symbol:
            if required:
                raise mandatory("symbol")
            return None
        instrument = self.by_id.get(symbol.upper())
        if instrument is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return instrument

    def _must(self, params: dict[str, str]) -> Instrument:
        instrument = self._instrument(params)
        assert instrument is not None
        return instrument

    @staticmethod
    def _decimal(params: dict[str, str], name: str) -> Decimal | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = parse_decimal(raw)
        except ValueError:
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.") from None
        return value

    @staticmethod
    def _int(params: dict[str, str], name: str) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        if not raw.lstrip("-").isdigit():
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
        return int(raw)

    @staticmethod
    def _bool(params: dict[str, str], name: str) -> bool:
        raw = params.get(name, "false").lower()
        if raw not in ("true", "false"):
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
        return raw == "true"

    @staticmethod
    def _account_id(creds: Credentials | None) -> int:
        assert creds is not None
        return creds.account_id

    def _side(self, params: dict[str, str]) -> Side:
        side = params.get("side")
        if not side:
            raise mandatory("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        return Side(side)

    def _client_id(self, params: dict[str, str], name: str) -> str:
        client_id = params.get(name) or secrets.token_urlsafe(16).replace("-", "x")[:22]
        if len(client_id) > 36 or not set(client_id) <= CLIENT_ID_CHARS:
            raise BinanceError(-4015, "Client order id is not valid.")
        return client_id

    def _hedge_mode(self, creds: Credentials | None) -> bool:
        """Whether the account trades in hedge (dual side) position mode."""
        return self.sim.account_options(self._account_id(creds)).hedge_mode

    def _find(
        self,
        creds: Credentials | None,
        params: dict[str, str],
        *,
        id_name: str,
        cid_name: str,
    ) -> Order:
        instrument = self._must(params)
        order_id = self._int(params, id_name)
        client_id = params.get(cid_name)
        if order_id is None and not client_id:
            raise BinanceError(-1102, f"Either {id_name} or {cid_name} must be sent.")
        return self.engine.order(
            self._account_id(creds),
            order_id=order_id,
            client_id=client_id,
            symbol=instrument.symbol,
        )
