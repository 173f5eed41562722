"""docs/trading.md states the numbers the code uses (a doc that drifted contradicts itself
sooner or later): lookups, timeouts, slippage, the break-even offset, the poll intervals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from actors.trading.service import DESCRIBE_TIMEOUT
from actors.trading.trade_group import DEFAULT_CLOSE_SLIPPAGE, LOOKUPS_BEFORE_NOT_FOUND
from testudo.trading.model import BREAK_EVEN_FEE_OFFSET

DOC = (Path(__file__).resolve().parents[2] / "docs" / "trading.md").read_text()
TEXT = " ".join(DOC.split())  # line breaks do not matter


def test_the_numbers_are_the_codes() -> None:
    assert LOOKUPS_BEFORE_NOT_FOUND == 3 and TEXT.count("three lookups") >= 3
    assert DESCRIBE_TIMEOUT == 1.0 and "at most 1 s for a busy one" in TEXT
    assert Decimal("0.05") == DEFAULT_CLOSE_SLIPPAGE and "default 0.05 = 5 %" in TEXT
    assert Decimal("0.001") == BREAK_EVEN_FEE_OFFSET and "plus 0.1 % (two taker fees)" in TEXT


def test_no_always_that_the_timeout_contradicts() -> None:
    # A busy actor is read from the database after 1 s: nothing "always" shows the 201.
    assert "always show what the 201 showed" not in TEXT
    assert "always shows what a 201 showed" not in TEXT


def test_an_entry_is_never_retried_after_a_refusal() -> None:
    assert (
        "an entry is not retried (the group ends `failed`; a 429 answers the request with 429)"
        in TEXT
    )
    assert "an entry is not (the group ends `failed`, as above)" in TEXT
