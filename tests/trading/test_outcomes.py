"""The outcomes of creating a trade: kept with an idempotency key (stored as JSON and read
back unchanged), and turned into HTTP only by the API."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, strategies as st

from api.problems import answer_of
from api.trades import answer_to
from testudo.problems import Problem, problem
from testudo.trading.outcomes import (
    AwaitingReconciliation,
    Created,
    TradeOutcome,
    outcome_json,
    outcome_of,
)

names = st.text(min_size=1, max_size=8)
values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
members = st.dictionaries(names, values, max_size=4)
outcomes: st.SearchStrategy[TradeOutcome] = st.one_of(
    st.builds(Created, members),
    st.builds(AwaitingReconciliation, names, members),
    st.builds(
        Problem,
        st.sampled_from(["risk_rejected", "entry_rejected", "exchange_rate_limited"]),
        st.text(max_size=20),
        members,
        retry_after=st.none() | st.integers(min_value=0, max_value=3600),
        malformed=st.booleans(),
    ),
)


@given(outcomes)
def test_a_stored_outcome_reads_back_unchanged(outcome: TradeOutcome) -> None:
    stored = json.loads(json.dumps(outcome_json(outcome)))
    assert outcome_json(outcome_of(stored)) == outcome_json(outcome)  # (problems: identity eq)
    assert type(outcome_of(stored)) is type(outcome)
    assert answer_to(outcome_of(stored)) == answer_to(outcome)


def test_each_outcome_has_its_answer() -> None:
    group = {"id": "g", "status": "active"}
    created = answer_to(Created(group))
    assert (created.status, created.body, created.headers) == (201, group, {})
    waiting = answer_to(AwaitingReconciliation("g", {"decision_id": "d", "warnings": []}))
    assert waiting.status == 202
    assert waiting.body == {
        "id": "g", "status": "awaiting_reconciliation", "decision_id": "d", "warnings": [],
    }  # fmt: skip
    limited = problem("exchange_rate_limited", "wait", retry_after=4, group_id="g")
    assert answer_to(limited) == answer_of(limited)
    assert answer_to(limited).headers == {"Retry-After": "4"}


def test_an_unknown_stored_outcome_is_refused() -> None:
    try:
        outcome_of({"outcome": "teleported"})
    except ValueError as error:
        assert "teleported" in str(error)
    else:
        raise AssertionError("an unknown outcome was read")
