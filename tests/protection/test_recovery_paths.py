"""Recovery paths that nothing else exercises: each test fails when its path is deleted.

* the revoked-session recheck after a listener reconnect (a revocation whose NOTIFY was lost);
* the stream hub's safety poll (an event whose NOTIFY nobody noticed missing);
* the trade-group watchdog (an account actor that forgot its watchers).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psycopg
import trio

from api.process import Running
from tests.auth.helpers import Wallet, sign_in
from tests.realtime.support import connect, seqs, start_service, subscribe, user_channel
from tests.trading.helpers import binance_trader, live_orders, wait_until
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.realtime.settings import RealtimeSettings
from testudo.sim.client import SimClient

from .support import pending_long


async def test_a_revocation_missed_while_the_listener_was_down_is_found_on_reconnect(
    service: Running, http: httpx.AsyncClient, clock: ManualClock, db: Database
) -> None:
    session = await sign_in(http, Wallet(), clock.now())
    me = await http.get("/api/v1/auth/me", headers=session.bearer())
    assert me.status_code == 200  # the session's actor is live and says "valid"
    # Another node revoked the session and died before its NOTIFY: only the database knows.
    await db.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (session.user_id,),
    )
    assert (await http.get("/api/v1/auth/me", headers=session.bearer())).status_code == 200
    killed = await db.fetch_all(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    assert killed and all(row["ok"] for row in killed)
    # The listener reconnects and the router rechecks the live sessions against the table.
    refused = 0
    with trio.fail_after(20):
        while refused == 0:
            await trio.sleep(0.1)
            answer = await http.get("/api/v1/auth/me", headers=session.bearer())
            refused = int(answer.status_code == 401)


async def test_an_event_whose_notify_was_lost_is_delivered_by_the_safety_poll(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = RealtimeSettings(market_data=False, safety_poll_interval=0.5)
    running = await start_service(nursery, db_url, tmp_path / "data", clock, realtime=settings)
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        session = await sign_in(http, Wallet(), clock.now())
    stream = user_channel(session)
    async with connect(running.ws_url, session.bearer()) as ws:
        await subscribe(ws, stream)

        def append_silently() -> None:
            """An event committed with no NOTIFY at all (what a lost NOTIFY looks like)."""
            with psycopg.connect(db_url) as conn:
                conn.execute(
                    "INSERT INTO event_streams (stream, last_seq) VALUES (%s, 1) "
                    "ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + 1",
                    (stream,),
                )
                conn.execute(
                    "INSERT INTO events (stream, seq, payload) SELECT %s, last_seq, %s::jsonb "
                    "FROM event_streams WHERE stream = %s",
                    (stream, json.dumps({"e": "test", "i": 0}), stream),
                )

        await trio.to_thread.run_sync(append_silently)
        assert await seqs(ws, stream, 1) == [1]


async def test_a_group_whose_account_forgot_it_is_watched_again(
    xhttp: httpx.AsyncClient, sim: SimClient, clock: ManualClock, exchange_service: Running
) -> None:
    """The account's actor restarts and forgets its watchers: the group's watchdog notices
    the silence, registers again, and the entry that filled meanwhile gets its stop."""
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    trader = await binance_trader(xhttp, sim, clock)
    created = await trader.post(pending_long())
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    system = exchange_service.system
    key = ("exchange_account", trader.account_id)
    await wait_until(lambda: system.registry.lookup(key) is not None)
    exchanges = system.accounts.supervisor.current
    assert exchanges is not None
    await exchanges.stop_child(f"exchange_account-{trader.account_id}")
    # A new incarnation (nobody watching) answers the next request for the account.
    await xhttp.get(
        f"/api/v1/exchanges/accounts/{trader.account_id}/balance",
        headers=trader.session.bearer(),
    )
    await sim.set_price("BTC_USDT", "49400", freeze=True)
    body = await trader.wait(
        group_id, lambda b: b["status"] == "active" and len(live_orders(b, "stop_loss")) == 1
    )
    assert body["protection"]["state"] == "protected"
