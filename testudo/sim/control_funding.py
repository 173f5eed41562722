"""Control endpoints for funding: rates per market, the schedule, a funding time on demand.

- ``GET /_sim/funding``: per venue the interval, whether funding times follow the clock,
  the next funding time and the rate of every market.
- ``POST /_sim/funding {"exchange": "binanceusdm", "symbol": "BTC_USDT", "rate": "0.0003"}``
  sets a market's rate (default 0.0001); ``"scheduled": false`` (without a symbol) stops the
  venue's funding times from following the clock.
- ``POST /_sim/funding/pay {"exchange": "hyperliquid"}``: a funding time now; answers the
  payments made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from testudo.sim.dialects.wire import WireResponse, json_response
from testudo.sim.funding import Payment
from testudo.sim.money import parse_decimal, plain
from testudo.sim.simulator import Simulator

Route = Callable[[Mapping[str, object], dict[str, str]], WireResponse]


class FundingControlError(ValueError):
    """An invalid funding request (HTTP 400)."""


def payment_state(payment: Payment) -> dict[str, object]:
    return {
        "id": payment.id,
        "account_id": payment.account_id,
        "symbol": payment.symbol,
        "rate": plain(payment.rate),
        "size": plain(payment.size),
        "mark": plain(payment.mark),
        "amount": plain(payment.amount),
        "time": payment.time_ms,
    }


def funding_routes(sim: Simulator, venues: Mapping[str, str]) -> dict[tuple[str, str], Route]:
    """The funding routes, to merge into the control API's table (``venues``: exchange id
    to venue)."""

    def venue_of(body: Mapping[str, object]) -> str:
        name = body.get("exchange")
        if not isinstance(name, str) or name not in venues:
            raise FundingControlError(f"exchange must be one of {', '.join(sorted(venues))}")
        return venues[name]

    def show(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        return json_response(
            {
                venue: {
                    "interval_ms": engine.funding.interval_ms,
                    "scheduled": engine.funding.scheduled,
                    "next_funding_time": engine.funding.next_ms(),
                    "rates": {s: plain(engine.funding.rate(s)) for s in engine.instruments},
                }
                for venue, engine in sim.engines.items()
            }
        )

    def set_rate(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        venue = venue_of(body)
        scheduled = body.get("scheduled")
        if scheduled is not None:
            if not isinstance(scheduled, bool):
                raise FundingControlError("scheduled must be a boolean")
            sim.engines[venue].funding.scheduled = scheduled
        if "symbol" in body or "rate" in body:
            symbol = str(body.get("symbol", ""))
            if symbol not in sim.engines[venue].instruments:
                raise FundingControlError(f"unknown symbol {symbol}")
            sim.set_funding_rate(venue, symbol, parse_decimal(body.get("rate")))
        return show(body, query)

    def pay(body: Mapping[str, object], query: dict[str, str]) -> WireResponse:
        payments = sim.pay_funding(venue_of(body))
        return json_response({"payments": [payment_state(p) for p in payments]})

    return {
        ("GET", "/funding"): show,
        ("POST", "/funding"): set_rate,
        ("POST", "/funding/pay"): pay,
    }
