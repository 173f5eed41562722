"""The one table of statuses: every problem code the packages raise or return has its status in
``api/problems.py``, and below ``api/`` no problem carries an HTTP status."""

from __future__ import annotations

import ast
from pathlib import Path

from api.problems import STATUS, answer_of, status_of
from testudo.exchanges.errors import ExchangeFailure
from testudo.problems import Problem, malformed, problem

ROOT = Path(__file__).resolve().parents[2]
MAKERS = {"Problem", "problem", "malformed", "ExchangeFailure", "ImageRejected"}


def _codes() -> dict[str, list[str]]:
    """Every literal code given to a problem maker, with where."""
    found: dict[str, list[str]] = {}
    for package in ("testudo", "actors", "api"):
        for path in (ROOT / package).rglob("*.py"):
            if "sim" in path.relative_to(ROOT).parts:
                continue  # the simulator speaks the venues' errors, not ours
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else None
                first = node.args[0]
                if name in MAKERS and isinstance(first, ast.Constant):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(str(first.value), []).append(where)
    return found


def test_every_code_raised_has_a_status() -> None:
    codes = _codes()
    assert len(codes) > 40  # the scan sees the packages
    missing = {code: where for code, where in codes.items() if code not in STATUS}
    assert missing == {}


def test_no_problem_below_the_api_is_given_a_status() -> None:
    for package in ("testudo", "actors"):
        for path in (ROOT / package).rglob("*.py"):
            if "sim" in path.relative_to(ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in MAKERS
                    and node.args
                ):
                    first = node.args[0]
                    status = isinstance(first, ast.Constant) and type(first.value) is int
                    assert not status, f"{path}:{node.lineno}"


def test_statuses_come_from_the_table() -> None:
    assert status_of(problem("group_closed", "closed")) == 409
    assert status_of(ExchangeFailure("rate_limited", "slow down", retry_after=3)) == 429
    # the same code, malformed or refused
    assert status_of(malformed("invalid_signature", "not hex")) == 400
    assert status_of(Problem("invalid_signature", "does not match")) == 401


def test_a_trade_answer_keeps_extra_members_and_retry_after() -> None:
    found = problem("exchange_rate_limited", "wait", retry_after=4, group_id="g", retry_after_s=4)
    answer = answer_of(found)
    assert answer.status == 429 and answer.headers == {"Retry-After": "4"}
    assert list(answer.body) == [
        "type", "title", "status", "detail", "error", "group_id", "retry_after_s",
    ]  # fmt: skip
    assert answer.body["title"] == "Too Many Requests"
