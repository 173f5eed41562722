"""The venue modules' pure parts: order parameters, amounts, client ids, error classes."""

from __future__ import annotations

import uuid
from decimal import Decimal as D
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings, strategies as st

from testudo.exchanges.failures import FailureKind, classify_ccxt, venue_code
from testudo.exchanges.venues import OrderSpec, venue_for

BTC_BINANCE: dict[str, Any] = {"symbol": "BTC/USDT:USDT", "contractSize": 1.0}
BTC_HL: dict[str, Any] = {"symbol": "BTC/USDC:USDC", "contractSize": 1.0}


def stop(symbol: str = "BTC_USDT", **extra: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "client_order_id": "tdo-x-s1",
        "symbol": symbol,
        "side": "sell",
        "order_type": "market",
        "quantity": D("0.01"),
        "trigger_price": D("49000"),
        "trigger_kind": "stop_loss",
        "reduce_only": True,
        **extra,
    }
    return OrderSpec(**fields)


def test_binance_stop_is_a_reduce_only_market_stop_without_a_price() -> None:
    request = venue_for("binance").order_request(stop(), BTC_BINANCE, D("50000"))
    assert (request.symbol, request.order_type, request.side) == ("BTC/USDT:USDT", "market", "sell")
    assert request.amount == D("0.01") and request.price is None
    assert request.params == {
        "clientOrderId": "tdo-x-s1",
        "reduceOnly": True,
        "stopLossPrice": D("49000"),
    }


def test_hyperliquid_prices_market_orders_from_the_reference_with_a_bound() -> None:
    venue = venue_for("hyperliquid")
    close = OrderSpec("0x7e57aa", "BTC_USDT", "sell", "market", D("0.01"), reduce_only=True)
    request = venue.order_request(close, BTC_HL, D("47000"))
    assert request.price == D("47000")  # the mark given, never the group's entry price
    assert request.params["slippage"] == "0.05"
    bounded = venue.order_request(
        OrderSpec("0x7e57ab", "BTC_USDT", "sell", "market", D("0.01"), max_slippage=D("0.02")),
        BTC_HL,
        D("47000"),
    )
    assert bounded.params["slippage"] == "0.02"
    triggered = venue.order_request(stop(client_order_id="0x7e57ac"), BTC_HL, D("50000"))
    assert triggered.price == D("49000") and triggered.params["stopLossPrice"] == D("49000")


@settings(max_examples=100, deadline=None)
@given(
    contracts=st.integers(min_value=1, max_value=10_000),
    size=st.sampled_from([D("0.01"), D("0.1"), D("1"), D("10")]),
)
def test_amounts_cross_the_boundary_in_contracts(contracts: int, size: D) -> None:
    """A quantity in base units goes out as quantity / contractSize contracts."""
    market = {"symbol": "BTC/USDT:USDT", "contractSize": float(size)}
    quantity = size * contracts
    request = venue_for("okx").order_request(
        OrderSpec("c", "BTC_USDT", "buy", "limit", quantity, price=D("50000")), market, None
    )
    assert request.amount == contracts


def test_client_ids_are_recomputable_and_tagged_per_venue() -> None:
    gid = str(uuid.uuid4())
    for exchange in ("binance", "hyperliquid"):
        venue = venue_for(exchange)
        first = venue.client_order_id(gid, "take_profit", 2, 1)
        assert first == venue.client_order_id(gid, "take_profit", 2, 1)
        assert first != venue.client_order_id(gid, "take_profit", 3, 1)
        assert venue.is_testudo_order(first) and len(first) <= venue.client_id_length
    assert not venue_for("hyperliquid").is_testudo_order("0x1234")


def binance_error(code: int, message: str, cls: type[Exception] = ccxt.ExchangeError) -> Exception:
    return cls(f'binanceusdm {{"code":{code},"msg":"{message}"}}')


