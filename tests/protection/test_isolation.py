"""Tenant isolation: nothing one user sends can stop, slow or restart another user's actors.

The hostile user's trader is made to crash over and over (an unforeseen crash: a message it
does not understand) while the other user's limit entry fills; that user's stop must be placed
at once, by an actor nobody restarted.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import trio

from actors.runtime.supervision_log import LOGGER_NAME
from api.process import Running
from tests.trading.helpers import binance_trader, live_orders, wait_until
from testudo.clock import ManualClock
from testudo.sim.client import SimClient


def pending_long(**extra: Any) -> dict[str, Any]:
    return {
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": "49500",
        "quantity": "0.01",
        "stop_loss_price": "48500",
        "take_profit": [{"price": "52000"}],
        "leverage": 2,
        **extra,
    }


def supervision(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        r.json_fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == LOGGER_NAME
    ]


async def test_a_crashing_tenant_never_touches_another_users_protection(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    hostile = await binance_trader(xhttp, sim, clock)
    victim = await binance_trader(xhttp, sim, clock)
    assert (
        await hostile.post(pending_long(entry_price="45000", stop_loss_price="44000"))
    ).status_code == 201
    created = await victim.post(pending_long())
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]

    system = exchange_service.system
    trader = system.registry.lookup(("trader", hostile.session.user_id))
    assert trader is not None
    for _ in range(12):  # a crash loop well past any restart budget
        trader.send_nowait("a message no trader understands")
    await trio.sleep(0.3)  # the loop runs: crash, restart, crash ...

    await sim.set_price("BTC_USDT", "49400", freeze=True)  # the victim's entry fills
    body = await victim.wait(
        group_id, lambda b: b["status"] == "active" and len(live_orders(b, "stop_loss")) == 1
    )
    assert live_orders(body, "stop_loss")[0]["trigger_price"] == "48500"

    hostile_path = f"root/trades/user-{hostile.session.user_id}/trader-{hostile.session.user_id}"
    # ... until the trader exhausts its own budget and is parked
    await wait_until(lambda: "escalate" in [e["event"] for e in supervision(caplog)])
    lines = supervision(caplog)
    hostile_events = [e["event"] for e in lines if e["actor"] == hostile_path]
    assert hostile_events.count("crash") >= 6 and "escalate" in hostile_events
    victim_prefix = f"root/trades/user-{victim.session.user_id}"
    victim_events = [e["event"] for e in lines if e["actor"].startswith(victim_prefix)]
    assert victim_events and set(victim_events) == {"start"}  # never restarted or stopped
    # Nothing above the hostile trader noticed.
    shared = [e for e in lines if e["actor"] in ("root", "root/trades") and e["event"] != "start"]
    assert shared == []


@pytest.mark.parametrize("restarted", ["user", "trades"])
async def test_a_restarted_supervisor_adopts_the_live_groups(
    xhttp: httpx.AsyncClient,
    sim: SimClient,
    clock: ManualClock,
    exchange_service: Running,
    restarted: str,
) -> None:
    """A user's subtree, or the whole trades supervisor, that restarts brings back every
    live group it held; an entry that filled meanwhile gets its stop."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    user = await binance_trader(xhttp, sim, clock)
    created = await user.post(pending_long())
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    system = exchange_service.system
    if restarted == "user":
        supervisor = await system.trades.tenant(user.session.user_id)
    else:
        supervisor = system.trades.supervisor
    incarnation = supervisor.current
    assert incarnation is not None
    await incarnation.stop()  # the whole subtree stops (its groups with it) ...
    await sim.set_price("BTC_USDT", "49400", freeze=True)  # ... while the entry fills
    await wait_until(lambda: supervisor.current not in (None, incarnation))
    body = await user.wait(
        group_id, lambda b: b["status"] == "active" and len(live_orders(b, "stop_loss")) == 1
    )
    assert body["position_quantity"] == "0.01"
    assert system.registry.lookup(("trade_group", group_id)) is not None
