"""Schemathesis over every operation of /openapi.json, from a worker thread (the service runs
in the test's trio loop, schemathesis calls it with blocking HTTP).

Checked for every generated request: no 5xx, no hang (a per-request timeout), and nothing that
contradicts what the document declares (the body's schema and the content type of the
response). Every status is documented (each operation's own, then ``default``: a problem), so
every answer's body is held to a schema.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SESSION_ENDERS = ("/auth/logout", "/auth/revoke-all")
REQUEST_TIMEOUT = 15  # seconds: a hang becomes a failure, never a performance bound


@attrs.define
class FuzzReport:
    operations: list[str] = attrs.Factory(list)
    calls: int = 0
    failures: list[str] = attrs.Factory(list)
    statuses: dict[int, int] = attrs.Factory(dict)
    seconds: float = 0.0


def _operation_test(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    report: FuzzReport,
    examples: int,
) -> Callable[[], None]:
    session = requests.Session()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure text is enough
    )
    @given(case=operation.as_strategy(mode, headers=headers))
    def run(case: Any) -> None:
        report.calls += 1
        try:
            response = case.call(
                base_url=base_url, session=session, headers=headers, timeout=REQUEST_TIMEOUT
            )
        except requests.Timeout:
            report.failures.append(f"{operation.label}: no answer in {REQUEST_TIMEOUT}s (hang)")
            return
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as failure:
            report.failures.append(f"{operation.label} ({mode.value}): {str(failure)[:800]}")

    return run


def fuzz(spec: dict[str, Any], base_url: str, headers: dict[str, str], examples: int) -> FuzzReport:
    """Run ``examples`` generated requests against every operation of ``spec``."""
    report = FuzzReport()
    began = time.monotonic()
    schema = schemathesis.openapi.from_dict(spec)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.path.endswith(SESSION_ENDERS), op.label),
    )
    for operation in operations:  # the ones that end the session last
        report.operations.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _operation_test(operation, mode, base_url, headers, report, examples)()
            except Unsatisfiable:
                # nothing to make invalid (no parameters, no body): positive cases only
                assert mode is GenerationMode.NEGATIVE, operation.label
    report.seconds = time.monotonic() - began
    return report