@pytest.mark.parametrize(
    ("code", "cls", "kind", "reason"),
    [
        (-1003, ccxt.RateLimitExceeded, FailureKind.TRANSIENT, "rate_limited"),
        (-1021, ccxt.BadRequest, FailureKind.TRANSIENT, "clock"),
        (-1008, ccxt.OperationFailed, FailureKind.TRANSIENT, "overloaded"),
        (-4045, ccxt.BadRequest, FailureKind.REFUSED, "max_stop_orders"),
        (-4061, ccxt.InvalidOrder, FailureKind.REFUSED, "hedge_mode"),
        (-2021, ccxt.OrderImmediatelyFillable, FailureKind.REFUSED, "would_trigger"),
        (-2022, ccxt.InvalidOrder, FailureKind.REFUSED, "reduce_only_rejected"),
        (-1007, ccxt.BadResponse, FailureKind.UNKNOWN, "timeout"),
        (-4116, ccxt.InvalidOrder, FailureKind.UNKNOWN, "duplicate_client_id"),
        (-2015, ccxt.AuthenticationError, FailureKind.AUTH_LOST, "invalid_credentials"),
    ],
)
def test_binance_codes_decide_the_class(
    code: int, cls: type[Exception], kind: FailureKind, reason: str
) -> None:
    found = venue_for("binance").classify(binance_error(code, "x", cls))
    assert (found.kind, found.reason, found.code) == (kind, reason, str(code))


def test_a_429_is_transient_and_a_refusal_is_never_unknown() -> None:
    """The two misreadings the protection issue found: a 429 on the stop forced a market
    exit; -4045 was treated as 'outcome unknown' and re-placed forever."""
    binance = venue_for("binance")
    assert binance.classify(ccxt.DDoSProtection("429 Too Many Requests")).kind == "transient"
    assert binance.classify(binance_error(-4045, "Reach max stop order limit.")).kind == "refused"


@pytest.mark.parametrize(
    ("message", "cls", "kind", "reason"),
    [
        (
            "User or API Wallet 0xabc does not exist.",
            ccxt.InvalidOrder,
            FailureKind.AUTH_LOST,
            "agent_unknown",
        ),
        ("Invalid TP/SL price. asset=0", ccxt.InvalidOrder, FailureKind.REFUSED, "invalid_trigger"),
        (
            "Order price cannot be more than 80% away from the reference price",
            ccxt.InvalidOrder,
            FailureKind.REFUSED,
            "price_band",
        ),
        (
            "Too many cumulative requests sent (37986 > 10436)",
            ccxt.RateLimitExceeded,
            FailureKind.TRANSIENT,
            "rate_limited",
        ),
        ("429 Too Many Requests", ccxt.RateLimitExceeded, FailureKind.TRANSIENT, "rate_limited"),
        ("Connection reset", ccxt.NetworkError, FailureKind.UNKNOWN, "network"),
    ],
)
def test_hyperliquid_messages_decide_the_class(
    message: str, cls: type[Exception], kind: FailureKind, reason: str
) -> None:
    found = venue_for("hyperliquid").classify(cls(f"hyperliquid {message}"))
    assert (found.kind, found.reason) == (kind, reason)


@given(code=st.integers(min_value=-999_999, max_value=999_999))
def test_venue_codes_are_read_from_any_json_error_body(code: int) -> None:
    for key in ("code", "retCode", "sCode"):
        assert venue_code(Exception(f'x {{"{key}": "{code}", "msg": "m"}}')) == str(code)
        assert venue_code(Exception(f'x {{"{key}":{code}}}')) == str(code)


def test_anything_unrecognised_is_unknown_never_refused() -> None:
    assert classify_ccxt(ccxt.ExchangeError("what?")).kind == FailureKind.UNKNOWN
    assert classify_ccxt(RuntimeError("boom")).kind == FailureKind.UNKNOWN
    assert classify_ccxt(ccxt.RequestTimeout("slow")).kind == FailureKind.UNKNOWN
