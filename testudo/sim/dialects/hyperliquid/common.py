"""Shared pieces of the Hyperliquid dialect: errors, formats and look-ups."""

from __future__ import annotations

import re
from collections.abc import Mapping

from testudo.sim.accounts import Credentials
from testudo.sim.engine import Engine
from testudo.sim.instruments import HYPERLIQUID, Instrument
from testudo.sim.simulator import Simulator

FUNDING_PAGE = 500  # userFunding answers at most 500 payments
PAGE = 2000  # userFills / userFillsByTime answer at most 2000 fills
FILL_HISTORY_CAP = 10_000  # "only the 10000 most recent fills are available"
DAY_MS = 86_400_000
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
CLOID = re.compile(r"^0x[0-9a-fA-F]{32}$")
BAD_BODY = "Failed to deserialize the JSON body into the target type"


class WireError(ValueError):
    """The request body does not have the shape Hyperliquid expects (HTTP 422)."""


class ActionError(Exception):
    """An ``{"status": "err", "response": msg}`` answer."""


def ok(kind: str, data: object | None = None) -> dict[str, object]:
    """An ``{"status": "ok", ...}`` answer."""
    response: dict[str, object] = {"type": kind}
    if data is not None:
        response["data"] = data
    return {"status": "ok", "response": response}


class VenueContext:
    """The Hyperliquid engine and the look-ups every endpoint needs."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[HYPERLIQUID]
        self.by_index: dict[int, Instrument] = {
            i.index: i for i in self.engine.instruments.values()
        }
        self.by_coin: dict[str, Instrument] = {
            i.venue_symbol: i for i in self.engine.instruments.values()
        }
        self.mainnet = sim.config.hyperliquid_mainnet

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    def user(self, body: Mapping[str, object]) -> Credentials | None:
        """The account of the body's ``user`` address (None for an unknown address)."""
        user = body.get("user")
        if not isinstance(user, str) or not ADDRESS.match(user):
            raise WireError("missing or malformed field `user`")
        return self.sim.registry.wallet(user)

    def coin(self, body: Mapping[str, object]) -> Instrument:
        """The instrument named by the body's ``coin``."""
        coin = body.get("coin")
        instrument = self.by_coin.get(coin) if isinstance(coin, str) else None
        if instrument is None:
            raise WireError(f"unknown coin {coin!r}")
        return instrument

    def asset(self, value: object) -> Instrument:
        """The instrument with asset index ``value``."""
        instrument = self.by_index.get(value) if isinstance(value, int) else None
        if instrument is None:
            raise WireError(f"unknown asset {value!r}")
        return instrument
