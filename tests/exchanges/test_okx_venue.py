"""The OKX venue module's pure parts: client ids, order parameters in contracts, error classes
(``sCode`` before the envelope's ``code``), equity, permissions, listing cursors and the
history's windows."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings, strategies as st

from testudo.exchanges.failures import FailureKind
from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.exchanges.venues.base import ROLE_CODES
from testudo.exchanges.venues.history import BadFill, Watermark, ms_to_datetime
from testudo.exchanges.venues.okx import permissions_of
from testudo.exchanges.venues.okx_codes import okx_code
from testudo.exchanges.venues.okx_history import (
    ARCHIVE,
    DAY_MS,
    OVERLAP_MS,
    RECENT,
    WINDOW_MS,
    Cursor,
    advance,
    fill_of,
    recent_from,
    request_of,
    source_of,
    start,
    window_end,
)
from testudo.exchanges.venues.okx_ids import base62, client_order_id, is_valid
from testudo.exchanges.venues.okx_orders import PAGE, executed_id, next_after
from testudo.realtime.market import depth_message, trade_message

BTC: dict[str, Any] = {"symbol": "BTC/USDT:USDT", "contractSize": 0.01}
okx = venue_for("okx")


def spec(side: str, kind: str | None, **extra: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": "tdoX",
        "symbol": "BTC_USDT",
        "side": side,
        "order_type": "market",
        "quantity": D("0.02"),
        "trigger_price": None if kind is None else D("49000"),
        "trigger_kind": kind,
        "reduce_only": kind is not None,
        **extra,
    }
    return OrderSpec(**fields)


# -- client ids ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    group=st.uuids(),
    role=st.sampled_from(sorted(ROLE_CODES)),
    seq=st.integers(1, 999),
    target=st.none() | st.integers(0, 99),
)
def test_client_ids_are_valid_recomputable_and_ours(
    group: uuid.UUID, role: str, seq: int, target: int | None
) -> None:
    made = okx.client_order_id(str(group), role, seq, target)
    assert is_valid(made) and len(made) <= 32  # 1-32 letters and digits: no "-" or "_"
    assert made == okx.client_order_id(str(group), role, seq, target)  # found again by it
    assert okx.is_testudo_order(made)
    assert made.startswith("tdo" + base62(group.int, 22))  # the group, not a hash


def test_every_place_of_a_group_has_its_own_id() -> None:
    group = str(uuid.uuid4())
    places = [(role, seq, None) for role in ROLE_CODES for seq in range(1, 40)]
    places += [("take_profit", seq, target) for target in range(12) for seq in range(1, 40)]
    ids = [okx.client_order_id(group, *place) for place in places]
    assert len(set(ids)) == len(ids)  # t1n11 (target 1, order 11) is not t11n1
    other = okx.client_order_id(str(uuid.uuid4()), "entry", 1)
    assert other not in ids


def test_an_id_that_would_not_fit_is_hashed_never_truncated() -> None:
    group = str(uuid.uuid4())
    long_a = client_order_id(group, "take_profit", 1000, 100)
    long_b = client_order_id(group, "take_profit", 1001, 100)
    assert len(long_a) == 32 and is_valid(long_a) and okx.is_testudo_order(long_a)
    assert long_a != long_b and long_a == client_order_id(group, "take_profit", 1000, 100)


def test_the_users_own_ids_are_not_testudos() -> None:
    assert not okx.is_testudo_order("mine1")
    assert not okx.is_testudo_order("tdo-abc-e1")  # the generic form never reaches OKX
    assert not okx.is_testudo_order(None)
    assert not okx.is_testudo_order("tdoshort")


# -- orders -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "kind", "key"),
    [
        ("sell", "stop_loss", "stopLossPrice"),
        ("buy", "stop_loss", "stopLossPrice"),
        ("sell", "take_profit", "takeProfitPrice"),
        ("buy", "take_profit", "takeProfitPrice"),
    ],
)
def test_a_conditional_order_is_a_reduce_only_market_algo_order(
    side: str, kind: str, key: str
) -> None:
    request = okx.order_request(spec(side, kind, order_type="limit", price=D(1)), BTC, None)
    # No price: ccxt sends slOrdPx / tpOrdPx -1, a market order when it fires.
    assert (request.order_type, request.price, request.amount) == ("market", None, D(2))
    assert request.params == {
        "clientOrderId": "tdoX",
        "algoClOrdId": "tdoX",
        "reduceOnly": True,
        key: D("49000"),
    }
    assert okx.trigger_params(True) == {"trigger": True} and okx.trigger_params(False) == {}


def test_entries_targets_and_closes() -> None:
    limit = okx.order_request(
        spec("buy", None, order_type="limit", price=D("49950.5")), BTC, D(50000)
    )
    assert (limit.order_type, limit.price, limit.amount) == ("limit", D("49950.5"), D(2))
    assert limit.params == {"clientOrderId": "tdoX"}
    close = okx.order_request(spec("sell", None, reduce_only=True), BTC, D(50000))
    assert (close.order_type, close.price) == ("market", None)
    assert close.params == {"clientOrderId": "tdoX", "reduceOnly": True}


@given(lots=st.integers(1, 10**6), size=st.sampled_from([D("0.01"), D("0.1"), D(1)]))
def test_amounts_go_out_in_contracts(lots: int, size: D) -> None:
    """A base-unit quantity of whole lots (0.01 contract) is that many contracts."""
    quantity = lots * D("0.01") * size
    market = {"symbol": "X/USDT:USDT", "contractSize": float(size)}
    request = okx.order_request(spec("buy", None, quantity=quantity), market, None)
    assert request.amount == lots * D("0.01")
    assert request.amount * size == quantity


def test_listing_cursors_and_fired_algos() -> None:
    page = [{"id": str(i), "info": {"ordId": str(i)}} for i in range(500, 500 + PAGE)]
    assert next_after(page, conditional=False) == "500"  # the oldest of a full page
    assert next_after(page[:-1], conditional=False) is None
    algos = [{"id": str(i), "info": {"algoId": str(i)}} for i in range(PAGE, 0, -1)]
    assert next_after(algos, conditional=True) == "1"
    assert executed_id({"info": {"state": "effective", "ordId": "77"}}) == "77"
    assert executed_id({"info": {"state": "live", "ordId": ""}}) is None
    assert executed_id({"info": {"state": "order_failed", "ordId": ""}}) is None


# -- errors -------------------------------------------------------------------------------


def batch_error(code: str, message: str, cls: type[Exception] = ccxt.InvalidOrder) -> Exception:
    """ccxt's exception for a refused order: the whole body, top-level code 1."""
    body = {
        "code": "1",
        "data": [{"clOrdId": "tdoX", "ordId": "", "sCode": code, "sMsg": message, "tag": ""}],
        "msg": "All operations failed",
    }
    return cls("okx " + json.dumps(body))


