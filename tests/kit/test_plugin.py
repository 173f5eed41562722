"""The scenario kit: its installation, its venues, its signed-in client and its stream."""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points, requires
from types import ModuleType
from typing import Any

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
    assert plugins.get("testudo") == "api.testing.pytest_entry"
    testing = [r for r in requires("testudo") or [] if 'extra == "testing"' in r]
    assert any(r.startswith("pytest-trio") for r in testing), testing


def fresh_entry_module() -> ModuleType:
    """A new copy of the entry point module (the registered one stays as it is)."""
    from api.testing import pytest_entry

    spec = importlib.util.spec_from_file_location("entry_copy", pytest_entry.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_entry_point_loads_the_fixtures_when_the_extra_is_installed() -> None:
    entry = fresh_entry_module()
    assert entry.pytest_plugins == ["api.testing.plugin"]
    assert entry.pytest_report_header() is None


def test_without_the_extra_the_entry_point_adds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "pytest_trio" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    entry = fresh_entry_module()
    assert entry.pytest_plugins == []
    assert "pytest_trio missing" in entry.pytest_report_header()


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
