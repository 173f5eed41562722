"""The WOO X venue module's pure parts: order parameters, numeric client ids, error classes,
equity, statuses and the history's paging."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings, strategies as st

from testudo.exchanges.failures import FailureKind
from testudo.exchanges.venues import Equity, OrderSpec, Position, venue_for
from testudo.exchanges.venues.base import ROLE_CODES
from testudo.exchanges.venues.history import BadFill, Stream, Watermark, ms_to_datetime
from testudo.exchanges.venues.woo_history import Cursor, fill_of, request_of, start, time_ms
from testudo.exchanges.venues.woo_ids import MAX_CLIENT_ID, client_order_id, is_testudo_id

BTC: dict[str, Any] = {"symbol": "BTC/USDT:USDT", "contractSize": 1.0}
woo = venue_for("woo")
T, U, R, A = (
    FailureKind.TRANSIENT,
    FailureKind.UNKNOWN,
    FailureKind.REFUSED,
    FailureKind.AUTH_LOST,
)


def spec(side: str, kind: str | None, **extra: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": "7312345678901234567",
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


@pytest.mark.parametrize("kind", ["stop_loss", "take_profit"])
@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_conditional_order_is_a_reduce_only_trigger_never_a_stop_loss_price(
    side: str, kind: str
) -> None:
    request = woo.order_request(spec(side, kind), BTC, D("50000"))
    assert (request.order_type, request.side, request.amount, request.price) == (
        "market",
        side,
        D("0.02"),
        None,
    )
    assert dict(request.params) == {
        "clientOrderId": "7312345678901234567",
        "reduceOnly": True,
        "triggerPrice": D("49000"),
    }


def test_entries_targets_and_closes() -> None:
    limit = woo.order_request(
        spec("buy", None, order_type="limit", price=D("49500")), BTC, D("50000")
    )
    assert (limit.price, dict(limit.params)) == (
        D("49500"),
        {"clientOrderId": "7312345678901234567"},
    )
    market = woo.order_request(spec("buy", None), BTC, D("50000"))
    assert market.price is None  # WOO bounds market orders itself
    target = woo.order_request(
        spec("sell", None, order_type="limit", price=D("52000"), reduce_only=True), BTC, None
    )
    assert dict(target.params) == {"clientOrderId": "7312345678901234567", "reduceOnly": True}
    assert woo.trigger_params(True) == {"trigger": True} and woo.trigger_params(False) == {}


@settings(max_examples=300, deadline=None)
@given(
    group=st.uuids(),
    role=st.sampled_from(sorted(ROLE_CODES)),
    seq=st.integers(1, 10**6),
    target=st.one_of(st.none(), st.integers(0, 100)),
)
def test_client_ids_are_woo_numbers_recomputable_and_ours(
    group: uuid.UUID, role: str, seq: int, target: int | None
) -> None:
    cid = woo.client_order_id(str(group), role, seq, target)
    assert cid.isdigit() and len(cid) == 19 and 0 < int(cid) <= MAX_CLIENT_ID
    assert cid == woo.client_order_id(str(group), role, seq, target)
    assert woo.is_testudo_order(cid)


def test_every_role_and_place_of_a_group_has_its_own_id() -> None:
    group = str(uuid.uuid4())
    ids = [
        client_order_id(group, role, seq, target)
        for role in ROLE_CODES
        for seq in range(1, 30)
        for target in (None, 0, 1, 2, 11)
    ]
    assert len(set(ids)) == len(ids)
    # target 1's eleventh order and target 11's first are different orders
    assert client_order_id(group, "take_profit", 11, 1) != client_order_id(
        group, "take_profit", 1, 11
    )
    assert client_order_id(group, "stop_loss", 1, None) != client_order_id(
        str(uuid.uuid4()), "stop_loss", 1, None
    )


def test_a_traders_own_ids_are_not_taken_for_testudos() -> None:
    ours = client_order_id(str(uuid.uuid4()), "entry", 1, None)
    assert is_testudo_id(ours) and is_testudo_id(int(ours))
    wrong_check = ours[:-2] + f"{(int(ours[-2:]) + 1) % 100:02d}"
    for other in (None, "", "0", "42", "tdo-abc-e1", wrong_check, "8" + ours[1:], ours + "0"):
        assert not is_testudo_id(other), other
    # about one in a hundred 19-digit numbers starting with 73 passes the check
    taken = sum(is_testudo_id(f"73{n:017d}") for n in range(0, 10**17, 10**17 // 10_000))
    assert taken < 200


def woo_error(code: int | str, message: str, status: int = 400) -> Exception:
    """The exception real ccxt raises for WOO's error body."""
    client = ccxt.woo()
    body = {"success": False, "code": code, "message": message}
    text = json.dumps(body)
    try:
        client.handle_errors(status, "", "https://api.woox.io/v3/x", "POST", {}, text, body, {}, "")
    except ccxt.BaseError as exc:
        return exc
    return ccxt.ExchangeError(client.id + " " + client.json(body))