def plain_error(code: str, message: str, cls: type[Exception] = ccxt.ExchangeError) -> Exception:
    return cls("okx " + json.dumps({"code": code, "data": [], "msg": message}))


@pytest.mark.parametrize(
    ("exc", "kind", "reason", "code"),
    [
        (
            batch_error("51280", "SL trigger price cannot be higher"),
            "refused",
            "would_trigger",
            "51280",
        ),
        (batch_error("51277", "TP trigger price"), "refused", "would_trigger", "51277"),
        (batch_error("51261", "pending stop orders"), "refused", "max_stop_orders", "51261"),
        (batch_error("51169", "no positions"), "refused", "reduce_only_rejected", "51169"),
        (
            batch_error("51008", "Insufficient USDT margin"),
            "refused",
            "insufficient_funds",
            "51008",
        ),
        (batch_error("51121", "lot size"), "refused", "lot_size", "51121"),
        (batch_error("51016", "Duplicated clOrdId"), "unknown", "duplicate_client_id", "51016"),
        (batch_error("51149", "Order timed out"), "unknown", "timeout", "51149"),
        (batch_error("51000", "Parameter posSide error"), "refused", "hedge_mode", "51000"),
        (batch_error("51000", "Parameter clOrdId error"), "refused", "bad_client_id", "51000"),
        (batch_error("51000", "Parameter foo error"), "refused", "bad_request", "51000"),
        (batch_error("51400", "cancellation failed"), "refused", "order_not_found", "51400"),
        (plain_error("51603", "Order does not exist"), "refused", "order_not_found", "51603"),
        (plain_error("50011", "Too Many Requests"), "transient", "rate_limited", "50011"),
        (plain_error("50102", "Timestamp request expired"), "transient", "clock", "50102"),
        (plain_error("50004", "Endpoint request timeout"), "unknown", "timeout", "50004"),
        (plain_error("50105", "PASSPHRASE incorrect"), "auth_lost", "invalid_passphrase", "50105"),
        (
            plain_error("50111", "Invalid OK-ACCESS-KEY"),
            "auth_lost",
            "invalid_credentials",
            "50111",
        ),
        (plain_error("50113", "Invalid Sign"), "auth_lost", "invalid_signature", "50113"),
        (plain_error("50110", "Invalid IP"), "auth_lost", "ip_not_allowed", "50110"),
        (plain_error("59102", "Leverage exceeds"), "refused", "leverage", "59102"),
    ],
)
def test_okx_codes_decide_the_class(exc: Exception, kind: str, reason: str, code: str) -> None:
    found = okx.classify(exc)
    assert (found.kind, found.reason, found.code) == (FailureKind(kind), reason, code)


