"""Server start-up, the control API, the CLI entry points and the ccxt URL rewrite."""

from __future__ import annotations

import argparse
import socket
from decimal import Decimal as D

import ccxt
import pytest
import trio

from testudo.sim import cli
from testudo.sim.client import SimAccount, SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.server import create_app, serve_simulator
from testudo.sim.simulator import SimConfig, Simulator
from testudo.sim.wiring import point_ccxt_at


async def test_port_zero_binds_a_free_port_and_reports_it(sim: SimClient) -> None:
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert not sim.base_url.endswith(":0")
    index = await sim.http.get("/")
    assert index.json()["exchanges"] == [
        "binance",
        "binanceusdm",
        "bybit",
        "hyperliquid",
        "okx",
        "woo",
    ]
    unknown = await sim.http.get("/kraken/0/public/Time")
    assert unknown.status_code == 404


async def test_busy_port_raises_before_starting() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        async with trio.open_nursery() as nursery:
            with pytest.raises(OSError):
                await nursery.start(serve_simulator, SimConfig(port=port, walk_interval_s=None))


async def test_random_walk_runs_in_the_server(nursery: trio.Nursery) -> None:
    handle = await nursery.start(serve_simulator, SimConfig(port=0, walk_interval_s=0.01))
    with trio.fail_after(10):
        while handle.simulator.feed.steps < 3:  # noqa: ASYNC110 - polls state owned by the server
            await trio.sleep(0.01)
    assert handle.simulator.feed.steps >= 3


async def test_control_api_is_loopback_only() -> None:
    app = create_app(Simulator(SimConfig(clock=ManualClock())))
    client = app.test_client()
    remote = await client.get("/_sim/health", scope_base={"client": ("10.0.0.7", 40000)})
    assert remote.status_code == 403
    local = await client.get("/_sim/health", scope_base={"client": ("127.0.0.1", 40000)})
    assert (local.status_code, await local.get_json()) == (200, {"status": "ok"})
    ipv6 = await client.get("/_sim/health", scope_base={"client": ("::1", 40000)})
    assert ipv6.status_code == 200
    exchange = await client.get(
        "/binanceusdm/fapi/v1/time", scope_base={"client": ("10.0.0.7", 40000)}
    )
    assert exchange.status_code == 200


async def test_accounts_prices_and_state(sim: SimClient) -> None:
    created = await sim.http.post(
        "/_sim/accounts", json={"balance": "2500.5", "permissions": {"enableWithdrawals": True}}
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) >= {"api_key", "secret", "wallet_address", "wallet_private_key"}
    assert body["permissions"]["enableWithdrawals"] is True
    accounts = (await sim.http.get("/_sim/accounts")).json()
    assert body["api_key"] in {a["api_key"] for a in accounts}
    moved = await sim.set_price("ETH_USDT", "3123.456", freeze=True)
    assert moved["marks"] == {
        "binance": "3123.46",
        "hyperliquid": "3123.5",
        "okx": "3123.46",
        "woo": "3123.46",
        "bybit": "3123.46",
    }
    assert moved["frozen"] is True
    walked = await sim.step(3)
    assert walked["prices"]["ETH_USDT"]["price"] == "3123.456"
    assert walked["prices"]["BTC_USDT"]["price"] != "50000"
    state = (
        await sim.http.get("/_sim/state", params={"wallet_address": body["wallet_address"]})
    ).json()
    assert state["venues"]["hyperliquid"]["balance"]["wallet"] == "2500.5"
    assert state["venues"]["binance"]["settle"] == "USDT"
    assert state["venues"]["hyperliquid"]["settle"] == "USDC"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sim/prices", {"symbol": "DOGE_USDT", "price": "1"}, 404),
        ("POST", "/_sim/prices", {"symbol": "BTC_USDT", "price": "cheap"}, 400),
        ("POST", "/_sim/prices", {"symbol": "BTC_USDT", "price": "-1"}, 400),
        ("POST", "/_sim/accounts", {"balance": "-5"}, 400),
        ("POST", "/_sim/accounts", {"permissions": {"enableWithdrawals": "yes"}}, 400),
        ("POST", "/_sim/history", {"fills": 10}, 400),
        ("POST", "/_sim/history", {"api_key": "nobody", "fills": 10}, 404),
        ("POST", "/_sim/faults", {"mode": "explode"}, 400),
        ("POST", "/_sim/walk", {"steps": -1}, 400),
        ("GET", "/_sim/nothing", None, 404),
    ],
)
async def test_control_api_validation(
    sim: SimClient, method: str, path: str, body: object, status: int
) -> None:
    response = await sim.http.request(method, path, json=body)
    assert response.status_code == status
    assert "error" in response.json()


