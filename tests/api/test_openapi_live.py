"""Every answer of the real service matches what ``/openapi.json`` declares for it.

One tour (``tests/api/openapi_calls.py``) drives each operation's happy path and some error
paths through the running service, signed in through real SIWE, trading on the simulator.
"""

from __future__ import annotations

import httpx

from api.process import Running
from tests.auth.helpers import Wallet
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .openapi_calls import (
    Tour,
    agent_wallet_part,
    analytics_part,
    auth_part,
    closing_part,
    exchanges_part,
    journal_part,
    public_part,
    rest_part,
    trades_part,
)
from .openapi_conformance import violations


async def tour_everything(http: httpx.AsyncClient, sim: SimClient, clock: ManualClock) -> Tour:
    tour = Tour(http)
    await public_part(tour)
    await auth_part(tour, Wallet(), clock)
    account_id = await exchanges_part(tour, sim)
    await agent_wallet_part(tour, sim)
    await trades_part(tour, account_id)
    journal = await http.get("/api/v1/journal/trades", headers=tour.headers)
    await journal_part(tour, journal.json()["trades"][0]["id"])  # the trade just closed
    await analytics_part(tour)
    await rest_part(tour, account_id)
    await closing_part(tour, account_id)
    return tour


async def test_every_answer_matches_the_document(
    xhttp: httpx.AsyncClient, exchange_service: Running, sim: SimClient, clock: ManualClock
) -> None:
    document = (await xhttp.get("/openapi.json")).json()
    tour = await tour_everything(xhttp, sim, clock)
    problems = [line for call in tour.calls for line in violations(document, call)]
    assert problems == [], "\n".join(problems)
    declared = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    succeeded = {(c.method, c.template) for c in tour.calls if c.status < 300}
    assert declared - succeeded == set(), "operations the tour never ran successfully"
    assert {c.status for c in tour.calls} >= {200, 201, 202, 204, 401, 403, 404, 409, 415, 422}
