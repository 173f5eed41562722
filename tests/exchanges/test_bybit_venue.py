"""The Bybit venue module's pure parts: order parameters, client ids, error classes, equity,
permissions and the history's windows."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings, strategies as st

from testudo.exchanges.failures import FailureKind
from testudo.exchanges.venues import OrderSpec, venue_for
from testudo.exchanges.venues.base import ROLE_CODES
from testudo.exchanges.venues.bybit import is_hedged, permissions_of
from testudo.exchanges.venues.bybit_history import (
    OVERLAP_MS,
    WEEK_MS,
    Cursor,
    advance,
    fill_of,
    request_of,
    start,
)
from testudo.exchanges.venues.bybit_orders import status_of, trigger_direction
from testudo.exchanges.venues.history import BadFill, Watermark, ms_to_datetime

BTC: dict[str, Any] = {"symbol": "BTC/USDT:USDT", "contractSize": 1.0}
ORDER_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
bybit = venue_for("bybit")


def spec(side: str, kind: str | None, **extra: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": "tdo-x-s1",
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


@pytest.mark.parametrize(
    ("side", "kind", "direction"),
    [
        ("sell", "stop_loss", "descending"),  # a long's stop fires as the price falls
        ("buy", "stop_loss", "ascending"),  # a short's stop fires as it rises
        ("sell", "take_profit", "ascending"),
        ("buy", "take_profit", "descending"),
    ],
)
def test_a_conditional_order_is_reduce_only_with_its_trigger_direction(
    side: str, kind: str, direction: str
) -> None:
    request = bybit.order_request(spec(side, kind), BTC, D("50000"))
    assert (request.symbol, request.order_type, request.side) == ("BTC/USDT:USDT", "market", side)
    assert request.amount == D("0.02") and request.price is None
    assert request.params == {
        "clientOrderId": "tdo-x-s1",
        "reduceOnly": True,
        "triggerPrice": D("49000"),
        "triggerDirection": direction,
    }
    assert trigger_direction(side, kind) == direction


def test_entries_targets_and_closes() -> None:
    entry = bybit.order_request(
        spec("buy", None, order_type="limit", price=D("49500"), client_order_id="tdo-x-e1"),
        BTC,
        None,
    )
    assert (entry.order_type, entry.price) == ("limit", D("49500"))
    assert entry.params == {"clientOrderId": "tdo-x-e1"}  # no reduceOnly, no trigger
    market = bybit.order_request(spec("buy", None, client_order_id="tdo-x-e1"), BTC, D("50000"))
    assert market.price is None  # Bybit bounds a market order itself
    limit_target = bybit.order_request(
        spec("sell", None, order_type="limit", price=D("52000"), reduce_only=True), BTC, None
    )
    assert limit_target.price == D("52000") and limit_target.params["reduceOnly"] is True
    assert "triggerPrice" not in limit_target.params
    close = bybit.order_request(spec("sell", None, reduce_only=True), BTC, D("43500"))
    assert close.price is None and close.params["reduceOnly"] is True


@settings(max_examples=100, deadline=None)
@given(
    contracts=st.integers(min_value=1, max_value=10_000),
    size=st.sampled_from([D("0.001"), D("0.1"), D("1"), D("10")]),
)
def test_amounts_go_out_in_contracts(contracts: int, size: D) -> None:
    market = {"symbol": "BTC/USDT:USDT", "contractSize": float(size)}
    request = bybit.order_request(
        spec("sell", "stop_loss", quantity=size * contracts), market, None
    )
    assert request.amount == contracts


@settings(max_examples=300, deadline=None)
@given(
    group=st.uuids(),
    role=st.sampled_from(sorted(ROLE_CODES)),
    seq=st.integers(min_value=1, max_value=99_999),
    target=st.one_of(st.none(), st.integers(min_value=0, max_value=99)),
)
def test_client_ids_are_valid_order_link_ids_recomputable_and_ours(
    group: uuid.UUID, role: str, seq: int, target: int | None
) -> None:
    cid = bybit.client_order_id(str(group), role, seq, target)
    assert ORDER_LINK_ID.match(cid), cid  # Bybit's charset and length (else 10001)
    assert cid == bybit.client_order_id(str(group), role, seq, target)
    assert bybit.is_testudo_order(cid)
    assert cid != bybit.client_order_id(str(group), role, seq + 1, target)
    other = bybit.client_order_id(str(uuid.uuid4()), role, seq, target)
    assert other != cid


def test_every_role_and_place_of_a_group_has_its_own_id() -> None:
    """Target 1's eleventh order and target 11's first are two orders (``t1_11``,
    ``t11_1``): Bybit refuses an orderLinkId already open (110072), and a lookup by it would
    find the other order."""
    gid = str(uuid.uuid4())
    ids = {
        bybit.client_order_id(gid, role, seq, target)
        for role in ROLE_CODES
        for seq in range(1, 30)
        for target in (None, 0, 1, 2, 11)
    }
    assert len(ids) == len(ROLE_CODES) * 29 * 5
    assert bybit.client_order_id(gid, "take_profit", 11, 1).endswith("-t1_11")
    assert not bybit.is_testudo_order("my-own-order")


def test_an_id_that_would_not_fit_is_hashed_never_truncated() -> None:
    gid = str(uuid.uuid4())
    long_one = bybit.client_order_id(gid, "take_profit", 10**7, 123)
    assert ORDER_LINK_ID.match(long_one) and bybit.is_testudo_order(long_one)
    assert long_one == bybit.client_order_id(gid, "take_profit", 10**7, 123)
    assert long_one != bybit.client_order_id(gid, "take_profit", 10**7 + 1, 123)


def bybit_error(code: int, message: str, cls: type[Exception]) -> Exception:
    """The exception ccxt raises for a Bybit refusal: the body in the text."""
    return cls(f'bybit {{"retCode":{code},"retMsg":"{message}","result":{{}},"retExtInfo":{{}}}}')


T, U, R, A = FailureKind.TRANSIENT, FailureKind.UNKNOWN, FailureKind.REFUSED, FailureKind.AUTH_LOST
CASES = [
    (10002, "invalid request, please check your server timestamp", ccxt.InvalidNonce, T, "clock"),
    (10006, "Too many visits!", ccxt.RateLimitExceeded, T, "rate_limited"),
    (10018, "Exceeded the IP Rate Limit", ccxt.RateLimitExceeded, T, "rate_limited"),
    (429, "high server load", ccxt.ExchangeError, T, "overloaded"),
    (10016, "System error. Please try again later.", ccxt.ExchangeError, U, "exchange_error"),
    (10016, "Request timeout, please try again later", ccxt.RequestTimeout, U, "exchange_error"),
    (10000, "Server Timeout", ccxt.ExchangeError, U, "timeout"),
    (110072, "OrderLinkedID is duplicate", ccxt.InvalidOrder, U, "duplicate_client_id"),
    (10003, "API key is invalid.", ccxt.AuthenticationError, A, "invalid_credentials"),
    (10004, "error sign! origin_string[x]", ccxt.AuthenticationError, A, "invalid_signature"),
    (10005, "Permission denied", ccxt.PermissionDenied, A, "permission_denied"),
    (10010, "Unmatched IP", ccxt.PermissionDenied, A, "ip_not_allowed"),
    (10001, "empty value: apiKey[]: openapi sign params error!", ccxt.AuthenticationError, A,
     "invalid_credentials"),
    (110092, "expect Rising, but trigger_price[5100000000] <= current[5200000000]",
     ccxt.InvalidOrder, R, "would_trigger"),
    (110093, "expect Falling, but trigger_price[4900000000] >= current[4800000000]",
     ccxt.InvalidOrder, R, "would_trigger"),
    (110009, "The number of stop orders exceeds maximum limit allowed", ccxt.InvalidOrder, R,
     "max_stop_orders"),
    (110017, "current position is zero, cannot fix reduce-only order qty", ccxt.InvalidOrder, R,
     "reduce_only_rejected"),
    (110017, "reduce-only order has same side with current position", ccxt.InvalidOrder, R,
     "reduce_only_rejected"),
    (110004, "Wallet balance is insufficient", ccxt.InsufficientFunds, R, "insufficient_funds"),
    (110007, "ab not enough for new order", ccxt.InsufficientFunds, R, "insufficient_funds"),
    (110012, "Available balance not enough", ccxt.InsufficientFunds, R, "insufficient_funds"),
    (110003, "Order price is out of permissible range", ccxt.InvalidOrder, R, "price_band"),
    (110094, "Order does not meet minimum order value 5USDT", ccxt.InvalidOrder, R, "min_notional"),
    (110020, "number of active orders greater than 500", ccxt.InvalidOrder, R, "max_open_orders"),
    (110001, "order not exists or too late to cancel", ccxt.OrderNotFound, R, "order_not_found"),
    (110043, "leverage not modified", ccxt.BadRequest, R, "leverage_not_modified"),
    (10017, "Route not found.", ccxt.BadRequest, R, "bad_request"),
    (10001, "position idx not match position mode", ccxt.BadRequest, R, "hedge_mode"),
    (10001, "Not supported symbols", ccxt.BadSymbol, R, "bad_symbol"),
    (10001, "params error: symbol invalid", ccxt.BadRequest, R, "bad_symbol"),
    (10001, "params error: orderLinkId invalid", ccxt.BadRequest, R, "bad_client_id"),
    (10001, "The number of contracts exceeds minimum limit allowed", ccxt.BadRequest, R,
     "quantity"),
    (10001, "The number of contracts exceeds maximum limit allowed", ccxt.BadRequest, R,
     "quantity"),
    (10001, "params error: qty invalid", ccxt.BadRequest, R, "lot_size"),
    (10001, "params error: price invalid", ccxt.BadRequest, R, "tick_size"),
    (10001, "params error: PostOnly order would take liquidity", ccxt.BadRequest, R, "post_only"),
    (10001, "params error: leverage invalid", ccxt.BadRequest, R, "leverage"),
    (10001, "params error: The time range between startTime and endTime cannot exceed 7 days",
     ccxt.BadRequest, R, "window"),
    (10001, "params error: side invalid", ccxt.BadRequest, R, "bad_request"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "message", "cls", "kind", "reason"), CASES)
def test_bybit_codes_decide_the_class(
    code: int, message: str, cls: type[Exception], kind: FailureKind, reason: str
) -> None:
    found = bybit.classify(bybit_error(code, message, cls))
    assert (found.kind, found.reason, found.code) == (kind, reason, str(code))


def test_failures_without_a_code_fall_back_to_ccxts_class() -> None:
    """The IP limit's bare 403 and network failures carry no retCode."""
    assert bybit.classify(ccxt.RateLimitExceeded("bybit 403 access too frequent")).kind == T
    assert bybit.classify(ccxt.ExchangeNotAvailable("bybit 503 Service Unavailable")).kind == U
    assert bybit.classify(ccxt.RequestTimeout("bybit POST timed out")).kind == U
    # a position-mode message under another code is not mistaken for a hedge-mode 10001
    other = bybit.classify(
        bybit_error(110017, "position idx not match position mode", ccxt.InvalidOrder)
    )
    assert other.reason == "reduce_only_rejected"


