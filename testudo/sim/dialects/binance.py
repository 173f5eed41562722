"""Binance USD-M futures (``/fapi``) and the few ``/sapi`` calls ccxt makes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal

import attrs

from testudo.sim.accounts import Credentials
from testudo.sim.dialects import binance_views as views
from testudo.sim.dialects.binance_auth import BinanceError, authenticate, mandatory
from testudo.sim.dialects.wire import (
    WireRequest,
    WireResponse,
    generic_fault_response,
    json_response,
)
from testudo.sim.engine import Engine
from testudo.sim.faults import FaultMode, FaultResponse
from testudo.sim.instruments import BINANCE, Instrument
from testudo.sim.model import (
    Order,
    OrderKind,
    OrderRequest,
    PublicTrade,
    Reason,
    Rejected,
    Side,
    TimeInForce,
    TriggerKind,
    trigger_for,
)
from testudo.sim.money import parse_decimal
from testudo.sim.simulator import Simulator

Handler = Callable[[dict[str, str], Credentials | None], object]
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
_CLIENT_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:/_-")
_TRIGGER_TYPES = {
    "STOP_MARKET": (TriggerKind.STOP, OrderKind.MARKET),
    "TAKE_PROFIT_MARKET": (TriggerKind.TAKE_PROFIT, OrderKind.MARKET),
    "STOP": (TriggerKind.STOP, OrderKind.LIMIT),
    "TAKE_PROFIT": (TriggerKind.TAKE_PROFIT, OrderKind.LIMIT),
}
_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
    "GTD": TimeInForce.GTC,
}
_REJECTIONS: dict[Reason, tuple[int, str]] = {
    Reason.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    Reason.INVALID_QTY: (-4003, "Quantity less than or equal to zero."),
    Reason.QTY_STEP: (-1111, "Precision is over the maximum defined for this asset."),
    Reason.QTY_TOO_SMALL: (-1013, "Filter failure: LOT_SIZE"),
    Reason.QTY_TOO_LARGE: (-4005, "Quantity greater than max quantity."),
    Reason.INVALID_PRICE: (-4014, "Price not increased by tick size."),
    Reason.PRICE_REQUIRED: (
        -1102,
        "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
    ),
    Reason.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    Reason.REDUCE_ONLY_REJECTED: (-2022, "ReduceOnly Order is rejected."),
    Reason.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
    Reason.WOULD_TRIGGER: (-2021, "Order would immediately trigger."),
    Reason.POST_ONLY_WOULD_MATCH: (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be "
        "rejected. The order will not be recorded in the order history",
    ),
    Reason.UNKNOWN_ORDER: (-2013, "Order does not exist."),
    Reason.INVALID_LEVERAGE: (-4028, "Leverage is not valid"),
}


@attrs.frozen
class _Route:
    handler: Handler
    signed: bool
    trading: bool = False


class BinanceDialect:
    """Serves Binance USD-M paths (``/fapi/v1/order``, ...) from the ``binance`` engine."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.engine: Engine = sim.engines[BINANCE]
        self.by_id: dict[str, Instrument] = {
            i.venue_symbol: i for i in self.engine.instruments.values()
        }
        self._book_sequence = 1
        r = _Route
        self.routes: dict[tuple[str, str], _Route] = {
            ("GET", "/fapi/v1/ping"): r(lambda p, c: {}, signed=False),
            ("GET", "/fapi/v1/time"): r(lambda p, c: {"serverTime": self.now}, signed=False),
            ("GET", "/fapi/v1/exchangeInfo"): r(self._exchange_info, signed=False),
            ("GET", "/fapi/v1/depth"): r(self._depth, signed=False),
            ("GET", "/fapi/v1/ticker/24hr"): r(self._ticker, signed=False),
            ("GET", "/fapi/v1/ticker/price"): r(self._price_ticker, signed=False),
            ("GET", "/fapi/v2/ticker/price"): r(self._price_ticker, signed=False),
            ("GET", "/fapi/v1/ticker/bookTicker"): r(self._book_ticker, signed=False),
            ("GET", "/fapi/v1/premiumIndex"): r(self._premium_index, signed=False),
            ("GET", "/fapi/v1/aggTrades"): r(self._agg_trades, signed=False),
            ("GET", "/fapi/v1/trades"): r(self._trades, signed=False),
            ("GET", "/sapi/v1/capital/config/getall"): r(self._coins, signed=True),
            ("GET", "/sapi/v1/margin/allPairs"): r(lambda p, c: [], signed=True),
            ("GET", "/sapi/v1/account/apiRestrictions"): r(self._restrictions, signed=True),
            ("GET", "/fapi/v3/account"): r(self._account, signed=True),
            ("GET", "/fapi/v2/account"): r(self._account, signed=True),
            ("GET", "/fapi/v2/balance"): r(self._balance, signed=True),
            ("GET", "/fapi/v3/balance"): r(self._balance, signed=True),
            ("GET", "/fapi/v3/positionRisk"): r(self._position_risk, signed=True),
            ("GET", "/fapi/v2/positionRisk"): r(self._position_risk, signed=True),
            ("GET", "/fapi/v1/leverageBracket"): r(self._brackets, signed=True),
            ("GET", "/fapi/v1/positionSide/dual"): r(
                lambda p, c: {"dualSidePosition": False}, signed=True
            ),
            ("GET", "/fapi/v1/commissionRate"): r(self._commission, signed=True),
            ("POST", "/fapi/v1/leverage"): r(self._leverage, signed=True, trading=True),
            ("POST", "/fapi/v1/order"): r(self._new_order, signed=True, trading=True),
            ("DELETE", "/fapi/v1/order"): r(self._cancel_order, signed=True, trading=True),
            ("GET", "/fapi/v1/order"): r(self._query_order, signed=True),
            ("GET", "/fapi/v1/openOrder"): r(self._query_open_order, signed=True),
            ("GET", "/fapi/v1/openOrders"): r(self._open_orders, signed=True),
            ("GET", "/fapi/v1/allOrders"): r(self._all_orders, signed=True),
            ("DELETE", "/fapi/v1/allOpenOrders"): r(self._cancel_all, signed=True, trading=True),
            ("POST", "/fapi/v1/algoOrder"): r(self._new_algo, signed=True, trading=True),
            ("DELETE", "/fapi/v1/algoOrder"): r(self._cancel_algo, signed=True, trading=True),
            ("GET", "/fapi/v1/algoOrder"): r(self._query_algo, signed=True),
            ("GET", "/fapi/v1/openAlgoOrders"): r(self._open_algos, signed=True),
            ("DELETE", "/fapi/v1/algoOpenOrders"): r(
                self._cancel_all_algos, signed=True, trading=True
            ),
            ("GET", "/fapi/v1/userTrades"): r(self._user_trades, signed=True),
        }

    @property
    def now(self) -> int:
        """Server time in milliseconds."""
        return self.sim.clock.now_ms()

    # ------------------------------------------------------------------ dialect protocol

    def fault_keys(self, request: WireRequest) -> list[str]:
        """The path, e.g. ``/fapi/v1/order``."""
        return [request.path]

    def fault_response(self, fault: FaultResponse) -> WireResponse:
        """Rate limits answer ``-1003`` with ``Retry-After``; other faults plain text."""
        if fault.mode is FaultMode.RATE_LIMIT and fault.body is None:
            msg = (
                "Too many requests; current limit of IP is 2400 requests per minute. Please "
                "use the websocket for live updates to avoid polling the API."
            )
            headers = {"Retry-After": str(fault.retry_after or 1)}
            return json_response({"code": -1003, "msg": msg}, fault.status, headers)
        return generic_fault_response(fault)

    def handle(self, request: WireRequest) -> WireResponse:
        """Route, authenticate and serve one request."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return json_response(
                {"code": -5000, "msg": f"Path {request.path}, Method {request.method} is invalid"},
                404,
            )
        params = request.form()
        headers = {"X-MBX-USED-WEIGHT-1M": "1", "Content-Type": "application/json"}
        try:
            creds = None
            if route.signed:
                creds = authenticate(request, params, self.sim.registry, self.now)
                if route.trading and not creds.permissions.get("enableFutures", True):
                    raise BinanceError(
                        -2015, "Invalid API-key, IP, or permissions for action.", 401
                    )
            payload = route.handler(params, creds)
        except BinanceError as exc:
            return json_response({"code": exc.code, "msg": exc.msg}, exc.status, headers)
        except Rejected as exc:
            code, msg = self._rejection(exc)
            return json_response({"code": code, "msg": msg}, 400, headers)
        return json_response(payload, 200, headers)

    # ------------------------------------------------------------------ helpers

    def _rejection(self, exc: Rejected) -> tuple[int, str]:
        code, msg = _REJECTIONS.get(exc.reason, (-1000, "An unknown error occurred."))
        if exc.reason is Reason.MIN_NOTIONAL:
            limit = exc.detail.rsplit("< ", 1)[-1]
            msg = (
                f"Order's notional must be no smaller than {limit} (unless you choose reduce only)."
            )
            code = -4164
        if exc.reason is Reason.INVALID_LEVERAGE:
            msg = f"Leverage {exc.detail.split()[1]} is not valid"
        return code, msg

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
        if len(client_id) > 36 or not set(client_id) <= _CLIENT_ID_CHARS:
            raise BinanceError(-4015, "Client order id is not valid.")
        return client_id

    def _check_position_side(self, params: dict[str, str]) -> None:
        if params.get("positionSide", "BOTH") != "BOTH":
            raise BinanceError(-4061, "Order's position side does not match user's setting.")

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

    # ------------------------------------------------------------------ market data

    def _exchange_info(self, params: dict[str, str], creds: Credentials | None) -> object:
        return views.exchange_info(self.engine, self.now)

    def _depth(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        limit = self._int(params, "limit") or 500
        if limit not in (5, 10, 20, 50, 100, 500, 1000):
            raise BinanceError(-1130, "Invalid data sent for a parameter.")
        bids, asks = self.engine.depth(instrument.symbol, limit)
        self._book_sequence += 1
        return {
            "lastUpdateId": self._book_sequence,
            "E": self.now,
            "T": self.now,
            "bids": [
                [views.price_text(instrument, lv.price), views.qty_text(instrument, lv.qty)]
                for lv in bids
            ],
            "asks": [
                [views.price_text(instrument, lv.price), views.qty_text(instrument, lv.qty)]
                for lv in asks
            ],
        }

    def _ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        tickers = [
            views.ticker_view(i, self.engine.mark(i.symbol), self.engine.tape(i.symbol), self.now)
            for i in chosen
        ]
        return tickers[0] if instrument else tickers

    def _price_ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = [
            {
                "symbol": i.venue_symbol,
                "price": views.price_text(i, self.engine.mark(i.symbol)),
                "time": self.now,
            }
            for i in chosen
        ]
        return rows[0] if instrument else rows

    def _book_ticker(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = []
        for i in chosen:
            bids, asks = self.engine.depth(i.symbol, 1)
            rows.append(
                {
                    "symbol": i.venue_symbol,
                    "bidPrice": views.price_text(i, bids[0].price),
                    "bidQty": views.qty_text(i, bids[0].qty),
                    "askPrice": views.price_text(i, asks[0].price),
                    "askQty": views.qty_text(i, asks[0].qty),
                    "time": self.now,
                }
            )
        return rows[0] if instrument else rows

    def _premium_index(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        rows = []
        for i in chosen:
            mark = views.price_text(i, self.engine.mark(i.symbol))
            rows.append(
                {
                    "symbol": i.venue_symbol,
                    "markPrice": mark,
                    "indexPrice": mark,
                    "estimatedSettlePrice": mark,
                    "lastFundingRate": "0.00010000",
                    "interestRate": "0.00010000",
                    "nextFundingTime": (self.now // (8 * 3_600_000) + 1) * 8 * 3_600_000,
                    "time": self.now,
                }
            )
        return rows[0] if instrument else rows

    def _tape_slice(self, params: dict[str, str], instrument: Instrument) -> list[PublicTrade]:
        limit = min(self._int(params, "limit") or 500, 1000)
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        from_id = self._int(params, "fromId")
        rows = [
            t
            for t in self.engine.tape(instrument.symbol)
            if (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
            and (from_id is None or t.id >= from_id)
        ]
        return rows[:limit] if (from_id is not None or start is not None) else rows[-limit:]

    def _agg_trades(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        return [views.agg_trade_view(instrument, t) for t in self._tape_slice(params, instrument)]

    def _trades(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        return [
            views.public_trade_view(instrument, t) for t in self._tape_slice(params, instrument)
        ]

    # ------------------------------------------------------------------ account

    def _coins(self, params: dict[str, str], creds: Credentials | None) -> object:
        names = {"USDT": "TetherUS", "BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana"}
        return [
            {
                "coin": coin,
                "name": name,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "free": "0",
                "locked": "0",
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": coin,
                        "coin": coin,
                        "withdrawIntegerMultiple": "0.00000001",
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "depositDesc": "",
                        "withdrawDesc": "",
                        "name": name,
                        "resetAddressStatus": False,
                        "withdrawFee": "0",
                        "withdrawMin": "0",
                        "withdrawMax": "9999999999",
                        "minConfirm": 1,
                        "unLockConfirm": 0,
                        "sameAddress": False,
                    }
                ],
            }
            for coin, name in names.items()
        ]

    def _restrictions(self, params: dict[str, str], creds: Credentials | None) -> object:
        assert creds is not None
        return {**creds.permissions, "createTime": creds.created_ms}

    def _account(self, params: dict[str, str], creds: Credentials | None) -> object:
        account_id = self._account_id(creds)
        return views.account_view(self.engine, account_id, self.engine.margin(account_id))

    def _balance(self, params: dict[str, str], creds: Credentials | None) -> object:
        account_id = self._account_id(creds)
        return views.balance_view(self.engine, account_id, self.engine.margin(account_id))

    def _position_risk(self, params: dict[str, str], creds: Credentials | None) -> object:
        account_id = self._account_id(creds)
        instrument = self._instrument(params, required=False)
        symbols = [instrument.symbol] if instrument else list(self.engine.instruments)
        return [
            views.position_risk_view(self.engine, account_id, symbol)
            for symbol in symbols
            if self.engine.position(account_id, symbol).size != 0
            or self.engine.open_orders(account_id, symbol)
        ]

    def _brackets(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        if instrument is not None:
            return views.leverage_bracket(instrument)
        return [views.leverage_bracket(i) for i in self.by_id.values()]

    def _commission(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        return {
            "symbol": instrument.venue_symbol,
            "makerCommissionRate": str(instrument.maker_fee),
            "takerCommissionRate": str(instrument.taker_fee),
        }

    def _leverage(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        leverage = self._int(params, "leverage")
        if leverage is None:
            raise mandatory("leverage")
        self.engine.set_leverage(self._account_id(creds), instrument.symbol, leverage)
        return {
            "leverage": leverage,
            "maxNotionalValue": str(50_000 * instrument.max_leverage // leverage),
            "symbol": instrument.venue_symbol,
        }

    # ------------------------------------------------------------------ orders

    def _new_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        side = self._side(params)
        order_type = params.get("type")
        if not order_type:
            raise mandatory("type")
        self._check_position_side(params)
        if order_type in _TRIGGER_TYPES or order_type == "TRAILING_STOP_MARKET":
            raise BinanceError(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API "
                "endpoints instead.",
            )
        if order_type not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        qty = self._decimal(params, "quantity")
        if qty is None:
            raise mandatory("quantity")
        tif = TimeInForce.GTC
        price = None
        if order_type == "LIMIT":
            tif_text = params.get("timeInForce")
            if not tif_text:
                raise mandatory("timeInForce")
            if tif_text not in _TIF:
                raise BinanceError(-1115, "Invalid timeInForce.")
            tif = _TIF[tif_text]
            price = self._decimal(params, "price")
            if price is None:
                raise mandatory("price")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=OrderKind(order_type),
            qty=qty,
            price=price,
            tif=tif,
            reduce_only=self._bool(params, "reduceOnly"),
            client_id=self._client_id(params, "newClientOrderId"),
        )
        result = self.engine.place(self._account_id(creds), request)
        return views.order_view(instrument, result.order)

    def _new_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        if params.get("algoType") != "CONDITIONAL":
            raise BinanceError(-1116, "Invalid algoType.")
        side = self._side(params)
        self._check_position_side(params)
        order_type = params.get("type")
        if not order_type:
            raise mandatory("type")
        if order_type not in _TRIGGER_TYPES:
            raise BinanceError(-1116, "Invalid orderType.")
        trigger_kind, kind = _TRIGGER_TYPES[order_type]
        trigger_price = self._decimal(params, "triggerPrice")
        if trigger_price is None:
            raise mandatory("triggerPrice")
        close_position = self._bool(params, "closePosition")
        qty = self._decimal(params, "quantity")
        if qty is None and not close_position:
            raise mandatory("quantity")
        price = self._decimal(params, "price") if kind is OrderKind.LIMIT else None
        if kind is OrderKind.LIMIT and price is None:
            raise mandatory("price")
        request = OrderRequest(
            symbol=instrument.symbol,
            side=side,
            kind=kind,
            qty=qty or Decimal(0),
            price=price,
            tif=_TIF.get(params.get("timeInForce", "GTC"), TimeInForce.GTC),
            reduce_only=self._bool(params, "reduceOnly"),
            close_position=close_position,
            client_id=self._client_id(params, "clientAlgoId"),
            trigger=trigger_for(trigger_kind, side, trigger_price),
        )
        result = self.engine.place(self._account_id(creds), request)
        return views.algo_view(instrument, result.order)

    def _regular(self, order: Order) -> Order:
        if order.trigger is not None and order.triggered_ms is None:
            raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
        return order

    def _cancel_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        try:
            order = self._regular(
                self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
            )
            if not order.is_open:
                raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
            self.engine.cancel(self._account_id(creds), order_id=order.id)
        except Rejected as exc:
            if exc.reason is Reason.UNKNOWN_ORDER:
                raise BinanceError(-2011, "Unknown order sent.") from None
            raise
        return views.order_view(instrument, order)

    def _query_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        order = self._regular(
            self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
        )
        return views.order_view(instrument, order)

    def _query_open_order(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        order = self._regular(
            self._find(creds, params, id_name="orderId", cid_name="origClientOrderId")
        )
        if not order.is_open:
            raise BinanceError(-2013, "Order does not exist.")
        return views.order_view(instrument, order)

    def _open_orders(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        orders = self.engine.open_orders(
            self._account_id(creds), instrument.symbol if instrument else None
        )
        return [
            views.order_view(self.engine.instruments[o.symbol], o)
            for o in orders
            if not o.awaiting_trigger
        ]

    def _all_orders(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account = self.engine.account(self._account_id(creds))
        from_id = self._int(params, "orderId") or 0
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        limit = min(self._int(params, "limit") or 500, 1000)
        rows = [
            o
            for o in account.orders.values()
            if o.symbol == instrument.symbol
            and o.id >= from_id
            and not (o.trigger is not None and o.triggered_ms is None)
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        return [views.order_view(instrument, o) for o in rows[-limit:]]

    def _cancel_all(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account_id = self._account_id(creds)
        for order in self.engine.open_orders(account_id, instrument.symbol):
            if not order.awaiting_trigger:
                self.engine.cancel(account_id, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def _find_algo(self, creds: Credentials | None, params: dict[str, str]) -> Order:
        algo_id = self._int(params, "algoId")
        client_id = params.get("clientAlgoId")
        if algo_id is None and not client_id:
            raise BinanceError(-1102, "Either algoId or clientAlgoId must be sent.")
        instrument = self._instrument(params, required=False)
        order = self.engine.order(
            self._account_id(creds),
            order_id=algo_id,
            client_id=client_id,
            symbol=instrument.symbol if instrument else None,
        )
        if order.trigger is None:
            raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
        return order

    def _cancel_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        try:
            order = self._find_algo(creds, params)
            if not order.awaiting_trigger:
                raise Rejected(Reason.UNKNOWN_ORDER, str(order.id))
            self.engine.cancel(self._account_id(creds), order_id=order.id)
        except Rejected as exc:
            if exc.reason is Reason.UNKNOWN_ORDER:
                raise BinanceError(-2011, "Unknown order sent.") from None
            raise
        return {
            "algoId": order.id,
            "clientAlgoId": order.client_id,
            "code": "200",
            "msg": "success",
        }

    def _query_algo(self, params: dict[str, str], creds: Credentials | None) -> object:
        order = self._find_algo(creds, params)
        return views.algo_view(self.engine.instruments[order.symbol], order)

    def _open_algos(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._instrument(params, required=False)
        orders = self.engine.open_orders(
            self._account_id(creds), instrument.symbol if instrument else None
        )
        return [
            views.algo_view(self.engine.instruments[o.symbol], o)
            for o in orders
            if o.awaiting_trigger
        ]

    def _cancel_all_algos(self, params: dict[str, str], creds: Credentials | None) -> object:
        instrument = self._must(params)
        account_id = self._account_id(creds)
        for order in self.engine.open_orders(account_id, instrument.symbol):
            if order.awaiting_trigger:
                self.engine.cancel(account_id, order_id=order.id)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # ------------------------------------------------------------------ history

    def _user_trades(self, params: dict[str, str], creds: Credentials | None) -> object:
        """``/fapi/v1/userTrades``: 7-day windows, at most 1000 rows, ``fromId`` paging."""
        instrument = self._must(params)
        account = self.engine.account(self._account_id(creds))
        limit = self._int(params, "limit") or 500
        if not 1 <= limit <= 1000:
            raise BinanceError(-1130, "Invalid data sent for a parameter.")
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        from_id = self._int(params, "fromId")
        symbol = instrument.symbol
        if from_id is not None:
            if start is not None or end is not None:
                raise BinanceError(-1128, "Combination of optional parameters invalid.")
            fills = account.fills.symbol_from_id(symbol, from_id, limit)
        elif start is not None and end is not None:
            if end < start:
                raise BinanceError(-1128, "Combination of optional parameters invalid.")
            if end - start > WEEK_MS:
                raise BinanceError(-1127, "More than 7 days between startTime and endTime.")
            fills = account.fills.symbol_between(symbol, start, end, limit, newest=False)
        elif start is not None:
            fills = account.fills.symbol_between(
                symbol, start, start + WEEK_MS, limit, newest=False
            )
        else:
            stop = end if end is not None else self.now
            fills = account.fills.symbol_between(symbol, stop - WEEK_MS, stop, limit, newest=True)
        return [views.trade_view(instrument, f) for f in fills]
