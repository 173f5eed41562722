"""Bybit funding executions: every funding payment the engine charged is an execution of
``execType`` ``Funding`` in ``/v5/execution/list`` (ccxt's ``fetch_funding_history`` asks for
that type; a list without ``execType`` has them among the trades).

A funding execution's ``execFee`` is what the account paid, signed as a trading fee is:
positive when the position paid, negative when it received. ``side`` is the position's side
(``Buy`` for a long), ``execQty`` its size, ``execPrice`` / ``markPrice`` the mark price,
``execValue`` the position value and ``feeRate`` the funding rate.
"""

from __future__ import annotations

from testudo.sim.dialects.bybit.formats import money, ms, price_text, qty_text
from testudo.sim.dialects.bybit.ids import FUNDING_IDS
from testudo.sim.funding import Payment
from testudo.sim.instruments import Instrument
from testudo.sim.money import plain


def funding_key(payment: Payment) -> tuple[int, int]:
    """Where a payment sorts among executions (time, then a number apart from fill ids)."""
    return payment.time_ms, payment.id


def funding_view(instrument: Instrument, payment: Payment) -> dict[str, object]:
    """One funding payment as ``/v5/execution/list`` shows it."""
    side = "Buy" if payment.size > 0 else "Sell"
    size = abs(payment.size)
    order_id = f"{payment.time_ms // 1000}-{instrument.venue_symbol}-{payment.account_id}-{side}"
    return {
        "symbol": instrument.venue_symbol,
        "orderType": "UNKNOWN",
        "underlyingPrice": "",
        "orderLinkId": "",
        "orderId": order_id,
        "stopOrderType": "UNKNOWN",
        "execTime": ms(payment.time_ms),
        "feeCurrency": "",
        "createType": "",
        "feeRate": plain(payment.rate),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": price_text(instrument, payment.mark),
        "execPrice": price_text(instrument, payment.mark),
        "markIv": "",
        "orderQty": "0",
        "orderPrice": "0",
        "execValue": money(size * payment.mark),
        "closedSize": "0",
        "execType": "Funding",
        "seq": payment.id,
        "side": side,
        "indexPrice": "",
        "leavesQty": "0",
        "isMaker": False,
        "execFee": money(-payment.amount),
        "execId": FUNDING_IDS.encode(payment.id),
        "marketUnit": "",
        "execQty": qty_text(instrument, size),
        "extraFees": "",
    }