def test_equity_is_the_unified_wallets_total_equity_and_available_balance() -> None:
    raw = {
        "info": {
            "result": {
                "list": [
                    {
                        "accountType": "UNIFIED",
                        "totalEquity": "10250.5",
                        "totalWalletBalance": "10000",
                        "totalAvailableBalance": "9200.25",
                    }
                ]
            }
        },
        "total": {"USDT": 10000.0},  # ccxt's total: the wallet, without unrealised P&L
        "free": {"USDT": 9000.0},
    }
    equity = bybit.equity(raw)
    assert (equity.equity, equity.available) == (D("10250.5"), D("9200.25"))
    classic = bybit.equity({"info": {"result": {"list": []}}, "total": {"USDT": 5.0}, "free": {}})
    assert (classic.equity, classic.available) == (D("5"), D("0"))


def test_hedge_mode_is_read_from_position_indices() -> None:
    assert is_hedged({"hedged": True, "info": {"positionIdx": 1}})
    assert is_hedged({"hedged": None, "info": {"positionIdx": "2"}})
    assert not is_hedged({"hedged": False, "info": {"positionIdx": 0}})


def test_withdrawal_rights_come_from_the_wallet_permissions() -> None:
    key = {
        "readOnly": 0,
        "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["AccountTransfer"]},
        "ips": ["*"],
    }
    assert permissions_of(key) == {
        "reading": True,
        "futures": True,
        "withdrawals": False,
        "ip_restricted": False,
        "withdrawal_check": "verified",
    }
    withdrawing = {
        **key,
        "permissions": {"Wallet": ["Withdraw"]},
        "readOnly": 1,
        "ips": ["1.2.3.4"],
    }
    found = permissions_of(withdrawing)
    assert found["withdrawals"] and not found["futures"] and found["ip_restricted"]


