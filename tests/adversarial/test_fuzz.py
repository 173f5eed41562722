"""Schemathesis over the whole API with an authenticated user (bounded: runs in `make test`)."""

from __future__ import annotations

import functools
import os

import httpx
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from testudo.clock import ManualClock

from .fuzz import fuzz

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("TESTUDO_FUZZ_EXAMPLES", "5"))


async def test_every_operation_answers_without_5xx_hang_or_schema_violation(
    service: Running, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    spec = (await http.get("/openapi.json")).json()
    report = await trio.to_thread.run_sync(
        functools.partial(fuzz, spec, service.http_url, session.bearer(), EXAMPLES)
    )
    assert len(report.operations) >= 40, report.operations
    assert report.calls >= len(report.operations)
    assert report.failures == [], "\n".join(report.failures[:20])
    print(
        f"\nfuzz: {len(report.operations)} operations, {report.calls} requests,"
        f" {report.seconds:.1f} s, statuses {dict(sorted(report.statuses.items()))}"
    )