async def test_history_endpoint_and_state_of_fills(sim: SimClient, account: SimAccount) -> None:
    assert await sim.generate_history(account, fills=1200, days=30, seed=5) == 1200
    state = await sim.state(account, fills=5)
    binance = state["venues"]["binance"]
    assert binance["fills_total"] == 1200 and len(binance["fills"]) == 5
    assert binance["positions"] == [] or all(
        p["size"] in ("0", "0.000") for p in binance["positions"]
    )
    assert state["venues"]["hyperliquid"]["fills_total"] == 0
    rules = await sim.set_fault("hyperliquid", "latency", latency_ms=5)
    assert rules[0]["mode"] == "latency"
    await sim.clear_faults()
    assert (await sim.http.get("/_sim/faults")).json() == {"rules": []}


def test_point_ccxt_at_rewrites_every_api_url() -> None:
    binance = ccxt.binanceusdm()
    point_ccxt_at(binance, "http://127.0.0.1:8090/")
    api = binance.urls["api"]
    assert api["fapiPrivate"] == "http://127.0.0.1:8090/binanceusdm/fapi/v1"
    assert api["sapi"] == "http://127.0.0.1:8090/binanceusdm/sapi/v1"
    assert all(url.startswith("http://127.0.0.1:8090/binanceusdm/") for url in api.values())
    assert binance.exceptions["exact"]["-2019"] is ccxt.InsufficientFunds
    hyperliquid = ccxt.hyperliquid()
    point_ccxt_at(hyperliquid, "http://127.0.0.1:8090")
    assert hyperliquid.urls["api"] == {
        "public": "http://127.0.0.1:8090/hyperliquid",
        "private": "http://127.0.0.1:8090/hyperliquid",
    }


def test_cli_arguments_and_port_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.sim_host, args.sim_port, args.seed) == ("127.0.0.1", 8090, 0)
    monkeypatch.setenv("TESTUDO_SIM_PORT", "9191")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert parser.parse_args(["--seed", "4"]).sim_port == 9191


def test_cli_run_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = argparse.Namespace(
            sim_host="127.0.0.1", sim_port=busy.getsockname()[1], seed=0, walk_interval=0
        )
        assert cli.run(args) == 1
    assert "cannot listen" in capsys.readouterr().err


async def test_banner_names_urls_and_the_seeded_demo_account(nursery: trio.Nursery) -> None:
    first = await nursery.start(serve_simulator, SimConfig(port=0, seed=11, walk_interval_s=None))
    second = await nursery.start(serve_simulator, SimConfig(port=0, seed=11, walk_interval_s=None))
    text = cli.banner(first)
    assert first.exchange_url("binanceusdm") in text and first.demo.api_key in text
    assert first.exchange_url("okx") in text and first.demo.passphrase in text
    assert first.demo.passphrase == second.demo.passphrase
    assert first.exchange_url("woo") in text and first.exchange_url("bybit") in text
    assert first.demo.wallet_private_key == second.demo.wallet_private_key
    demo = SimAccount(
        first.demo.account_id,
        first.demo.api_key,
        first.demo.secret,
        first.demo.wallet_address,
        first.demo.wallet_private_key,
    )
    client = SimClient(first, None)  # type: ignore[arg-type]
    balance = await trio.to_thread.run_sync(client.binance(demo).fetch_balance)
    assert D(str(balance["USDT"]["total"])) == D("10000")
