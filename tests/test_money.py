"""The one wire formatter for money and quantities (``testudo.money``), and that the journal
and the simulator use it rather than formatters of their own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from testudo import money
from testudo.journal import analytics, views
from testudo.sim import money as sim_money

D = Decimal


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (D("40000"), "40000"),
        (D("40000.00"), "40000"),
        (D("4E+4"), "40000"),
        (D("0.0150"), "0.015"),
        (D("1E-8"), "0.00000001"),
        (D("-2.50"), "-2.5"),
        (D("0"), "0"),
        (D("-0.000"), "0"),
        (D("0E+3"), "0"),
        (D("123456789012345678.123456789012345678"), "123456789012345678.123456789012345678"),
    ],
)
def test_text_is_plain_without_exponent_or_trailing_zeros(value: Decimal, wire: str) -> None:
    assert money.text(value) == wire


def test_wire_reads_what_ccxt_and_the_database_give() -> None:
    assert money.wire(None) is None
    assert money.wire("") is None
    assert money.wire("garbage") is None
    assert money.wire(True) is None
    assert money.wire(0.1) == "0.1"  # a float's shortest repr, not its binary expansion
    assert money.wire(3) == "3"
    assert money.wire("1.500") == "1.5"
    assert money.wire(D("2.000")) == "2"


finite = st.decimals(allow_nan=False, allow_infinity=False, places=None)


@given(finite)
def test_text_round_trips_and_is_canonical(value: Decimal) -> None:
    wire = money.text(value)
    assert Decimal(wire) == value
    assert "E" not in wire and "e" not in wire
    if "." in wire:
        assert not wire.endswith("0") and not wire.endswith(".")
    # equal values have one text, whatever their exponent (the same digits, three zeros more)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    assert money.text(Decimal((sign, (*digits, 0, 0, 0), exponent - 3))) == wire


def test_journal_and_simulator_use_the_one_formatter() -> None:
    assert analytics.wire is money.wire
    assert views.wire is money.wire
    assert sim_money.plain is money.text