CASES: list[tuple[int | str, str, int, FailureKind, str]] = [
    (-1003, "Rate limit exceed.", 429, T, "rate_limited"),
    ("-1011", "The system is under maintenance.", 400, T, "unavailable"),
    ("-1011", "Can not place/cancel orders, it may because internal network error.", 400, T,
     "unavailable"),
    (302170, "Insufficient margin", 400, R, "insufficient_funds"),
    (-1012, "The place/cancel order request is rejected by internal module", 400, T,
     "rejected_retry"),
    (317179, "the receive window is exceeded", 400, T, "clock"),
    (-1000, "An unknown error occurred while processing the request.", 500, U, "exchange_error"),
    (-1007, "The data is already exists or your request is duplicated.", 409, U, "duplicate"),
    (302117, "The client_order_id is repeated.", 400, U, "duplicate_client_id"),
    (-1001, "The api key or secret is in wrong format.", 401, A, "invalid_credentials"),
    (-1002, "API key or secret is invalid", 401, A, "invalid_credentials"),
    (317150, "trigger price must be greater than 50000", 400, R, "would_trigger"),
    (317151, "trigger price must be less than 50000", 400, R, "would_trigger"),
    (302138, "Insufficient position for reduce only order.", 400, R, "reduce_only_rejected"),
    (302186, "The position side you've used is not compatible with your current position mode.",
     400, R, "hedge_mode"),
    (-1101, "The risk exposure for client is too high", 400, R, "insufficient_funds"),
    (302305, "Failed to update cross margin leverages due to insufficient margin.", 400, R,
     "insufficient_funds"),
    (-1102, "The order value should be greater or equal to 10.", 400, R, "min_notional"),
    (-1103, "The order price is not following the tick size rule for the symbol.", 400, R,
     "tick_size"),
    (-1104, "The order quantity is not following the step size rule for the symbol.", 400, R,
     "lot_size"),
    (-1008, "The quantity of settlement is too high than you can request.", 400, R, "quantity"),
    (-1105, "Price is 5% too high or 5% too low from the mid price.", 400, R, "price_band"),
    (302306, "Invalid leverage, please provide positive integer leverage", 400, R, "leverage"),
    (-1006, "Your order and symbol are not valid or already canceled.", 400, R,
     "order_not_found"),
    (317152, "The order not found for the order id : 12", 400, R, "order_not_found"),
    (317184, "The order cannot be found, or it is already completed.", 400, R, "order_not_found"),
    (317155, "unsupported symbol: PERP_XYZ_USDT", 400, R, "bad_symbol"),
    (317167, "unsupported algo type: OCO", 400, R, "not_supported"),
    (-1005, "quantity must not be blank", 400, R, "bad_request"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "message", "status", "kind", "reason"), CASES)
def test_woo_codes_decide_the_class(
    code: int | str, message: str, status: int, kind: FailureKind, reason: str
) -> None:
    found = woo.classify(woo_error(code, message, status))
    assert (found.kind, found.reason, found.code) == (kind, reason, str(code))


def test_failures_without_a_code_fall_back_to_ccxts_class() -> None:
    assert woo.classify(ccxt.ExchangeNotAvailable("woo 502 Bad Gateway")).kind == U
    assert woo.classify(ccxt.RequestTimeout("woo POST timed out")).kind == U
    assert woo.classify(ccxt.RateLimitExceeded("woo 429")).kind == T
    # 302186 is missing from ccxt's table: a bare ExchangeError, which alone reads "unknown"
    assert isinstance(woo_error(302186, "position mode"), ccxt.ExchangeError)


def test_equity_adds_the_positions_unrealised_pnl_to_the_holding() -> None:
    raw = {"USDT": {"total": 9997.5, "free": 7000.0}, "total": {"USDT": 9997.5}}
    raw["free"] = {"USDT": 7000.0}
    long = Position("BTC_USDT", "long", D("0.1"), D(50000), D(51000), D("100"), D(3), None)
    short = Position("ETH_USDT", "short", D("1"), D(3000), D(3010), D("-10"), D(3), None)
    assert woo.account_equity(raw, [long, short]) == Equity(D("10087.5"), D("7000"))
    assert woo.account_equity(raw, []) == Equity(D("9997.5"), D("7000"))


def test_history_pages_from_the_last_fill_id() -> None:
    first = request_of("PERP_BTC_USDT", start(None), 1000, 2000)
    assert first == {
        "symbol": "PERP_BTC_USDT",
        "startTime": 1000,
        "endTime": 2000,
        "fromId": 1,
        "limit": 500,
    }
    resumed = start(Watermark("BTC_USDT:41"))
    assert resumed == Cursor(41)
    assert request_of(None, resumed, 1000, 2000)["fromId"] == 42
    assert "symbol" not in request_of(None, resumed, 1000, 2000)


def test_an_execution_row_is_a_fill() -> None:
    row = {
        "id": 7,
        "symbol": "PERP_BTC_USDT",
        "orderId": 12,
        "executedPrice": "50000.1",
        "executedQuantity": "0.02",
        "side": "SELL",
        "fee": "0.5",
        "feeAsset": "USDT",
        "realizedPnl": "-3.2",
        "executedTimestamp": "1700000000.123",
    }
    found = fill_of("woo", "BTC_USDT", D(1), row)
    assert found is not None
    fill = found.fill
    assert (fill.fill_id, fill.order_id, fill.side, fill.price, fill.quantity) == (
        "7",
        "12",
        "sell",
        D("50000.1"),
        D("0.02"),
    )
    assert (fill.fee, fill.realized_pnl, fill.timestamp) == (
        D("0.5"),
        D("-3.2"),
        ms_to_datetime(1_700_000_000_123),
    )
    assert time_ms("1700000000.005") == 1_700_000_000_005
    with pytest.raises(BadFill):
        fill_of("woo", "BTC_USDT", D(1), {**row, "side": "HOLD"})
    with pytest.raises(BadFill):
        fill_of("woo", "BTC_USDT", D(1), {**row, "executedPrice": "x"})
    assert Stream("BTC_USDT", "PERP_BTC_USDT").market_id == "PERP_BTC_USDT"