def test_the_orders_scode_wins_over_the_envelopes_code() -> None:
    assert okx_code(str(batch_error("51280", "x"))) == "51280"
    assert okx_code('okx {"code":"1","data":[],"msg":"All operations failed"}') is None
    assert okx_code('okx {"code":"50011","msg":"Too Many Requests"}') == "50011"


def test_failures_without_a_code_fall_back_to_ccxts_class() -> None:
    found = okx.classify(ccxt.RequestTimeout("okx GET timed out"))
    assert (found.kind, found.reason, found.code) == (FailureKind.UNKNOWN, "timeout", None)
    unknown = okx.classify(batch_error("59999", "something new", ccxt.ExchangeError))
    assert (unknown.kind, unknown.code) == (FailureKind.UNKNOWN, "59999")


# -- account ------------------------------------------------------------------------------


def balance(detail: dict[str, Any], **top: Any) -> dict[str, Any]:
    row = {"adjEq": "", "totalEq": "99999", "details": [detail], **top}
    return {"info": {"code": "0", "data": [row]}, "total": {"USDT": 1.0}, "free": {"USDT": 1.0}}


def test_equity_is_the_usdt_eq_and_available_equity_never_adjeq() -> None:
    detail = {
        "ccy": "USDT",
        "eq": "11000.5",
        "availEq": "9000.25",
        "availBal": "8000",
        "cashBal": "10000",
    }
    equity = okx.equity(balance(detail))
    assert (equity.equity, equity.available) == (D("11000.5"), D("9000.25"))
    # adjEq (multi-currency and portfolio margin, USD) never enters, whatever it says.
    assert okx.equity(balance(detail, adjEq="123")) == equity
    no_avail_eq = okx.equity(balance({**detail, "availEq": ""}))
    assert no_avail_eq.available == D("8000")  # availBal where availEq is empty
    other = okx.equity(balance({"ccy": "BTC", "eq": "1", "availEq": "1"}))
    assert (other.equity, other.available) == (D(1), D(1))  # ccxt's USDT total/free


def test_permissions_come_from_the_account_config() -> None:
    assert permissions_of({"perm": "read_only,trade", "ip": ""}) == {
        "reading": True,
        "futures": True,
        "withdrawals": False,
        "ip_restricted": False,
        "withdrawal_check": "verified",
    }
    withdrawing = permissions_of({"perm": "read_only,trade,withdraw", "ip": "1.2.3.4"})
    assert withdrawing["withdrawals"] is True and withdrawing["ip_restricted"] is True
    assert permissions_of({"perm": "read_only"})["futures"] is False


