"""What one funding-history row received (negative: paid), venue by venue, from the rows as
the venues write them (the examples are real answers' shapes): OKX's bill ``balChg`` (or
``posBalChg``), Bybit's ``execFee`` with its sign turned (a fee: positive when paid), WOO X's
unsigned ``fundingFee`` with ``paymentType``. Funding is money: contract sizes play no part."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import given, strategies as st

from testudo.exchanges.venues import venue_for

AMOUNTS = st.decimals(min_value=D("-1e6"), max_value=D("1e6"), places=8, allow_nan=False)


def row(info: dict[str, Any], amount: float | None = None) -> dict[str, Any]:
    """A ccxt funding-history row around ``info`` (ccxt's own ``amount`` is a float)."""
    return {"info": info, "symbol": "BTC/USDT:USDT", "amount": amount, "id": "1"}


def test_okx_bill_balance_change() -> None:
    okx = venue_for("okx")
    income = {
        "bal": "0.0242946200998573",
        "balChg": "0.0000148752712240",
        "billId": "377970609204146187",
        "ccy": "ETH",
        "instId": "ETH-USD-SWAP",
        "pnl": "0.000014875271224",
        "posBalChg": "0",
        "subType": "174",
        "sz": "9",
        "ts": "1636387215588",
        "type": "8",
    }
    assert okx.funding_amount(row(income, 0.0000148752712240)) == D("0.0000148752712240")
    expense = {**income, "balChg": "-1.25", "pnl": "-1.25", "subType": "173"}
    assert okx.funding_amount(row(expense)) == D("-1.25")
    # Paid out of an isolated position's margin: the balance is untouched, the margin not.
    isolated = {**income, "balChg": "0", "posBalChg": "-0.5", "subType": "173"}
    assert okx.funding_amount(row(isolated, 0.0)) == D("-0.5")


def test_bybit_funding_execution_fee_is_what_was_paid() -> None:
    bybit = venue_for("bybit")
    received = {
        "symbol": "VETUSDT",
        "side": "Buy",
        "orderId": "1692316800-VETUSDT-76024047-Buy",
        "execFee": "-0.00005586",
        "execType": "Funding",
        "execValue": "14.5858",
        "execTime": "1692316800000",
        "feeRate": "-0.00000383",
        "execQty": "932",
    }
    # ccxt's amount is execFee as written: -0.00005586 for what the long received.
    assert bybit.funding_amount(row(received, -0.00005586)) == D("0.00005586")
    paid = {**received, "execFee": "0.10232512", "feeRate": "0.000761"}
    assert bybit.funding_amount(row(paid, 0.10232512)) == D("-0.10232512")


def test_woo_funding_fee_takes_its_sign_from_the_payment_type() -> None:
    woo = venue_for("woo")
    paid = {
        "id": 1286360,
        "symbol": "PERP_BTC_USDT",
        "fundingRate": -0.00001445,
        "markPrice": "26930.60000000",
        "fundingFee": "9.56021744",
        "fundingIntervalHours": 8,
        "paymentType": "Pay",
        "status": "COMPLETED",
        "createdTime": 1696060873259,
        "updatedTime": 1696060873286,
    }
    assert woo.funding_amount(row(paid, -9.56021744)) == D("-9.56021744")
    assert woo.funding_amount(row({**paid, "paymentType": "Receive"})) == D("9.56021744")
    # A fee written with its sign already is not turned twice.
    assert woo.funding_amount(row({**paid, "fundingFee": "-9.56021744"})) == D("-9.56021744")


@given(AMOUNTS)
def test_each_venue_reads_back_the_amount_it_was_shown(amount: D) -> None:
    shown = {
        "okx": {"balChg": str(amount), "posBalChg": "0"},
        "bybit": {"execFee": str(-amount), "execType": "Funding"},
        "woo": {"fundingFee": str(abs(amount)), "paymentType": "Pay" if amount < 0 else "Receive"},
        "binance": {"income": str(amount), "incomeType": "FUNDING_FEE"},
        "hyperliquid": {"delta": {"type": "funding", "usdc": str(amount)}},
    }
    for venue, info in shown.items():
        assert venue_for(venue).funding_amount(row(info)) == amount, venue


def test_every_venue_reads_funding_history() -> None:
    for venue in ("binance", "hyperliquid", "okx", "bybit", "woo"):
        assert venue_for(venue).funding_page > 0, venue