def test_bybit_statuses_ccxt_flattens() -> None:
    assert status_of({"status": "closed", "info": {"orderStatus": "PartiallyFilledCanceled"}}) == (
        "cancelled"
    )
    assert status_of({"status": "canceled", "info": {"orderStatus": "Deactivated"}}) == "cancelled"
    assert status_of({"status": "open", "info": {"orderStatus": "Untriggered"}}) is None
    state = bybit.state_of(
        None,
        {
            "id": "a",
            "clientOrderId": "tdo-x-e1",
            "status": "closed",
            "type": "market",
            "price": 51500.0,  # Bybit's protection bound, not a price
            "amount": 0.02,
            "filled": 0.01,
            "average": 50000.1,
            "info": {"orderStatus": "PartiallyFilledCanceled"},
        },
    )
    assert (state.status, state.filled, state.price) == ("cancelled", D("0.01"), None)


# -- history windows -----------------------------------------------------------------------


def test_history_windows_are_seven_days_and_pages_follow_the_cursor() -> None:
    begin, end = 1_000_000, 1_000_000 + 20 * 86_400_000
    cursor = start(None, begin)
    first = request_of("BTCUSDT", cursor, end)
    assert first == {
        "category": "linear",
        "execType": "Trade",
        "startTime": begin,
        "endTime": begin + WEEK_MS - 1,  # never more than 7 days: Bybit refuses that
        "limit": 100,
        "symbol": "BTCUSDT",
    }
    same_window = advance(cursor, first, "abc%3D", end)
    assert same_window == Cursor(begin, "abc%3D")
    assert request_of("BTCUSDT", same_window, end)["cursor"] == "abc%3D"
    next_window = advance(same_window, first, "", end)
    assert next_window == Cursor(begin + WEEK_MS)
    last = request_of(None, Cursor(begin + 2 * WEEK_MS), end)
    assert last["endTime"] == end and "symbol" not in last
    assert advance(Cursor(begin + 2 * WEEK_MS), last, "", end).done


