"""Two nodes on one database: each user's actors live once, on the node that owns the user;
requests reaching the other node are forwarded there, so per-user rules hold cluster-wide."""

from __future__ import annotations

from pathlib import Path

import attrs
import httpx
import trio

from tests.trading.helpers import Trader, binance_trader
from tests.trading.test_lifecycles import exchange_orders, pending_body
from testudo.clock import ManualClock
from testudo.sim.client import SimClient

from .support import Node, cluster


def actor_keys(node: Node) -> set[tuple[str, str]]:
    return {k for k in node.running.system.registry.running() if isinstance(k, tuple)}


def spread(trader: Trader, nodes: list[Node]) -> list[Trader]:
    """The same user talking to every node (a load balancer spreading its requests)."""
    return [attrs.evolve(trader, http=node.http) for node in nodes]


async def test_a_users_actors_live_once_and_other_nodes_forward_to_them(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    async with cluster(nursery, db_url, tmp_path, sim, clock) as nodes:
        owner, other = nodes
        trader = await binance_trader(owner.http, sim, clock)  # signed in, linked on node 0
        via_other = attrs.evolve(trader, http=other.http)
        created = await via_other.post(pending_body())  # node 1 forwards it
        assert created.status_code == 201, created.text
        group_id = created.json()["id"]
        user = trader.session.user_id
        expected = {("trader", user), ("trade_group", group_id)}
        expected.add(("exchange_account", trader.account_id))
        assert expected <= actor_keys(owner)
        assert not expected & actor_keys(other)
        # the token issued by node 0 works on node 1, for forwarded and local routes alike
        assert (await via_other.group(group_id))["id"] == group_id
        risk = await other.http.get("/api/v1/risk-config", headers=trader.session.bearer())
        assert risk.status_code == 200, risk.text
        ready = [(await n.http.get("/api/v1/health/ready")).json() for n in nodes]
        assert [r["node"]["leases"] for r in ready] == [1, 0]
        assert all(r["cluster"] for r in ready)
        assert ready[0]["node"]["id"] != ready[1]["node"]["id"]
        metrics = (await owner.http.get("/metrics")).text
        assert "testudo_cluster_leases_held" in metrics
        assert "testudo_cluster_node_info{" in metrics


async def test_twenty_concurrent_trades_over_two_nodes_open_exactly_five(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    async with cluster(nursery, db_url, tmp_path, sim, clock) as nodes:
        trader = await binance_trader(nodes[1].http, sim, clock, balance="100000")
        doors = spread(trader, nodes)
        statuses: list[int] = []

        async def one(i: int) -> None:
            response = await doors[i % 2].post(pending_body(entry_price=str(40000 - i)))
            statuses.append(response.status_code)
            if response.status_code == 422:
                checks = [c["code"] for c in response.json()["failed_checks"]]
                assert "max_open_positions" in checks

        async with trio.open_nursery() as inner:
            for i in range(20):
                inner.start_soon(one, i)
        assert sorted(statuses) == [201] * 5 + [422] * 15
        entries = [o for o in await exchange_orders(sim, trader) if o["type"] == "limit"]
        assert len(entries) == 5


async def test_a_hundred_duplicates_over_two_nodes_open_one_group_and_one_order(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    async with cluster(nursery, db_url, tmp_path, sim, clock) as nodes:
        trader = await binance_trader(nodes[0].http, sim, clock)
        doors = spread(trader, nodes)
        body = pending_body(idempotency_key="cluster-dup-1")
        responses: list[httpx.Response] = []

        async def one(i: int) -> None:
            responses.append(await doors[i % 2].post(body))

        async with trio.open_nursery() as inner:
            for i in range(100):
                inner.start_soon(one, i)
        assert {r.status_code for r in responses} == {201}
        assert len({r.json()["id"] for r in responses}) == 1
        groups = await nodes[1].running.system.db.fetch_all("SELECT id FROM trade_groups")
        assert len(groups) == 1
        entries = [o for o in await exchange_orders(sim, trader) if o["type"] == "limit"]
        assert len(entries) == 1


async def test_a_node_that_loses_its_leases_stops_the_users_actors_and_can_take_them_again(
    nursery: trio.Nursery, db_url: str, tmp_path: Path, sim: SimClient, clock: ManualClock
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    async with cluster(nursery, db_url, tmp_path, sim, clock, size=1) as nodes:
        (node,) = nodes
        trader = await binance_trader(node.http, sim, clock)
        created = await trader.post(pending_body())
        assert created.status_code == 201, created.text
        group_id = created.json()["id"]
        users_actors = {
            ("trader", trader.session.user_id),
            ("trade_group", group_id),
            ("exchange_account", trader.account_id),
        }
        assert users_actors <= actor_keys(node)
        await node.running.system.leases.lose_all("lease expired")  # what a pause leads to
        assert not users_actors & actor_keys(node)
        # the next renewal confirms the node; a request takes the user again, groups and all
        await trio.sleep(node.running.system.settings.cluster.renew_interval * 2)
        assert node.running.system.leases.alive()
        assert (await trader.group(group_id))["status"] == "pending"
        assert ("trade_group", group_id) in actor_keys(node)