# -- history ------------------------------------------------------------------------------


def test_history_windows_are_seven_days_and_never_cross_into_the_recent_list() -> None:
    now = 100 * DAY_MS
    boundary = recent_from(now)
    assert now - boundary < 3 * DAY_MS
    first = Cursor(now - 90 * DAY_MS)
    request = request_of("BTC-USDT-SWAP", first, now)
    assert request == {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "begin": str(first.window_start_ms),
        "end": str(first.window_start_ms + WINDOW_MS - 1),
        "limit": "100",
    }
    assert source_of(first.window_start_ms, now) == ARCHIVE
    last_archive = boundary - 2 * DAY_MS
    assert window_end(last_archive, now) == boundary - 1  # clipped at the boundary
    assert source_of(boundary, now) == RECENT and window_end(boundary, now) == now
    full = [{"billId": str(i)} for i in range(200, 100, -1)]
    assert advance(first, request, full, now) == Cursor(first.window_start_ms, "101")
    following = advance(first, request, full[:10], now)
    assert following == Cursor(first.window_start_ms + WINDOW_MS)
    paged = request_of(None, Cursor(first.window_start_ms, "101"), now)
    assert paged["after"] == "101" and "instId" not in paged
    ending = advance(Cursor(boundary), request_of(None, Cursor(boundary), now), [], now)
    assert ending.done


def test_history_resumes_a_minute_before_the_saved_window_end() -> None:
    saved = Watermark(last_time=ms_to_datetime(50 * DAY_MS))
    assert start(saved, 0) == Cursor(50 * DAY_MS + 1 - OVERLAP_MS)
    assert start(None, 7) == Cursor(7)


def test_a_fill_row_is_a_fill_in_base_units_with_its_fee_as_a_cost() -> None:
    row = {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "billId": "1234",
        "tradeId": "99",
        "ordId": "555",
        "clOrdId": "tdoX",
        "side": "sell",
        "fillPx": "50000.1",
        "fillSz": "3",
        "fee": "-0.0750015",
        "feeCcy": "USDT",
        "fillPnl": "12.5",
        "ts": "1700000000000",
    }
    found = fill_of("okx", "BTC_USDT", D("0.01"), "USDT", row)
    assert found is not None
    fill = found.fill
    assert (fill.fill_id, fill.order_id, fill.client_order_id) == ("1234", "555", "tdoX")
    assert (fill.side, fill.price, fill.quantity) == ("sell", D("50000.1"), D("0.03"))
    assert (fill.fee, fill.realized_pnl) == (D("0.0750015"), D("12.5"))
    rebate = fill_of("okx", "BTC_USDT", D("0.01"), "USDT", {**row, "fee": "0.01"})
    assert rebate is not None and rebate.fill.fee == D("-0.01")
    assert fill_of("okx", "BTC_USDT", D("0.01"), "USDT", {**row, "instType": "SPOT"}) is None
    with pytest.raises(BadFill):
        fill_of("okx", "BTC_USDT", D("0.01"), "USDT", {**row, "side": "?"})
    with pytest.raises(BadFill):
        fill_of("okx", "BTC_USDT", D("0.01"), "USDT", {**row, "fillSz": ""})


def test_public_depth_and_trades_are_in_base_units() -> None:
    book = {"bids": [[49999.9, 7.0]], "asks": [[50000.1, 0.5]], "timestamp": 1}
    depth = depth_message("okx", "BTC_USDT", book, 2, D("0.01"))
    assert depth["bids"] == [["49999.9", "0.07"]] and depth["asks"] == [["50000.1", "0.005"]]
    trade = trade_message("okx", "BTC_USDT", {"amount": 3.0, "price": 5e4}, 2, D("0.01"))
    assert trade["q"] == "0.03"
    assert trade_message("bybit", "BTC_USDT", {"amount": 0.01}, 2)["q"] == "0.01"
