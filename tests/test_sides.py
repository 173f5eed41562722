"""Where a stop and a target belong for each side (``testudo.sides``), checked exhaustively
against the plain definitions, and that each caller of the rule uses it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from testudo import sides
from testudo.sides import BUY, SELL

D = Decimal
prices = st.decimals(D("0.0001"), D("100000"), places=4, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("word", "side"),
    [
        ("buy", BUY),
        ("BUY", BUY),
        ("long", BUY),
        (" Long ", BUY),
        ("sell", SELL),
        ("Short", SELL),
        ("short\n", SELL),
        ("hold", None),
        ("", None),
        ("b uy", None),
    ],
)
def test_normalise_side(word: str, side: str | None) -> None:
    assert sides.normalise_side(word) == side


@given(prices, prices)
def test_a_long_stop_is_below_and_a_long_target_above(price: Decimal, reference: Decimal) -> None:
    assert sides.protects(BUY, price, reference) == (price < reference)
    assert sides.beyond(BUY, price, reference) == (price > reference)
    assert sides.reached(BUY, price, reference) == (price >= reference)


@given(prices, prices)
def test_a_short_is_the_mirror_of_a_long(price: Decimal, reference: Decimal) -> None:
    assert sides.protects(SELL, price, reference) == (price > reference)
    assert sides.beyond(SELL, price, reference) == (price < reference)
    assert sides.reached(SELL, price, reference) == (price <= reference)
    # mirrored prices swap the sides
    assert sides.protects(SELL, -price, -reference) == sides.protects(BUY, price, reference)
    assert sides.beyond(SELL, -price, -reference) == sides.beyond(BUY, price, reference)


@given(prices, st.sampled_from([BUY, SELL]))
def test_equal_is_neither_protective_nor_beyond_but_reached(price: Decimal, side: str) -> None:
    assert not sides.protects(side, price, price)
    assert not sides.beyond(side, price, price)
    assert sides.reached(side, price, price)


def test_words() -> None:
    assert (sides.stop_where(BUY), sides.stop_where(SELL)) == ("below", "above")
    assert (sides.target_where(BUY), sides.target_where(SELL)) == ("above", "below")
    assert (sides.position_word(BUY), sides.position_word(SELL)) == ("long", "short")
    assert sides.is_long(BUY) and not sides.is_long(SELL)


def test_every_side_rule_goes_through_the_one_module() -> None:
    """The Decision Loop, stop moves, target changes and break-even use ``testudo.sides``."""
    from actors.trading import service, trade_group
    from testudo.risk import order, stop_change, targets
    from testudo.trading import model

    assert order.protects is sides.protects
    assert stop_change.protects is sides.protects
    assert targets.beyond is sides.beyond
    assert service.protects is sides.protects and service.beyond is sides.beyond
    assert trade_group.beyond is sides.beyond
    assert model.reached is sides.reached
