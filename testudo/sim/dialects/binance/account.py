"""Binance USD-M account endpoints: balances, positions, leverage, key permissions, trades."""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.binance import balances, views
from testudo.sim.dialects.binance.auth import BinanceError, mandatory
from testudo.sim.dialects.binance.common import Route, RouteTable, VenueContext
from testudo.sim.dialects.binance.modes import position_rows

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


class AccountApi(VenueContext):
    """Signed account endpoints (``/fapi/v3/account``, ``/fapi/v1/userTrades``,
    ``/fapi/v1/income``, ``/sapi``)."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/sapi/v1/capital/config/getall"): r(self._coins, signed=True),
            ("GET", "/sapi/v1/margin/allPairs"): r(lambda p, c: [], signed=True),
            ("GET", "/sapi/v1/account/apiRestrictions"): r(self._restrictions, signed=True),
            ("GET", "/fapi/v3/account"): r(self._account, signed=True),
            ("GET", "/fapi/v2/account"): r(self._account_v2, signed=True),
            ("GET", "/fapi/v2/balance"): r(self._balance, signed=True),
            ("GET", "/fapi/v3/balance"): r(self._balance, signed=True),
            ("GET", "/fapi/v3/positionRisk"): r(self._position_risk, signed=True),
            ("GET", "/fapi/v2/positionRisk"): r(self._position_risk, signed=True),
            ("GET", "/fapi/v1/leverageBracket"): r(self._brackets, signed=True),
            ("GET", "/fapi/v1/commissionRate"): r(self._commission, signed=True),
            ("POST", "/fapi/v1/leverage"): r(self._leverage, signed=True, trading=True),
            ("GET", "/fapi/v1/userTrades"): r(self._user_trades, signed=True),
            ("GET", "/fapi/v1/income"): r(self._income, signed=True),
        }

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
        return balances.account_view(self.engine, account_id, hedge_mode=self._hedge_mode(creds))

    def _account_v2(self, params: dict[str, str], creds: Credentials | None) -> object:
        account_id = self._account_id(creds)
        return balances.account_view(
            self.engine, account_id, hedge_mode=self._hedge_mode(creds), v2=True
        )

    def _balance(self, params: dict[str, str], creds: Credentials | None) -> object:
        return balances.balance_view(self.engine, self._account_id(creds))

    def _position_risk(self, params: dict[str, str], creds: Credentials | None) -> object:
        """Symbols with a position or open orders; per side (LONG and SHORT) in hedge mode."""
        account_id = self._account_id(creds)
        hedge = self._hedge_mode(creds)
        instrument = self._instrument(params, required=False)
        symbols = [instrument.symbol] if instrument else list(self.engine.instruments)
        return [
            views.position_risk_view(self.engine, account_id, symbol, side, amount)
            for symbol in symbols
            if self.engine.position(account_id, symbol).size != 0
            or self.engine.open_orders(account_id, symbol)
            for side, amount in position_rows(self.engine.position(account_id, symbol).size, hedge)
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

    def _income(self, params: dict[str, str], creds: Credentials | None) -> object:
        """``/fapi/v1/income``: the account's funding payments (``FUNDING_FEE``, the only
        income type kept), oldest first; the last 7 days unless ``startTime``/``endTime``;
        ``limit`` 1..1000 (default 100), ``page`` from 1."""
        instrument = self._instrument(params, required=False)
        kind = params.get("incomeType")
        limit = self._int(params, "limit") or 100
        page = self._int(params, "page") or 1
        if not 1 <= limit <= 1000 or page < 1:
            raise BinanceError(-1130, "Invalid data sent for a parameter.")
        start = self._int(params, "startTime")
        end = self._int(params, "endTime")
        if start is None and end is None:
            start = self.now - WEEK_MS
        account = self.engine.account(self._account_id(creds))
        rows = [
            p
            for p in account.funding
            if kind in (None, "FUNDING_FEE")
            and (instrument is None or p.symbol == instrument.symbol)
            and (start is None or p.time_ms >= start)
            and (end is None or p.time_ms <= end)
        ]
        chosen = rows[(page - 1) * limit : page * limit]
        return [views.income_view(self.engine.instruments[p.symbol], p) for p in chosen]
