"""WOO X funding fees: ``GET /v3/futures/fundingFee/history`` (ccxt ``fetch_funding_history``).

The funding payments the engine charged, optionally of one ``symbol``, with ``startTime`` ..
``endTime`` (payment time, inclusive), newest first, paged by ``page`` (from 1) and ``size``
(default 25, at most 500); ``meta`` gives ``total``, ``recordsPerPage`` and ``currentPage``.
``fundingFee`` is the amount without its sign; ``paymentType`` says which way it went:
``Pay`` (the account paid it) or ``Receive``.
"""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.woo.common import Params, Route, RouteTable, VenueContext, int_param, page
from testudo.sim.dialects.woo.errors import INVALID_PARAM, WooError
from testudo.sim.funding import Payment
from testudo.sim.instruments import Instrument
from testudo.sim.money import plain

FUNDING_INTERVAL_HOURS = 8


def funding_row(instrument: Instrument, payment: Payment) -> dict[str, object]:
    """One payment of ``fundingFee/history``."""
    return {
        "id": payment.id,
        "symbol": instrument.venue_symbol,
        "fundingRate": float(payment.rate),
        "markPrice": plain(payment.mark),
        "fundingFee": plain(abs(payment.amount)),
        "fundingIntervalHours": FUNDING_INTERVAL_HOURS,
        "paymentType": "Pay" if payment.amount < 0 else "Receive",
        "status": "COMPLETED",
        "createdTime": payment.time_ms,
        "updatedTime": payment.time_ms,
    }


class FundingFeeApi(VenueContext):
    """The signed funding-fee history."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {("GET", "/v3/futures/fundingFee/history"): Route(self._history, signed=True)}

    def _history(self, params: Params, creds: Credentials | None) -> object:
        account = self.engine.account(self.account_id(creds))
        instrument = self.instrument(params, required=False)
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        if start is not None and end is not None and end < start:
            raise WooError(INVALID_PARAM)
        payments = [
            p
            for p in account.funding
            if (instrument is None or p.symbol == instrument.symbol)
            and (start is None or p.time_ms >= start)
            and (end is None or p.time_ms <= end)
        ]
        payments.sort(key=lambda p: (p.time_ms, p.id), reverse=True)
        chosen, meta = page(payments, params)
        rows = [funding_row(self.engine.instruments[p.symbol], p) for p in chosen]
        return {"meta": meta, "rows": rows}
