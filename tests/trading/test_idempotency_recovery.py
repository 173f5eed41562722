"""A crash between the exchange's acceptance of an entry and the answer to ``POST /trades``:
a retry with the same ``Idempotency-Key`` gets the recovered group (201, the same group, one
order on the exchange), not "still in progress" for 24 hours.

Real processes: the service is killed with SIGKILL while the entry's request is on its way to
the exchange (the simulator holds its answer back), then started again on the same database.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import httpx
import psycopg
import trio

from tests.protection.support import link_binance, pending_long
from tests.protection.test_kill9 import Clock, listening_url, service_process
from testudo.sim.client import SimClient

KEY = {"Idempotency-Key": "retry-after-crash-1"}


def market_long() -> dict[str, Any]:
    return pending_long(order_type="market", entry_price=None, take_profit=[{"price": "53500"}])


def group_recorded(db_url: str) -> bool:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM trade_groups WHERE idempotency_key = %s",
            (KEY["Idempotency-Key"],),
        ).fetchone()
    return bool(row and row[0])


async def test_a_retry_after_a_crash_gets_the_recovered_group(
    db_url: str, tmp_path: Path, sim: SimClient
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    data_dir = tmp_path / "data"
    with service_process(db_url, data_dir, sim.base_url, tmp_path / "first.log") as first:
        url = await trio.to_thread.run_sync(listening_url, first, tmp_path / "first.log")
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            trader = await link_binance(http, sim, Clock())
            # The exchange carries the entry out but answers only after the service is gone.
            await sim.set_fault(
                "binanceusdm",
                "timeout",
                endpoint="POST /fapi/v1/order",
                timeout_ms=10_000,
                apply=True,
                count=1,
            )

            async def post() -> None:
                with contextlib.suppress(httpx.HTTPError):  # the service dies under it
                    await trader.post(market_long(), **KEY)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(post)
                with trio.fail_after(20):
                    while not await sim.requests("binanceusdm", key="POST /fapi/v1/order"):  # noqa: ASYNC110
                        await trio.sleep(0.05)
                await trio.sleep(0.2)  # the exchange has the entry; its answer is held back
                assert await trio.to_thread.run_sync(group_recorded, db_url)
                first.kill()
    with service_process(db_url, data_dir, sim.base_url, tmp_path / "second.log") as second:
        url = await trio.to_thread.run_sync(listening_url, second, tmp_path / "second.log")
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            trader.http = http
            retried = await trader.post(market_long(), **KEY)
            assert retried.status_code == 201, retried.text
            group_id = retried.json()["id"]
            again = await trader.post(market_long(), **KEY)
            assert again.status_code == 201 and again.json()["id"] == group_id
            listed = await http.get("/api/v1/trades", headers=trader.session.bearer())
            assert [g["id"] for g in listed.json()["trades"]] == [group_id]
        second.terminate()
    state = await sim.state(trader.account)
    fills = [f for f in state["venues"]["binance"]["fills"] if f["side"] == "BUY"]
    assert len(fills) == 1  # one entry on the exchange, never a second
