"""OKX account and asset endpoints: balance, positions, leverage, configuration, fees,
currencies."""

from __future__ import annotations

from testudo.sim.dialects.okx import account_views
from testudo.sim.dialects.okx.common import (
    SWAP,
    Call,
    OkxError,
    Refusal,
    Route,
    RouteTable,
    Venue,
    bad,
    decimal,
    required,
    text,
)
from testudo.sim.dialects.okx.listing import check_inst_type
from testudo.sim.dialects.okx.position_mode import position_mode
from testudo.sim.dialects.okx.rejections import MESSAGES
from testudo.sim.model import Reason, Rejected
from testudo.sim.money import plain

CURRENCIES = {
    "USDT": ("Tether", ("USDT-TRC20", "USDT-ERC20")),
    "BTC": ("Bitcoin", ("BTC-Bitcoin",)),
    "ETH": ("Ethereum", ("ETH-ERC20",)),
    "SOL": ("Solana", ("SOL-Solana",)),
}


class AccountApi:
    """Signed ``/api/v5/account`` and ``/api/v5/asset`` endpoints."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.engine = venue.engine

    def routes(self) -> RouteTable:
        """Method and path of each endpoint."""
        return {
            ("GET", "/api/v5/account/balance"): Route(self._balance, True),
            ("GET", "/api/v5/account/positions"): Route(self._positions, True),
            ("POST", "/api/v5/account/set-leverage"): Route(self._set_leverage, True),
            ("GET", "/api/v5/account/leverage-info"): Route(self._leverage_info, True),
            ("GET", "/api/v5/account/config"): Route(self._config, True),
            ("GET", "/api/v5/account/trade-fee"): Route(self._trade_fee, True),
            ("GET", "/api/v5/asset/currencies"): Route(self._currencies, True),
            ("GET", "/api/v5/asset/balances"): Route(lambda call: [], True),
        }

    def _balance(self, call: Call) -> list[object]:
        ccy = text(call.params, "ccy")
        with_usdt = ccy is None or "USDT" in ccy.split(",")
        return [account_views.balance_view(self.venue, call.account_id, with_usdt=with_usdt)]

    def _positions(self, call: Call) -> list[object]:
        """Open positions (``pos`` != 0), optionally of some ``instId``s or one ``posId``."""
        if not check_inst_type(call, required=False):
            return []
        inst_ids = text(call.params, "instId")
        wanted = None if inst_ids is None else set(inst_ids.split(","))
        pos_id = text(call.params, "posId")
        rows: list[object] = []
        for contract in self.venue.contracts.values():
            symbol = contract.instrument.symbol
            if wanted is not None and contract.inst_id not in wanted:
                continue
            if self.engine.position(call.account_id, symbol).size == 0:
                continue
            view = account_views.position_view(self.venue, call.account_id, symbol)
            if pos_id is None or view["posId"] == pos_id:
                rows.append(view)
        return rows

    def _set_leverage(self, call: Call) -> list[object]:
        """Cross-margin leverage of one swap (1 to the instrument's maximum)."""
        lever = decimal(call.body, "lever")
        if lever is None:
            raise OkxError("50014", "Parameter lever can not be empty")
        if required(call.body, "mgnMode") != "cross":
            raise bad("mgnMode")
        contract = self.venue.contract(text(call.body, "instId"))
        if lever != lever.to_integral_value() or lever < 1:
            raise bad("lever")
        try:
            self.engine.set_leverage(call.account_id, contract.instrument.symbol, int(lever))
        except Rejected as exc:
            if exc.reason is Reason.INVALID_LEVERAGE:
                raise Refusal(*MESSAGES[Reason.INVALID_LEVERAGE]) from None
            raise
        return [
            {
                "lever": plain(lever),
                "mgnMode": "cross",
                "instId": contract.inst_id,
                "posSide": text(call.body, "posSide") or "",
            }
        ]

    def _leverage_info(self, call: Call) -> list[object]:
        inst_ids = required(call.params, "instId").split(",")
        if required(call.params, "mgnMode") != "cross":
            raise bad("mgnMode")
        rows: list[object] = []
        for inst_id in inst_ids:
            contract = self.venue.contract(inst_id)
            lever = self.engine.leverage(call.account_id, contract.instrument.symbol)
            rows.append({"instId": inst_id, "mgnMode": "cross", "posSide": "", "lever": str(lever)})
        return rows

    def _config(self, call: Call) -> list[object]:
        mode = position_mode(self.venue, call.account_id)
        return [account_views.config_view(self.venue, call.account_id, mode)]

    def _trade_fee(self, call: Call) -> list[object]:
        """Fee rates (negative: charged) of the swaps: maker 0.02 %, taker 0.05 %."""
        if required(call.params, "instType") != SWAP:
            return []
        instrument = next(iter(self.venue.contracts.values())).instrument
        maker, taker = plain(-instrument.maker_fee), plain(-instrument.taker_fee)
        return [
            {
                "category": "1",
                "delivery": "",
                "exercise": "",
                "instType": SWAP,
                "level": "Lv1",
                "maker": maker,
                "makerU": maker,
                "makerUSDC": maker,
                "taker": taker,
                "takerU": taker,
                "takerUSDC": taker,
                "ts": str(self.venue.now),
            }
        ]

    def _currencies(self, call: Call) -> list[object]:
        """``/asset/currencies``: one row per currency and chain (ccxt's fetchCurrencies)."""
        wanted = text(call.params, "ccy")
        codes = CURRENCIES if wanted is None else wanted.split(",")
        return [
            _chain_row(code, name, chain)
            for code, (name, chains) in CURRENCIES.items()
            if code in codes
            for chain in chains
        ]


def _chain_row(code: str, name: str, chain: str) -> dict[str, object]:
    return {
        "canDep": True,
        "canInternal": True,
        "canWd": True,
        "ccy": code,
        "chain": chain,
        "depQuotaFixed": "",
        "depQuoteDailyLayer2": "",
        "fee": "0",
        "logoLink": "",
        "mainNet": chain.endswith(("Bitcoin", "Solana")),
        "maxFee": "0",
        "maxFeeForCtAddr": "0",
        "maxWd": "10000000",
        "minDep": "0.00000001",
        "minDepArrivalConfirm": "1",
        "minFee": "0",
        "minFeeForCtAddr": "0",
        "minWd": "0.0001",
        "minWdUnlockConfirm": "1",
        "name": name,
        "needTag": False,
        "usedDepQuotaFixed": "",
        "usedWdQuota": "0",
        "wdQuota": "10000000",
        "wdTickSz": "8",
    }
