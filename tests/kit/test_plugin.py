"""The scenario kit: its installation, its venues, its signed-in client and its stream."""

from __future__ import annotations

from importlib.metadata import entry_points, requires

import pytest
import trio

from api.process import Running
from api.testing import (
    Desk,
    EventStream,
    UnexpectedStatus,
    UnknownVenue,
    Venue,
    open_trader,
    scenario_venues,
    venue_named,
)
from api.testing.venues import credentials
from testudo.exchanges import catalog
from testudo.realtime import events as realtime_events
from testudo.sim.client import SimAccount, SimClient

ACCOUNT = SimAccount(1, "key-1", "secret-1", "0xabc", "0xdef", passphrase="phrase-1")


def test_the_plugin_is_an_installed_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("testudo") == "api.testing.plugin"
    testing = [r for r in requires("testudo") or [] if 'extra == "testing"' in r]
    assert any(r.startswith("pytest-trio") for r in testing), testing


def test_the_venues_are_the_catalogs_simulated_exchanges() -> None:
    assert scenario_venues() == tuple(sorted(catalog.SIMULATED))
    assert venue_named("binance").prefix == "binanceusdm"
    assert venue_named("BINANCEUSDM").engine == "binance"
    with pytest.raises(UnknownVenue, match="choose from"):
        venue_named("nope")


def test_credentials_follow_the_catalog() -> None:
    okx = Venue(catalog.BY_ID["okx"])  # a passphrase venue, simulated or not
    assert credentials(okx, ACCOUNT) == {
        "exchange_name": "okx",
        "api_key": "key-1",
        "secret": "secret-1",
        "passphrase": "phrase-1",
    }
    binance = credentials(venue_named("binance"), ACCOUNT)
    assert "passphrase" not in binance and binance["api_key"] == "key-1"


async def test_every_simulated_venue_links_an_account(desk: Desk, sim: SimClient) -> None:
    linked = {}
    for name in scenario_venues():
        trader = await open_trader(desk, sim, venue_named(name))
        linked[trader.account_id] = name
    listed = await desk.get("/api/v1/exchanges/accounts")
    assert {row["id"]: row["exchange_name"] for row in listed["accounts"]} == linked


async def test_desk_raises_with_the_problem_document(desk: Desk) -> None:
    me = await desk.get("/api/v1/auth/me")
    assert me["user"]["id"] == desk.user_id
    assert me["user"]["wallet_address"].lower() == desk.wallet.address.lower()
    with pytest.raises(UnexpectedStatus, match="404"):
        await desk.get("/api/v1/trades/00000000-0000-0000-0000-000000000000")


async def test_the_stream_yields_and_counts_events(
    exchange_service: Running, desk: Desk, events: EventStream
) -> None:
    stream = f"order.{desk.user_id}"
    for i in range(3):
        await exchange_service.system.db.run(
            lambda conn, i=i: realtime_events.publish(conn, stream, {"e": "probe", "i": i})
        )
    first = await anext(events)
    assert (first.stream, first.name, first.channel, first.data["i"]) == (
        stream,
        "probe",
        "order",
        0,
    )
    third = await events.wait_for("probe", count=3)  # counts the one already read
    assert third.data["i"] == 2 and events.names() == ["probe"] * 3
    assert (await events.wait_for("probe", count=2)).data["i"] == 1  # seen before: no wait
    with pytest.raises(AssertionError, match=r"never arrived; seen: \['probe'"):
        await events.wait_for("other", timeout=0.3)
    with trio.move_on_after(0.3):
        async for event in events:
            raise AssertionError(f"nothing more was published, got {event}")
