"""Hyperliquid agent wallets, signed with a real eth-account wallet, verified by the simulator."""

from __future__ import annotations

from typing import Any

import ccxt
import httpx
import pytest
import trio
from eth_account import Account

from api.process import Running
from api.testing.venues import sign_typed
from tests.auth.helpers import Wallet, WebSession, sign_in
from testudo.clock import ManualClock
from testudo.exchanges.vault import SealContext
from testudo.sim.client import SimAccount, SimClient, make_hyperliquid


async def init(http: httpx.AsyncClient, user: WebSession, wallet: str) -> httpx.Response:
    return await http.post(
        "/api/v1/exchanges/agent-wallet/init",
        json={"wallet_address": wallet},
        headers=user.bearer(),
    )


async def approve_data(http: httpx.AsyncClient, user: WebSession, account_id: str) -> Any:
    response = await http.post(
        "/api/v1/exchanges/agent-wallet/approve-data",
        json={"account_id": account_id},
        headers=user.bearer(),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def approve(
    http: httpx.AsyncClient, user: WebSession, account_id: str, signature: str, nonce: int
) -> httpx.Response:
    return await http.post(
        "/api/v1/exchanges/agent-wallet/approve",
        json={"account_id": account_id, "signature": signature, "nonce": nonce},
        headers=user.bearer(),
    )


async def approved_account(http: httpx.AsyncClient, user: WebSession, owner: SimAccount) -> str:
    created = await init(http, user, owner.wallet_address)
    assert created.status_code == 201, created.text
    account_id = created.json()["account_id"]
    data = await approve_data(http, user, account_id)
    response = await approve(
        http,
        user,
        account_id,
        sign_typed(data["typed_data"], owner.wallet_private_key),
        data["nonce"],
    )
    assert response.status_code == 200, response.text
    return str(account_id)


async def agent_key(service: Running, account_id: str) -> str:
    row = await service.system.db.fetch_one(
        "SELECT user_id::text AS user_id, secret_enc, key_id FROM exchange_accounts WHERE id = %s",
        (account_id,),
    )
    assert row is not None
    context = SealContext("secret", row["user_id"], account_id, "hyperliquid")
    return service.system.accounts.vault.open(bytes(row["secret_enc"]), row["key_id"], context)


async def test_full_agent_flow(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient, exchange_service: Running
) -> None:
    user_wallet = Wallet()
    user = await sign_in(xhttp, user_wallet, clock.now())
    owner = await sim.create_account("5000")
    first = await init(xhttp, user, owner.wallet_address)
    assert first.status_code == 201
    account_id, agent = first.json()["account_id"], first.json()["agent_address"]
    again = await init(xhttp, user, owner.wallet_address.upper().replace("0X", "0x"))
    assert again.status_code == 200 and again.json()["account_id"] == account_id

    data = await approve_data(xhttp, user, account_id)
    typed = data["typed_data"]
    assert typed["primaryType"] == "HyperliquidTransaction:ApproveAgent"
    assert typed["domain"]["chainId"] == 42161
    assert typed["message"]["hyperliquidChain"] == "Mainnet"
    assert typed["message"]["agentAddress"] == agent and typed["message"]["nonce"] == data["nonce"]

    signature = sign_typed(typed, owner.wallet_private_key)
    ok = await approve(xhttp, user, account_id, signature, data["nonce"])
    assert ok.status_code == 200, ok.text
    listed = (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json()
    account = listed["accounts"][0]
    assert account["status"] == "active" and account["auth_mode"] == "agent_wallet"
    assert account["agent_expires_at"] and account["expiry_warning"] is False

    balance = await xhttp.get(
        f"/api/v1/exchanges/accounts/{account_id}/balance", headers=user.bearer()
    )
    assert balance.status_code == 200, balance.text
    assert balance.json()["balances"][0]["asset"] == "USDC"
    # The agent (not the user's key) can trade: Testudo places an order with it.
    key = await agent_key(exchange_service, account_id)
    as_agent = make_hyperliquid(sim.base_url, owner, agent_key=key)
    order = await trio.to_thread.run_sync(
        lambda: as_agent.create_order("BTC/USDC:USDC", "limit", "buy", 0.001, 30000)
    )
    assert order["id"]

    # The same signed approval again: the nonce is spent.
    replay = await approve(xhttp, user, account_id, signature, data["nonce"])
    assert replay.status_code == 409 and replay.json()["error"] == "already_approved"
    assert (
        await xhttp.post(
            "/api/v1/exchanges/agent-wallet/approve-data",
            json={"account_id": account_id},
            headers=user.bearer(),
        )
    ).status_code == 409

    clock.advance(26 * 24 * 3600)
    user = await sign_in(xhttp, user_wallet, clock.now())  # the old session has expired
    listed = (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json()
    assert listed["accounts"][0]["expiry_warning"] is True


async def test_wrong_signer_is_refused(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    owner = await sim.create_account()
    account_id = (await init(xhttp, user, owner.wallet_address)).json()["account_id"]
    data = await approve_data(xhttp, user, account_id)
    stranger = Account.create()
    forged = sign_typed(data["typed_data"], stranger.key.hex())
    response = await approve(xhttp, user, account_id, forged, data["nonce"])
    assert response.status_code == 401 and response.json()["error"] == "wrong_signer"
    # Tampered message (another nonce) with a real signature: also not the wallet's.
    other = await approve(
        xhttp,
        user,
        account_id,
        sign_typed(data["typed_data"], owner.wallet_private_key),
        data["nonce"] + 1,
    )
    assert other.status_code == 401


async def test_concurrent_second_approval_gets_409(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    owner = await sim.create_account()
    account_id = (await init(xhttp, user, owner.wallet_address)).json()["account_id"]
    data = await approve_data(xhttp, user, account_id)
    signature = sign_typed(data["typed_data"], owner.wallet_private_key)
    statuses: list[int] = []

    async def go() -> None:
        statuses.append(
            (await approve(xhttp, user, account_id, signature, data["nonce"])).status_code
        )

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(go)
    assert sorted(statuses) == [200, 409, 409, 409, 409]


async def test_revoked_agent_cannot_trade(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient, exchange_service: Running
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    owner = await sim.create_account()
    account_id = await approved_account(xhttp, user, owner)
    old_key = await agent_key(exchange_service, account_id)

    revoked = await xhttp.delete(
        f"/api/v1/exchanges/agent-wallet/{account_id}/revoke", headers=user.bearer()
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["requires_reauthorization"] is True
    listed = (await xhttp.get("/api/v1/exchanges/accounts", headers=user.bearer())).json()
    assert listed["accounts"][0]["requires_reauthorization"] is True
    # Testudo no longer has the old key and will not trade with the account.
    assert await agent_key(exchange_service, account_id) != old_key
    blocked = await xhttp.get(
        f"/api/v1/exchanges/accounts/{account_id}/balance", headers=user.bearer()
    )
    assert blocked.status_code == 409 and blocked.json()["error"] == "account_inactive"
    again = await xhttp.delete(
        f"/api/v1/exchanges/agent-wallet/{account_id}/revoke", headers=user.bearer()
    )
    assert again.status_code == 409 and again.json()["error"] == "not_active"

    # Approving the replacement removes the old agent from Hyperliquid.
    data = await approve_data(xhttp, user, account_id)
    response = await approve(
        xhttp,
        user,
        account_id,
        sign_typed(data["typed_data"], owner.wallet_private_key),
        data["nonce"],
    )
    assert response.status_code == 200, response.text
    old_agent = make_hyperliquid(sim.base_url, owner, agent_key=old_key)
    with pytest.raises(ccxt.BaseError):
        await trio.to_thread.run_sync(
            lambda: old_agent.create_order("BTC/USDC:USDC", "limit", "buy", 0.001, 30000)
        )
    new_agent = make_hyperliquid(
        sim.base_url, owner, agent_key=await agent_key(exchange_service, account_id)
    )
    order = await trio.to_thread.run_sync(
        lambda: new_agent.create_order("BTC/USDC:USDC", "limit", "buy", 0.001, 30000)
    )
    assert order["id"]


async def test_agent_wallet_input_errors(
    xhttp: httpx.AsyncClient, clock: ManualClock, sim: SimClient
) -> None:
    user = await sign_in(xhttp, Wallet(), clock.now())
    bad = await init(xhttp, user, "0x1234")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_wallet_address"
    missing = await xhttp.post(
        "/api/v1/exchanges/agent-wallet/approve-data",
        json={"account_id": "00000000-0000-0000-0000-000000000000"},
        headers=user.bearer(),
    )
    assert missing.status_code == 404
    binance_owner = await sim.create_account()
    binance = await xhttp.post(
        "/api/v1/exchanges/accounts",
        headers=user.bearer(),
        json={
            "exchange_name": "binance",
            "api_key": binance_owner.api_key,
            "secret": binance_owner.secret,
        },
    )
    wrong_mode = await xhttp.post(
        "/api/v1/exchanges/agent-wallet/approve-data",
        json={"account_id": binance.json()["id"]},
        headers=user.bearer(),
    )
    assert wrong_mode.status_code == 400 and wrong_mode.json()["error"] == "invalid_auth_mode"
    owner = await sim.create_account()
    account_id = (await init(xhttp, user, owner.wallet_address)).json()["account_id"]
    malformed = await approve(xhttp, user, account_id, "0xnothex", 1)
    assert malformed.status_code == 400
    other = await sign_in(xhttp, Wallet(), clock.now())
    foreign = await xhttp.post(
        "/api/v1/exchanges/agent-wallet/approve-data",
        json={"account_id": account_id},
        headers=other.bearer(),
    )
    assert foreign.status_code == 404
