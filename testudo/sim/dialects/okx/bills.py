"""OKX account bills: ``/account/bills`` (last 7 days) and ``/account/bills-archive`` (last 3
months), newest first, at most 100 a page; ccxt's ``fetch_funding_history`` reads the archive
with ``type=8`` (funding fee).

The simulator keeps one kind of bill: the funding payments the engine charged (``type`` 8,
``subType`` 173 funding fee expense, 174 funding fee income). ``balChg`` is the signed
change of the balance (negative: paid), ``bal`` the balance after it, ``pnl`` the funding
itself. Paging is by ``billId``: ``after`` returns older bills than that id, ``before`` newer
ones (the newest of them first, as the fills do); ``begin`` / ``end`` bound the bill time
(both included). Filters: ``instType`` (``SWAP``), ``ccy``, ``ctType`` (``linear``),
``mgnMode`` (``cross``), ``type``, ``subType``, ``instId``; a filter no funding bill can match
answers no bills.
"""

from __future__ import annotations

from testudo.sim.dialects.okx.common import (
    SWAP,
    Call,
    Route,
    RouteTable,
    Venue,
    integer,
    page_limit,
    text,
)
from testudo.sim.dialects.okx.listing import DAY_MS, QUARTER_MS, check_inst_type
from testudo.sim.funding import Payment
from testudo.sim.money import plain

WEEK_MS = 7 * DAY_MS
FUNDING_TYPE = "8"
EXPENSE, INCOME = "173", "174"
# Bill ids of funding payments: this plus the payment's id (19 digits, below 2**63).
BILL_ID_BASE = 800_000_000_000_000_000


def bill_id(payment: Payment) -> int:
    return BILL_ID_BASE + payment.id


def sub_type(payment: Payment) -> str:
    return EXPENSE if payment.amount < 0 else INCOME


def bill_view(venue: Venue, payment: Payment) -> dict[str, object]:
    """A funding payment as an account bill (``balChg`` < 0: paid)."""
    contract = venue.by_symbol[payment.symbol]
    return {
        "bal": plain(payment.balance) if payment.balance is not None else "",
        "balChg": plain(payment.amount),
        "billId": str(bill_id(payment)),
        "ccy": contract.instrument.settle,
        "clOrdId": "",
        "execType": "",
        "fee": "0",
        "fillFwdPx": "",
        "fillIdxPx": "",
        "fillMarkPx": "",
        "fillMarkVol": "",
        "fillPxUsd": "",
        "fillPxVol": "",
        "fillTime": str(payment.time_ms),
        "from": "",
        "instId": contract.inst_id,
        "instType": SWAP,
        "interest": "0",
        "mgnMode": "cross",
        "notes": "",
        "ordId": "",
        "pnl": plain(payment.amount),
        "posBal": "0",
        "posBalChg": "0",
        "px": plain(payment.mark),
        "subType": sub_type(payment),
        "sz": contract.contracts(abs(payment.size)),
        "tag": "",
        "to": "",
        "tradeId": "",
        "ts": str(payment.time_ms),
        "type": FUNDING_TYPE,
    }


class BillsApi:
    """Signed account-bill endpoints."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/api/v5/account/bills"): Route(lambda call: self._bills(call, WEEK_MS), True),
            ("GET", "/api/v5/account/bills-archive"): Route(
                lambda call: self._bills(call, QUARTER_MS), True
            ),
        }

    def _may_match(self, call: Call) -> bool:
        """Whether the filters leave room for funding bills of USDT swaps."""
        wanted = {
            "ccy": "USDT",
            "ctType": "linear",
            "mgnMode": "cross",
            "type": FUNDING_TYPE,
        }
        if not check_inst_type(call, required=False):
            return False
        if any(text(call.params, k) not in (None, v) for k, v in wanted.items()):
            return False
        return text(call.params, "subType") in (None, EXPENSE, INCOME)

    def _selected(self, call: Call, payment: Payment, window_ms: int) -> bool:
        params = call.params
        begin = max(integer(params, "begin") or 0, self.venue.now - window_ms)
        end, after, before = (integer(params, k) for k in ("end", "after", "before"))
        inst_id = text(params, "instId")
        sub = text(params, "subType")
        return (
            begin <= payment.time_ms
            and (end is None or payment.time_ms <= end)
            and (after is None or bill_id(payment) < after)
            and (before is None or bill_id(payment) > before)
            and (inst_id is None or self.venue.by_symbol[payment.symbol].inst_id == inst_id)
            and (sub is None or sub_type(payment) == sub)
        )

    def _bills(self, call: Call, window_ms: int) -> list[object]:
        limit = page_limit(call.params)
        inst_id = text(call.params, "instId")
        if inst_id is not None:
            self.venue.contract(inst_id)
        if not self._may_match(call):
            return []
        payments = [
            p for p in self.venue.account(call).funding if self._selected(call, p, window_ms)
        ]
        payments.sort(key=bill_id, reverse=True)
        return [bill_view(self.venue, p) for p in payments[:limit]]
