"""Hyperliquid ``POST /info``: market data and per-user state."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from testudo.sim.dialects.hyperliquid import views
from testudo.sim.dialects.hyperliquid.common import (
    CLOID,
    FILL_HISTORY_CAP,
    FUNDING_PAGE,
    PAGE,
    VenueContext,
    WireError,
)
from testudo.sim.model import Rejected
from testudo.sim.simulator import Simulator


class InfoApi(VenueContext):
    """Answers every ``{"type": ...}`` request ccxt sends to ``/info``."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self.info_handlers: dict[str, Callable[[Mapping[str, object]], object]] = {
            "meta": lambda b: views.meta(self.engine),
            "metaAndAssetCtxs": self._meta_and_contexts,
            "spotMeta": lambda b: {"tokens": [views.USDC_TOKEN], "universe": []},
            "spotMetaAndAssetCtxs": lambda b: [{"tokens": [views.USDC_TOKEN], "universe": []}, []],
            "perpDexs": lambda b: [None],
            "exchangeStatus": lambda b: {"time": self.now, "specialStatuses": None},
            "allMids": self._all_mids,
            "l2Book": self._l2_book,
            "clearinghouseState": self._clearinghouse,
            "spotClearinghouseState": self._spot_clearinghouse,
            "openOrders": self._open_orders,
            "frontendOpenOrders": self._frontend_open_orders,
            "orderStatus": self._order_status,
            "userFills": self._user_fills,
            "userFillsByTime": self._user_fills_by_time,
            "userFunding": self._user_funding,
            "extraAgents": self._extra_agents,
            "userAbstraction": lambda b: "default",
            "maxBuilderFee": self._max_builder_fee,
            "userFees": self._user_fees,
        }

    def answer(self, body: Mapping[str, object]) -> object:
        """Answer one ``{"type": ...}`` request."""
        kind = body.get("type")
        handler = self.info_handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise WireError(f"unknown variant `{kind}`")
        return handler(body)

    def _meta_and_contexts(self, body: Mapping[str, object]) -> object:
        if body.get("dex"):
            return [{"universe": [], "marginTables": []}, []]
        instruments = sorted(self.engine.instruments.values(), key=lambda i: i.index)
        return [
            views.meta(self.engine),
            [views.asset_context(self.engine, i, self.now) for i in instruments],
        ]

    def _all_mids(self, body: Mapping[str, object]) -> object:
        mids = {}
        for coin, instrument in self.by_coin.items():
            bids, asks = self.engine.depth(instrument.symbol, 1)
            mids[coin] = views.num((bids[0].price + asks[0].price) / 2)
        return mids

    def _l2_book(self, body: Mapping[str, object]) -> object:
        instrument = self.coin(body)
        bids, asks = self.engine.depth(instrument.symbol, 20)
        return {
            "coin": instrument.venue_symbol,
            "time": self.now,
            "levels": [
                [
                    {"px": views.num(lv.price), "sz": views.num(lv.qty), "n": k + 1}
                    for k, lv in enumerate(side)
                ]
                for side in (bids, asks)
            ],
        }

    def _clearinghouse(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        if body.get("dex"):
            return views.clearinghouse_state(self.engine, None, self.now)
        return views.clearinghouse_state(self.engine, creds.account_id if creds else None, self.now)

    def _spot_clearinghouse(self, body: Mapping[str, object]) -> object:
        self.user(body)
        return {"balances": []}

    def _open_orders(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        if creds is None:
            return []
        return [
            views.basic_order(self.engine.instruments[o.symbol], o)
            for o in reversed(self.engine.open_orders(creds.account_id))
        ]

    def _frontend_open_orders(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        if creds is None:
            return []
        return [
            views.frontend_order(self.engine.instruments[o.symbol], o)
            for o in reversed(self.engine.open_orders(creds.account_id))
        ]

    def _order_status(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        oid = body.get("oid")
        if creds is None:
            return {"status": "unknownOid"}
        try:
            if isinstance(oid, int) and not isinstance(oid, bool):
                order = self.engine.order(creds.account_id, order_id=oid)
            elif isinstance(oid, str) and CLOID.match(oid):
                order = self.engine.order(creds.account_id, client_id=oid)
            else:
                raise WireError("oid must be an integer or a 16-byte hex cloid")
        except Rejected:
            return {"status": "unknownOid"}
        return {
            "status": "order",
            "order": {
                "order": views.frontend_order(self.engine.instruments[order.symbol], order),
                "status": views.order_status_name(order),
                "statusTimestamp": order.updated_ms,
            },
        }

    def _user_fills(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        if creds is None:
            return []
        fills = self.engine.account(creds.account_id).fills.latest(PAGE)
        return [views.fill_view(self.engine.instruments[f.symbol], f) for f in fills]

    def _user_fills_by_time(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        start = body.get("startTime")
        end = body.get("endTime")
        if not isinstance(start, int) or (end is not None and not isinstance(end, int)):
            raise WireError("startTime (and endTime) must be integers")
        if creds is None:
            return []
        fills = self.engine.account(creds.account_id).fills.between(
            start, end, PAGE, within_latest=FILL_HISTORY_CAP
        )
        return [views.fill_view(self.engine.instruments[f.symbol], f) for f in fills]

    def _user_funding(self, body: Mapping[str, object]) -> object:
        """The user's funding payments from ``startTime`` (to ``endTime``), oldest first, at
        most 500."""
        creds = self.user(body)
        start = body.get("startTime")
        end = body.get("endTime")
        if not isinstance(start, int) or (end is not None and not isinstance(end, int)):
            raise WireError("startTime (and endTime) must be integers")
        if creds is None:
            return []
        payments = [
            p
            for p in self.engine.account(creds.account_id).funding
            if p.time_ms >= start and (end is None or p.time_ms <= end)
        ]
        return [
            views.funding_view(self.engine.instruments[p.symbol], p)
            for p in payments[:FUNDING_PAGE]
        ]

    def _extra_agents(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        if creds is None:
            return []
        return [
            {"name": a.name, "address": a.address.lower(), "validUntil": a.valid_until}
            for a in self.sim.registry.agents_of(creds.wallet_address, self.now)
        ]

    def _max_builder_fee(self, body: Mapping[str, object]) -> object:
        creds = self.user(body)
        builder = body.get("builder")
        if creds is None or not isinstance(builder, str):
            return 0
        rate = self.sim.registry.builder_fees.get((creds.wallet_address.lower(), builder.lower()))
        return 0 if rate is None else int(rate * 100_000)

    def _user_fees(self, body: Mapping[str, object]) -> object:
        self.user(body)
        instrument = next(iter(self.engine.instruments.values()))
        return {
            "userCrossRate": str(instrument.taker_fee),
            "userAddRate": str(instrument.maker_fee),
            "activeReferralDiscount": "0.0",
            "dailyUserVlm": [],
            "feeSchedule": {"cross": str(instrument.taker_fee), "add": str(instrument.maker_fee)},
        }
