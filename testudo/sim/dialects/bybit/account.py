"""Bybit account endpoints: API key and account probes, unified wallet, fees, positions,
leverage."""

from __future__ import annotations

from testudo.sim.accounts import Credentials
from testudo.sim.dialects.bybit import account_views as views
from testudo.sim.dialects.bybit.common import (
    Params,
    Route,
    RouteTable,
    VenueContext,
    account_id,
    decimal,
    integer,
    text,
)
from testudo.sim.dialects.bybit.errors import BybitError, invalid, params_error
from testudo.sim.dialects.bybit.ids import decode_cursor, encode_cursor
from testudo.sim.dialects.bybit.mode import position_indices, position_mode
from testudo.sim.money import plain

MAX_POSITIONS = 200
DEFAULT_POSITIONS = 20


class AccountApi(VenueContext):
    """Signed ``/v5/account``, ``/v5/user``, ``/v5/asset`` and ``/v5/position`` endpoints."""

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        r = Route
        return {
            ("GET", "/v5/asset/coin/query-info"): r(self._coins, signed=True),
            ("GET", "/v5/user/query-api"): r(self._api_key, signed=True),
            ("GET", "/v5/account/info"): r(self._account_info, signed=True),
            ("GET", "/v5/account/wallet-balance"): r(self._wallet, signed=True),
            ("GET", "/v5/account/fee-rate"): r(self._fee_rate, signed=True),
            ("GET", "/v5/position/list"): r(self._positions, signed=True),
            ("POST", "/v5/position/set-leverage"): r(self._leverage, signed=True, trading=True),
        }

    def _coins(self, params: Params, creds: Credentials | None) -> object:
        coin = text(params, "coin")
        return {"rows": [row for row in views.coin_info_rows() if coin in (None, row["coin"])]}

    def _api_key(self, params: Params, creds: Credentials | None) -> object:
        assert creds is not None
        return views.api_key_view(creds)

    def _account_info(self, params: Params, creds: Credentials | None) -> object:
        return views.account_info_view(self.engine.account(account_id(creds)).created_ms)

    def _wallet(self, params: Params, creds: Credentials | None) -> object:
        account_type = text(params, "accountType")
        if account_type is None:
            raise params_error("accountType is required")
        if account_type != "UNIFIED":
            raise params_error("accountType only support UNIFIED")
        account = self.engine.account(account_id(creds))
        coins = text(params, "coin")
        wanted = None if coins is None else set(coins.split(","))
        return views.wallet_view(account, self.engine.margin(account.id), wanted)

    def _fee_rate(self, params: Params, creds: Credentials | None) -> object:
        self.category(params)
        instrument = self.instrument(params, required=False)
        chosen = [instrument] if instrument else list(self.by_id.values())
        return {
            "list": [
                {
                    "symbol": i.venue_symbol,
                    "baseCoin": "",
                    "takerFeeRate": plain(i.taker_fee),
                    "makerFeeRate": plain(i.maker_fee),
                }
                for i in chosen
            ]
        }

    def _positions(self, params: Params, creds: Credentials | None) -> object:
        """Positions: every ``positionIdx`` of one symbol (flat too), else the open ones."""
        self.category(params)
        self.check_settle(params)
        account = self.engine.account(account_id(creds))
        named = self.instrument(params, required=False)
        limit = integer(params, "limit") or DEFAULT_POSITIONS
        if not 1 <= limit <= MAX_POSITIONS:
            raise invalid("limit")
        indices = position_indices(position_mode(self.sim, account.id))
        rows = []
        for instrument in self.by_id.values():
            if not self.matches_coin(instrument, params):
                continue
            position = self.engine.position(account.id, instrument.symbol)
            if named is None and position.size == 0:
                continue
            for idx in indices:
                rows.append(
                    views.position_view(
                        instrument,
                        position,
                        mark=self.engine.mark(instrument.symbol),
                        leverage=self.engine.leverage(account.id, instrument.symbol),
                        position_idx=idx,
                        created_ms=account.created_ms,
                    )
                )
        return self._page_positions(rows, params, limit)

    @staticmethod
    def _page_positions(rows: list[dict[str, object]], params: Params, limit: int) -> object:
        start = 0
        cursor = text(params, "cursor")
        if cursor is not None:
            decoded = decode_cursor(cursor)
            start = decoded[1] if decoded else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return {
            "category": "linear",
            "list": page,
            "nextPageCursor": encode_cursor(0, start + limit) if more else "",
        }

    def _leverage(self, params: Params, creds: Credentials | None) -> object:
        """Set leverage; an unchanged value answers ``110043 leverage not modified``."""
        self.category(params)
        instrument = self.must(params)
        buy, sell = decimal(params, "buyLeverage"), decimal(params, "sellLeverage")
        if buy is None or sell is None:
            raise params_error("buyLeverage and sellLeverage are required")
        if buy != sell:
            raise params_error("buyLeverage must equal sellLeverage in one-way mode")
        if buy != buy.to_integral_value() or not 1 <= buy <= instrument.max_leverage:
            raise BybitError(10001, "leverage invalid")
        leverage = int(buy)
        current = self.engine.leverage(account_id(creds), instrument.symbol)
        if leverage == current:
            raise BybitError(110043, "leverage not modified")
        self.engine.set_leverage(account_id(creds), instrument.symbol, leverage)
        return {}
