"""The account's actor restarts while a group's stop is on its way: the group reads that as
the plumbing failing, never as the exchange refusing (no emergency exit) and never crashes."""

from __future__ import annotations

import logging

import httpx
import pytest
import trio

from actors.exchanges.plumbing import failure_of
from actors.runtime.errors import (
    ActorCrashed,
    ActorError,
    ActorInterrupted,
    ActorStopped,
    AskTimeout,
)
from api.process import Running
from tests.trading.helpers import binance_trader
from testudo.clock import ManualClock
from testudo.exchanges.failures import FailureKind
from testudo.sim.client import SimClient
from testudo.trading.protection import Response, response_to

from .support import BINANCE, fill_entry, pending_long, wait_protected_or_flat

CUT_OFF: list[ActorError] = [
    ActorInterrupted("cancelled"),
    ActorCrashed("root/exchanges/x", "RuntimeError", "boom"),
    AskTimeout("late"),
]


@pytest.mark.parametrize("write", [True, False])
def test_a_request_the_actor_never_handled_is_transient(write: bool) -> None:
    failure = failure_of(ActorStopped("gone"), write=write)
    assert failure.kind is FailureKind.TRANSIENT and failure.error == "account_unavailable"


@pytest.mark.parametrize("error", CUT_OFF, ids=lambda e: type(e).__name__)
def test_a_write_cut_off_is_looked_up_and_a_read_retried(error: ActorError) -> None:
    assert failure_of(error, write=True).kind is FailureKind.UNKNOWN
    assert failure_of(error, write=False).kind is FailureKind.TRANSIENT


@pytest.mark.parametrize("error", [ActorStopped("gone"), *CUT_OFF], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("role", ["stop_loss", "take_profit", "close"])
def test_the_plumbing_failing_never_fires_an_emergency_exit(error: ActorError, role: str) -> None:
    failure = failure_of(error, write=True)
    response = response_to(role, failure.kind, failure.reason)
    assert response in (Response.LOOKUP, Response.RETRY, Response.REPRICE)


async def test_the_account_restarting_mid_stop_leaves_the_group_protected(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="testudo.supervision")
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(pending_long())
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    # The exchange takes the stop, then holds its answer while the account's actor stops.
    await sim.set_fault(
        "binanceusdm",
        "timeout",
        endpoint=BINANCE.stop_endpoint,
        timeout_ms=1200,
        apply=True,
        count=1,
    )
    await fill_entry(sim)
    with trio.fail_after(20):
        while not await sim.requests("binanceusdm", key=BINANCE.stop_endpoint):  # noqa: ASYNC110
            await trio.sleep(0.02)
    exchanges = exchange_service.system.accounts.supervisor.current
    assert exchanges is not None
    await exchanges.stop_child(f"exchange_account-{trader.account_id}")
    body = await wait_protected_or_flat(sim, trader, BINANCE, group_id)
    assert body["status"] == "active" and not body["closing"], body
    kinds = [e["event_type"] for e in body["events"]]
    assert "emergency_exit" not in kinds, kinds
    crashed = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith(("crash", "escalate"))
    ]
    assert not [m for m in crashed if "trade_group" in m], crashed
