"""Hyperliquid ``/info`` and ``/exchange`` over the ``hyperliquid`` engine."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects import hyperliquid_views as views
from testudo.sim.dialects.hyperliquid_signing import (
    USER_SIGNED_TYPES,
    SignatureError,
    recover_l1,
    recover_user_signed,
)
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
    text_response,
)
from testudo.sim.engine import Engine, PlaceResult
from testudo.sim.faults import FaultResponse
from testudo.sim.instruments import HYPERLIQUID, Instrument
from testudo.sim.model import (
    OrderKind,
    OrderRequest,
    Reason,
    Rejected,
    Side,
    TimeInForce,
    TriggerKind,
    trigger_for,
)
from testudo.sim.money import ZERO, parse_decimal
from testudo.sim.simulator import Simulator

PAGE = 2000
DAY_MS = 86_400_000
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_CLOID = re.compile(r"^0x[0-9a-fA-F]{32}$")
_TIF = {"Gtc": TimeInForce.GTC, "Ioc": TimeInForce.IOC, "Alo": TimeInForce.POST_ONLY}
_BAD_BODY = "Failed to deserialize the JSON body into the target type"


class WireError(ValueError):
    """The request body does not have the shape Hyperliquid expects (HTTP 422)."""


class ActionError(Exception):
    """An ``{"status": "err", "response": msg}`` answer."""


def _ok(kind: str, data: object | None = None) -> dict[str, object]:
    response: dict[str, object] = {"type": kind}
    if data is not None:
        response["data"] = data
    return {"status": "ok", "response": response}


class HyperliquidDialect:
    """Serves ``POST /info`` and ``POST /exchange`` like api.hyperliquid.xyz."""

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
            "extraAgents": self._extra_agents,
            "userAbstraction": lambda b: "default",
            "maxBuilderFee": self._max_builder_fee,
            "userFees": self._user_fees,
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    # ------------------------------------------------------------------ dialect protocol

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path plus ``path:type`` (``/info:clearinghouseState``, ``/exchange:order``)."""
        keys = [request.path]
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return keys
        if isinstance(body, dict):
            kind = body.get("type")
            action = body.get("action")
            if kind is None and isinstance(action, dict):
                kind = action.get("type")
            if isinstance(kind, str):
                keys.append(f"{request.path}:{kind}")
        return keys

    def fault_response(self, fault: FaultResponse) -> WireResponse:
        """Gateway-style plain-text answers."""
        return generic_fault_response(fault)

    def handle(self, request: WireRequest) -> WireResponse:
        """Serve ``/info`` or ``/exchange``."""
        if request.path not in ("/info", "/exchange"):
            return text_response("Not Found", 404)
        if request.method != "POST":
            return text_response("Method Not Allowed", 405)
        try:
            body = json.loads(request.body or b"null")
            if not isinstance(body, dict):
                raise WireError("expected a JSON object")
            if request.path == "/info":
                return json_response(self._info(body))
            return json_response(self._exchange(body))
        except (WireError, ValueError) as exc:
            return text_response(f"{_BAD_BODY}: {exc}", 422)
        except ActionError as exc:
            return json_response({"status": "err", "response": str(exc)})

    # ------------------------------------------------------------------ /info

    def _info(self, body: Mapping[str, object]) -> object:
        kind = body.get("type")
        handler = self.info_handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise WireError(f"unknown variant `{kind}`")
        return handler(body)

    def _user(self, body: Mapping[str, object]) -> Credentials | None:
        user = body.get("user")
        if not isinstance(user, str) or not _ADDRESS.match(user):
            raise WireError("missing or malformed field `user`")
        return self.sim.registry.wallet(user)

    def _coin(self, body: Mapping[str, object]) -> Instrument:
        coin = body.get("coin")
        instrument = self.by_coin.get(coin) if isinstance(coin, str) else None
        if instrument is None:
            raise WireError(f"unknown coin {coin!r}")
        return instrument

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
        instrument = self._coin(body)
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
        creds = self._user(body)
        if body.get("dex"):
            return views.clearinghouse_state(self.engine, None, self.now)
        return views.clearinghouse_state(self.engine, creds.account_id if creds else None, self.now)

    def _spot_clearinghouse(self, body: Mapping[str, object]) -> object:
        self._user(body)
        return {"balances": []}

    def _open_orders(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        if creds is None:
            return []
        return [
            views.basic_order(self.engine.instruments[o.symbol], o)
            for o in reversed(self.engine.open_orders(creds.account_id))
        ]

    def _frontend_open_orders(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        if creds is None:
            return []
        return [
            views.frontend_order(self.engine.instruments[o.symbol], o)
            for o in reversed(self.engine.open_orders(creds.account_id))
        ]

    def _order_status(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        oid = body.get("oid")
        if creds is None:
            return {"status": "unknownOid"}
        try:
            if isinstance(oid, int) and not isinstance(oid, bool):
                order = self.engine.order(creds.account_id, order_id=oid)
            elif isinstance(oid, str) and _CLOID.match(oid):
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
        creds = self._user(body)
        if creds is None:
            return []
        fills = self.engine.account(creds.account_id).fills.latest(PAGE)
        return [views.fill_view(self.engine.instruments[f.symbol], f) for f in fills]

    def _user_fills_by_time(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        start = body.get("startTime")
        end = body.get("endTime")
        if not isinstance(start, int) or (end is not None and not isinstance(end, int)):
            raise WireError("startTime (and endTime) must be integers")
        if creds is None:
            return []
        fills = self.engine.account(creds.account_id).fills.between(start, end, PAGE)
        return [views.fill_view(self.engine.instruments[f.symbol], f) for f in fills]

    def _extra_agents(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        if creds is None:
            return []
        return [
            {"name": a.name, "address": a.address.lower(), "validUntil": a.valid_until}
            for a in self.sim.registry.agents_of(creds.wallet_address)
        ]

    def _max_builder_fee(self, body: Mapping[str, object]) -> object:
        creds = self._user(body)
        builder = body.get("builder")
        if creds is None or not isinstance(builder, str):
            return 0
        rate = self.sim.registry.builder_fees.get((creds.wallet_address.lower(), builder.lower()))
        return 0 if rate is None else int(rate * 100_000)

    def _user_fees(self, body: Mapping[str, object]) -> object:
        self._user(body)
        instrument = next(iter(self.engine.instruments.values()))
        return {
            "userCrossRate": str(instrument.taker_fee),
            "userAddRate": str(instrument.maker_fee),
            "activeReferralDiscount": "0.0",
            "dailyUserVlm": [],
            "feeSchedule": {"cross": str(instrument.taker_fee), "add": str(instrument.maker_fee)},
        }

    # ------------------------------------------------------------------ /exchange

    def _exchange(self, body: Mapping[str, object]) -> object:
        action = body.get("action")
        nonce = body.get("nonce")
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            raise WireError("missing field `action`")
        if not isinstance(nonce, int) or isinstance(nonce, bool):
            raise WireError("missing field `nonce`")
        vault = body.get("vaultAddress")
        if vault is not None:
            raise ActionError(f"Vault not registered: {vault}")
        expires = body.get("expiresAfter")
        if expires is not None and (not isinstance(expires, int) or expires < self.now):
            raise ActionError("Action expired")
        if not self.now - 2 * DAY_MS < nonce < self.now + DAY_MS:
            raise ActionError(f"Invalid nonce: nonce {nonce} is too far from the current time")
        kind = str(action["type"])
        try:
            if kind in USER_SIGNED_TYPES:
                return self._user_signed(kind, action, nonce, body.get("signature"))
            signer = recover_l1(
                action,
                nonce,
                body.get("signature"),
                vault_address=None,
                expires_after=expires if isinstance(expires, int) else None,
                mainnet=self.mainnet,
            )
        except SignatureError as exc:
            raise WireError(str(exc)) from exc
        creds = self.sim.registry.acting_user(signer, self.now)
        if creds is None:
            raise ActionError(f"User or API Wallet {signer.lower()} does not exist.")
        self._nonce(signer, nonce)
        return self._l1_action(kind, action, creds)

    def _nonce(self, signer: str, nonce: int) -> None:
        refused = self.sim.registry.nonces.accept(signer, nonce)
        if refused is not None:
            raise ActionError(refused)

    def _user_signed(
        self, kind: str, action: Mapping[str, object], nonce: int, signature: object
    ) -> object:
        if action.get("nonce") != nonce:
            raise ActionError("Invalid nonce: action nonce does not match request nonce")
        expected_chain = "Mainnet" if self.mainnet else "Testnet"
        if action.get("hyperliquidChain") != expected_chain:
            raise ActionError(f"Invalid hyperliquidChain, expected {expected_chain}")
        signers = recover_user_signed(action, signature)
        creds = next(
            (c for c in (self.sim.registry.wallet(s) for s in signers) if c is not None), None
        )
        if creds is None:
            raise ActionError(f"Must deposit before performing actions. User: {signers[0].lower()}")
        self._nonce(creds.wallet_address, nonce)
        if kind == "approveAgent":
            return self._approve_agent(action, creds)
        return self._approve_builder_fee(action, creds)

    def _approve_agent(self, action: Mapping[str, object], creds: Credentials) -> object:
        agent = action.get("agentAddress")
        if not isinstance(agent, str) or not _ADDRESS.match(agent):
            raise WireError("agentAddress must be an address")
        if agent.lower() == creds.wallet_address.lower():
            raise ActionError("Cannot approve the user's own address as an agent")
        raw_name = action.get("agentName") or ""
        name = str(raw_name)
        valid_until = None
        if " valid_until " in name:
            name, _, until = name.partition(" valid_until ")
            valid_until = int(until) if until.isdigit() else None
        self.sim.registry.approve_agent(creds.wallet_address, agent, name, valid_until)
        return _ok("default")

    def _approve_builder_fee(self, action: Mapping[str, object], creds: Credentials) -> object:
        builder = action.get("builder")
        rate_text = action.get("maxFeeRate")
        if not isinstance(builder, str) or not _ADDRESS.match(builder):
            raise WireError("builder must be an address")
        if not isinstance(rate_text, str) or not rate_text.endswith("%"):
            raise WireError("maxFeeRate must be a percentage")
        rate = parse_decimal(rate_text[:-1]) / 100
        if rate > Decimal("0.001"):
            raise ActionError("Builder fee is too high: max is 0.1%")
        self.sim.registry.builder_fees[(creds.wallet_address.lower(), builder.lower())] = rate
        return _ok("default")

    def _l1_action(self, kind: str, action: Mapping[str, object], creds: Credentials) -> object:
        if kind == "order":
            return self._orders(action, creds)
        if kind in ("cancel", "cancelByCloid"):
            return self._cancels(kind, action, creds)
        if kind == "updateLeverage":
            return self._update_leverage(action, creds)
        if kind == "setReferrer":
            return _ok("default")
        raise ActionError(f"Action type {kind} is not supported by the simulator")

    def _asset(self, value: object) -> Instrument:
        instrument = self.by_index.get(value) if isinstance(value, int) else None
        if instrument is None:
            raise WireError(f"unknown asset {value!r}")
        return instrument

    def _update_leverage(self, action: Mapping[str, object], creds: Credentials) -> object:
        instrument = self._asset(action.get("asset"))
        leverage = action.get("leverage")
        if not isinstance(leverage, int) or isinstance(leverage, bool):
            raise WireError("leverage must be an integer")
        try:
            self.engine.set_leverage(creds.account_id, instrument.symbol, leverage)
        except Rejected:
            raise ActionError("Invalid leverage value") from None
        return _ok("default")

    def _builder_rate(self, action: Mapping[str, object], creds: Credentials) -> Decimal:
        builder = action.get("builder")
        if builder is None:
            return ZERO
        if not isinstance(builder, dict) or not isinstance(builder.get("b"), str):
            raise WireError("builder must be {b, f}")
        fee = builder.get("f")
        if not isinstance(fee, int) or fee < 0:
            raise WireError("builder fee f must be a non-negative integer")
        rate = Decimal(fee) / 100_000
        approved = self.sim.registry.builder_fees.get(
            (creds.wallet_address.lower(), str(builder["b"]).lower())
        )
        if rate > 0 and (approved is None or rate > approved):
            raise ActionError("Builder fee has not been approved.")
        return rate

    def _orders(self, action: Mapping[str, object], creds: Credentials) -> object:
        wire_orders = action.get("orders")
        grouping = action.get("grouping", "na")
        if not isinstance(wire_orders, list) or grouping not in (
            "na",
            "normalTpsl",
            "positionTpsl",
        ):
            raise WireError("orders must be a list and grouping na|normalTpsl|positionTpsl")
        extra = self._builder_rate(action, creds)
        statuses: list[object] = []
        parent_id: int | None = None
        for index, wire in enumerate(wire_orders):
            child = grouping == "normalTpsl" and index > 0
            if child and parent_id is None:
                statuses.append({"error": "Parent order was not placed."})
                continue
            request, instrument = self._order_request(wire, extra, grouping)
            if child:
                request = attrs.evolve(request, parent_id=parent_id)
            try:
                self._check_reference(instrument, request)
                result = self.engine.place(creds.account_id, request)
            except Rejected as exc:
                statuses.append({"error": self._message(exc, instrument)})
                continue
            if grouping == "normalTpsl" and index == 0:
                parent_id = result.order.id
            grouped = grouping != "na" and request.trigger is not None
            statuses.append("waitingForTrigger" if grouped else self._status(result, instrument))
        return _ok("order", {"statuses": statuses})

    def _order_request(
        self, wire: object, extra: Decimal, grouping: str
    ) -> tuple[OrderRequest, Instrument]:
        if not isinstance(wire, dict):
            raise WireError("order must be an object")
        instrument = self._asset(wire.get("a"))
        buy = wire.get("b")
        reduce_only = wire.get("r", False)
        kind_spec = wire.get("t")
        if not isinstance(buy, bool) or not isinstance(reduce_only, bool):
            raise WireError("b and r must be booleans")
        if not isinstance(wire.get("p"), str) or not isinstance(wire.get("s"), str):
            raise WireError("p and s must be strings")
        price = parse_decimal(wire["p"])
        size = parse_decimal(wire["s"])
        cloid = wire.get("c")
        if cloid is not None and (not isinstance(cloid, str) or not _CLOID.match(cloid)):
            raise WireError("cloid must be 16 bytes of hex")
        side = Side.BUY if buy else Side.SELL
        close_position = grouping == "positionTpsl" and size == 0
        if not isinstance(kind_spec, dict):
            raise WireError("t must be an object")
        if "limit" in kind_spec:
            limit = kind_spec["limit"]
            tif = _TIF.get(str(limit.get("tif"))) if isinstance(limit, dict) else None
            if tif is None:
                raise WireError("tif must be Gtc, Ioc or Alo")
            request = OrderRequest(
                symbol=instrument.symbol,
                side=side,
                kind=OrderKind.LIMIT,
                qty=size,
                price=price,
                tif=tif,
                reduce_only=reduce_only,
                client_id=cloid,
                extra_fee_rate=extra,
            )
        elif "trigger" in kind_spec:
            spec = kind_spec["trigger"]
            if not isinstance(spec, dict) or spec.get("tpsl") not in ("tp", "sl"):
                raise WireError("trigger needs isMarket, triggerPx and tpsl")
            if not isinstance(spec.get("triggerPx"), str):
                raise WireError("triggerPx must be a string")
            is_market = bool(spec.get("isMarket"))
            trigger_kind = TriggerKind.TAKE_PROFIT if spec["tpsl"] == "tp" else TriggerKind.STOP
            request = OrderRequest(
                symbol=instrument.symbol,
                side=side,
                kind=OrderKind.MARKET if is_market else OrderKind.LIMIT,
                qty=size,
                price=None if is_market else price,
                reduce_only=reduce_only,
                close_position=close_position,
                client_id=cloid,
                trigger=trigger_for(trigger_kind, side, parse_decimal(spec["triggerPx"])),
                extra_fee_rate=extra,
            )
        else:
            raise WireError("t must hold limit or trigger")
        return request, instrument

    def _check_reference(self, instrument: Instrument, request: OrderRequest) -> None:
        price = (
            request.price
            if request.price is not None
            else (request.trigger.price if request.trigger else None)
        )
        mark = self.engine.mark(instrument.symbol)
        if price is not None and abs(price - mark) > mark * Decimal("0.8"):
            raise Rejected(Reason.INVALID_PRICE, "far")

    def _status(self, result: PlaceResult, instrument: Instrument) -> object:
        order = result.order
        if order.is_open:
            resting: dict[str, object] = {"oid": order.id}
            if order.client_id:
                resting["cloid"] = order.client_id
            return {"resting": resting}
        if order.filled_qty > 0:
            filled: dict[str, object] = {
                "totalSz": views.num(order.filled_qty),
                "avgPx": views.num(order.average_price),
                "oid": order.id,
            }
            if order.client_id:
                filled["cloid"] = order.client_id
            return {"filled": filled}
        message = "Order could not immediately match against any resting orders."
        return {"error": f"{message} asset={instrument.index}"}

    def _message(self, exc: Rejected, instrument: Instrument) -> str:
        asset = f"asset={instrument.index}"
        if exc.reason is Reason.INVALID_PRICE and exc.detail == "far":
            return f"Order price cannot be more than 80% away from the reference price. {asset}"
        messages = {
            Reason.INSUFFICIENT_MARGIN: "Insufficient margin to place order.",
            Reason.MIN_NOTIONAL: "Order must have minimum value of $10.",
            Reason.INVALID_PRICE: "Price must be divisible by tick size.",
            Reason.INVALID_QTY: "Order has zero size.",
            Reason.QTY_STEP: "Order has invalid size.",
            Reason.QTY_TOO_SMALL: "Order has invalid size.",
            Reason.QTY_TOO_LARGE: "Order has invalid size.",
            Reason.REDUCE_ONLY_REJECTED: "Reduce only order would increase position.",
            Reason.POST_ONLY_WOULD_MATCH: "Post only order would have immediately matched.",
            Reason.NO_LIQUIDITY: "Order could not immediately match against any resting orders.",
            Reason.DUPLICATE_CLIENT_ID: "Order has duplicate cloid.",
            Reason.PRICE_REQUIRED: "Order has invalid price.",
        }
        return f"{messages.get(exc.reason, exc.reason.value)} {asset}"

    def _cancels(self, kind: str, action: Mapping[str, object], creds: Credentials) -> object:
        cancels = action.get("cancels")
        if not isinstance(cancels, list):
            raise WireError("cancels must be a list")
        statuses: list[object] = []
        for cancel in cancels:
            if not isinstance(cancel, dict):
                raise WireError("cancel must be an object")
            order_id: int | None = None
            client_id: str | None = None
            if kind == "cancel":
                instrument = self._asset(cancel.get("a"))
                oid = cancel.get("o")
                if not isinstance(oid, int):
                    raise WireError("o must be an integer")
                order_id = oid
            else:
                instrument = self._asset(cancel.get("asset"))
                cloid = cancel.get("cloid")
                if not isinstance(cloid, str) or not _CLOID.match(cloid):
                    raise WireError("cloid must be 16 bytes of hex")
                client_id = cloid
            try:
                self.engine.cancel(
                    creds.account_id,
                    symbol=instrument.symbol,
                    order_id=order_id,
                    client_id=client_id,
                )
                statuses.append("success")
            except Rejected:
                statuses.append(
                    {
                        "error": "Order was never placed, already canceled, or filled. "
                        f"asset={instrument.index}"
                    }
                )
        return _ok("cancel", {"statuses": statuses})
