"""Account options: hedge mode, Multi-Assets collateral and per-asset balances, through ccxt."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import ccxt
import httpx
import pytest

from testudo.sim.account_options import AccountOptions, OptionsError, options_from_json
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.dialects.binance.modes import position_rows, position_side_error

from .support import call

BTC = "BTC/USDT:USDT"


def test_options_parse_and_refuse_bad_input() -> None:
    parsed = options_from_json(
        {"hedge_mode": True, "multi_assets": True, "balances": {"USDT": "5000", "USDC": 250}}
    )
    assert parsed == AccountOptions(True, True, {"USDT": D("5000"), "USDC": D("250")})
    assert parsed.balance_of("USDT", D(1)) == D("5000")
    assert AccountOptions().balance_of("USDT", D(7)) == D(7)
    assert options_from_json({"balances": {"USDC": "1"}}).balance_of("USDT", D(7)) == 0
    for bad in (
        {"hedge_mode": "yes"},
        {"multi_assets": 1},
        {"balances": {}},
        {"balances": ["USDT"]},
        {"balances": {"BTC": "1"}},
        {"balances": {"USDT": "-1"}},
        {"balances": {"USDT": "nan"}},
        {"balances": {"USDT": "1e400x"}},
        {"balance": "10", "balances": {"USDT": "1"}},
    ):
        with pytest.raises(OptionsError):
            options_from_json(bad)


async def test_control_api_validates_account_options(sim: SimClient) -> None:
    for body in (
        {"balances": {"DOGE": "1"}},
        {"hedge_mode": "true"},
        {"balance": "5", "balances": {"USDT": "5"}},
        {"balance": "-5"},
    ):
        response = await sim.http.post("/_sim/accounts", json=body)
        assert response.status_code == 400, body
    created = await sim.http.post(
        "/_sim/accounts", json={"multi_assets": True, "balances": {"USDT": "5000", "USDC": "5000"}}
    )
    assert created.status_code == 201
    shown = created.json()
    assert (shown["hedge_mode"], shown["multi_assets"]) == (False, True)
    assert shown["balances"] == {"USDT": "5000", "USDC": "5000"}
    options = sim.simulator.account_options(shown["account_id"])
    assert options.balances == {"USDT": D("5000"), "USDC": D("5000")}
    with pytest.raises(httpx.HTTPStatusError):
        await sim.create_account(balances={"EUR": "1"})


def test_position_side_rules_and_rows() -> None:
    assert position_side_error(False, None) is None
    assert position_side_error(False, "BOTH") is None
    assert position_side_error(False, "LONG") == (
        -4061,
        "Order's position side does not match user's setting.",
    )
    assert position_side_error(True, None) == position_side_error(True, "BOTH")
    assert position_side_error(True, "BOTH") is not None
    assert position_side_error(True, "SHORT") is not None and position_side_error(
        True, "SHORT"
    ) != position_side_error(True, "BOTH")
    assert position_side_error(False, "SIDEWAYS") is not None
    assert position_rows(D("0.5"), False) == [("BOTH", D("0.5"))]
    assert position_rows(D("0.5"), True) == [("LONG", D("0.5")), ("SHORT", D(0))]
    assert position_rows(D("-2"), True) == [("LONG", D(0)), ("SHORT", D("-2"))]


async def test_hedge_mode_is_detected_and_its_orders_refused(sim: SimClient) -> None:
    account = await sim.create_account("10000", hedge_mode=True)
    binance = sim.binance(account)
    await call(binance.load_markets)
    assert (await call(binance.fetch_position_mode, BTC))["hedged"] is True
    raw = await call(binance.fapiPrivateGetPositionSideDual)
    assert raw == {"dualSidePosition": True}
    with pytest.raises(ccxt.OperationRejected, match="-4061"):
        await call(binance.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.OperationRejected, match="-4061"):
        await call(
            binance.create_order, BTC, "market", "sell", 0.01, None, {"stopLossPrice": 49000}
        )
    with pytest.raises(ccxt.BadRequest, match=r"-1020.*hedge-mode orders"):
        await call(binance.create_order, BTC, "market", "buy", 0.01, None, {"hedged": True})
    one_way = sim.binance(await sim.create_account("10000"))
    with pytest.raises(ccxt.OperationRejected, match="-4061"):
        await call(one_way.create_order, BTC, "market", "buy", 0.01, None, {"positionSide": "LONG"})


async def test_position_mode_switches_as_binance_allows(sim: SimClient) -> None:
    account = await sim.create_account("10000", hedge_mode=True)
    binance = sim.binance(account)
    await call(binance.load_markets)
    with pytest.raises(ccxt.OperationRejected, match="-4059"):
        await call(binance.set_position_mode, True, BTC)
    await call(binance.set_position_mode, False, BTC)
    assert sim.simulator.account_options(account.account_id).hedge_mode is False
    await call(binance.create_order, BTC, "limit", "buy", 0.01, 40000)
    with pytest.raises(ccxt.OperationRejected, match="-4067"):
        await call(binance.set_position_mode, True, BTC)
    await call(binance.cancel_all_orders, BTC)
    await call(binance.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.OperationRejected, match="-4068"):
        await call(binance.set_position_mode, True, BTC)


async def multi_asset_account(sim: SimClient, **kwargs: Any) -> SimAccount:
    return await sim.create_account(balances={"USDT": "3000", "USDC": "7000"}, **kwargs)


async def test_multi_assets_balance_as_the_recorded_real_account(sim: SimClient) -> None:
    account = await multi_asset_account(sim, multi_assets=True)
    binance = sim.binance(account)
    await call(binance.load_markets)
    assert await call(binance.fapiPrivateGetMultiAssetsMargin) == {"multiAssetsMargin": True}
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(binance.set_leverage, 10, BTC)
    await call(binance.create_order, BTC, "market", "buy", 0.1)
    await sim.set_price("BTC_USDT", "51000")
    balance = await call(binance.fetch_balance)
    info = balance["info"]
    fee = D("50000.1") * D("0.1") * D("0.0005")
    pnl = (D("51000") - D("50000.1")) * D("0.1")
    usdt_wallet = D("3000") - fee
    assert D(info["totalWalletBalance"]) == usdt_wallet + D("7000")
    assert D(info["totalMarginBalance"]) == usdt_wallet + D("7000") + pnl
    margin = D("51000") * D("0.1") / 10
    assert D(info["availableBalance"]) == usdt_wallet + D("7000") + pnl - margin
    assert D(str(balance["USDT"]["total"])) == usdt_wallet + pnl
    assert D(str(balance["USDT"]["used"])) == margin
    assert balance["USDC"]["total"] == 7000.0
    assert balance["USDC"]["free"] == balance["USDT"]["free"] == float(info["availableBalance"])
    usdt, usdc = info["assets"]
    assert (usdt["asset"], usdc["asset"]) == ("USDT", "USDC")
    assert D(usdt["maxWithdrawAmount"]) == usdt_wallet
    assert D(usdc["maxWithdrawAmount"]) == D("7000")
    (position,) = info["positions"]
    assert (position["positionSide"], position["positionAmt"]) == ("BOTH", "0.100")
    v2 = await call(binance.fapiPrivateV2GetAccount)
    assert (
        v2["multiAssetsMargin"] is True and v2["totalWalletBalance"] == info["totalWalletBalance"]
    )
    rows = await call(binance.fapiPrivateV2GetBalance)
    assert [(r["asset"], r["balance"]) for r in rows] == [
        ("USDT", info["assets"][0]["walletBalance"]),
        ("USDC", "7000.00000000"),
    ]


async def test_margin_checks_use_the_whole_collateral_only_in_multi_assets_mode(
    sim: SimClient,
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    multi = sim.binance(await multi_asset_account(sim, multi_assets=True))
    single = sim.binance(await multi_asset_account(sim))
    await call(multi.load_markets)
    await call(single.load_markets)
    assert await call(single.fapiPrivateGetMultiAssetsMargin) == {"multiAssetsMargin": False}
    order = await call(multi.create_order, BTC, "market", "buy", 1.5)  # 75000 at 20x = 3750
    assert order["filled"] == 1.5
    with pytest.raises(ccxt.InsufficientFunds):
        await call(single.create_order, BTC, "market", "buy", 1.5)
    with pytest.raises(ccxt.InsufficientFunds):
        await call(multi.create_order, BTC, "market", "buy", 3)  # 150000 at 20x = 7500 more
    balance = await call(single.fetch_balance)
    assert D(balance["info"]["totalWalletBalance"]) == D("3000")
    assert (balance["USDC"]["total"], balance["USDC"]["free"]) == (7000.0, 7000.0)


async def test_balances_fund_hyperliquid_with_usdc(sim: SimClient) -> None:
    account = await sim.create_account(balances={"USDT": "1000", "USDC": "2500"})
    balance = await call(sim.hyperliquid(account).fetch_balance)
    assert balance["USDC"]["total"] == 2500.0
    state = await sim.state(account)
    assert state["venues"]["binance"]["balance"]["wallet"] == "1000"
    assert state["venues"]["binance"]["balance"]["collateral"] == {"USDC": "2500"}
    assert state["venues"]["hyperliquid"]["balance"]["collateral"] == {}
    only_usdt = await sim.create_account(balances={"USDT": "1000"})
    assert (await sim.state(only_usdt))["venues"]["hyperliquid"]["balance"]["wallet"] == "0"