def test_history_resumes_a_minute_before_the_saved_window_end() -> None:
    saved = Watermark(last_time=ms_to_datetime(5_000_000))
    assert start(saved, 1_000_000) == Cursor(5_000_001 - OVERLAP_MS)
    assert start(saved, 9_000_000) == Cursor(9_000_000)  # never before the range's start
    assert start(None, 1_000_000) == Cursor(1_000_000)


def test_an_execution_row_is_a_fill() -> None:
    row = {
        "symbol": "BTCUSDT",
        "execId": "0ad8e5a4-6a5b-4a3f-9b5a-3f1e2d4c5b6a",
        "orderId": "f1e2d3c4-0000-4000-8000-000000000001",
        "orderLinkId": "tdo-abc-t01",
        "side": "Sell",
        "execPrice": "51500.0",
        "execQty": "0.010",
        "execFee": "0.28325",
        "feeCurrency": "",
        "execType": "Trade",
        "execTime": "1700000000000",
    }
    history_fill = fill_of("bybit", "BTC_USDT", D(1), "USDT", row)
    assert history_fill is not None
    fill = history_fill.fill
    assert (fill.fill_id, fill.client_order_id, fill.side) == (row["execId"], "tdo-abc-t01", "sell")
    assert (fill.price, fill.quantity, fill.fee, fill.fee_asset) == (
        D("51500.0"),
        D("0.010"),
        D("0.28325"),
        "USDT",
    )
    assert fill_of("bybit", "BTC_USDT", D(1), "USDT", {**row, "execType": "Funding"}) is None
    unlinked = fill_of("bybit", "BTC_USDT", D(1), "USDT", {**row, "orderLinkId": ""})
    assert unlinked is not None and unlinked.fill.client_order_id is None
    with pytest.raises(BadFill):
        fill_of("bybit", "BTC_USDT", D(1), "USDT", {**row, "side": "None"})
    with pytest.raises(BadFill):
        fill_of("bybit", "BTC_USDT", D(1), "USDT", {**row, "execPrice": ""})
