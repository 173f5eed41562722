"""Hyperliquid agent wallets: the flow (init, approval data, approval, revocation) through the
accounts service. The EIP-712 typed data and the agent's name are built by
:mod:`testudo.exchanges.agent_wallets`; see its docstring for the whole flow.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import trio
from eth_account import Account

from actors.exchanges.service import AccountsService
from testudo.db.database import Conn
from testudo.exchanges import catalog
from testudo.exchanges.accounts import AccountView
from testudo.exchanges.agent_wallets import (
    ACTIVATE,
    CLAIM_NONCE,
    FIND_AGENT_ACCOUNT,
    INSERT_AGENT_ACCOUNT,
    MAINNET,
    QUEUE_IMPORT,
    REPLACE_AGENT,
    SET_NONCE,
    SIGNATURE,
    WALLET,
    Network,
    agent_name,
    approve_agent_typed_data,
    recover_signer,
)
from testudo.exchanges.errors import ExchangeFailure, failure_from
from testudo.exchanges.vault import SealContext
from testudo.problems import Problem, malformed


class AgentWallets:
    def __init__(self, accounts: AccountsService, network: Network = MAINNET) -> None:
        self.accounts = accounts
        self.network = network
        self._last_nonce = 0

    def _next_nonce(self) -> int:
        """Milliseconds since the epoch, strictly increasing (Hyperliquid refuses repeats)."""
        now_ms = int(self.accounts.clock.now().timestamp() * 1000)
        self._last_nonce = max(now_ms, self._last_nonce + 1)
        return self._last_nonce

    async def _agent_account(self, user_id: str, account_id: str) -> AccountView:
        account = await self.accounts.get(user_id, account_id)
        if account is None:
            raise Problem("not_found", "No such account.")
        if account.auth_mode != "agent_wallet":
            raise malformed("invalid_auth_mode", "This account is not an agent wallet.")
        return account

    async def init(self, user_id: str, wallet_address: str) -> tuple[AccountView, bool]:
        """The user's agent-wallet account for ``wallet_address``; True when created now."""
        if not WALLET.match(wallet_address):
            raise malformed(
                "invalid_wallet_address",
                "wallet_address must be 0x followed by 40 hex digits.",
            )
        wallet = wallet_address.lower()
        existing = await self.accounts.db.fetch_one(FIND_AGENT_ACCOUNT, (user_id, wallet))
        if existing is not None:
            return await self.accounts.require(user_id, existing["id"]), False
        account_id = str(uuid.uuid4())
        agent = Account.create()
        vault = self.accounts.vault
        sealed = vault.seal(
            agent.key.hex(), SealContext("secret", user_id, account_id, "hyperliquid")
        )
        try:
            await self.accounts.db.execute(
                INSERT_AGENT_ACCOUNT,
                (
                    account_id,
                    user_id,
                    "Hyperliquid Agent",
                    wallet,
                    agent.address.lower(),
                    sealed,
                    vault.active,
                ),
            )
        except psycopg.errors.UniqueViolation:  # a concurrent init won
            row = await self.accounts.db.fetch_one(FIND_AGENT_ACCOUNT, (user_id, wallet))
            assert row is not None
            return await self.accounts.require(user_id, row["id"]), False
        return await self.accounts.require(user_id, account_id), True

    async def approve_data(self, user_id: str, account_id: str) -> dict[str, Any]:
        account = await self._agent_account(user_id, account_id)
        if account.status == "active":
            raise Problem("already_approved", "The agent is already approved.")
        nonce = self._next_nonce()
        await self.accounts.db.execute(SET_NONCE, (nonce, account.id))
        assert account.agent_address is not None
        return {
            "typed_data": approve_agent_typed_data(
                self.network, account.agent_address, nonce, agent_name(account.id)
            ),
            "nonce": nonce,
            "agent_address": account.agent_address,
            "wallet_address": account.wallet_address,
        }

    async def approve(
        self, user_id: str, account_id: str, signature: str, nonce: int
    ) -> dict[str, Any]:
        account = await self._agent_account(user_id, account_id)
        if account.status == "active":
            raise Problem("already_approved", "The agent is already approved.")
        if not SIGNATURE.match(signature):
            raise malformed("invalid_signature", "signature must be 0x + 65 bytes hex.")
        assert account.agent_address is not None and account.wallet_address is not None
        name = agent_name(account.id)
        typed = approve_agent_typed_data(self.network, account.agent_address, nonce, name)
        if recover_signer(typed, signature) != account.wallet_address:
            raise Problem("wrong_signer", "The approval was not signed by the account's wallet.")
        claimed = await self.accounts.db.fetch_one(CLAIM_NONCE, (account.id, user_id, nonce))
        if claimed is None:
            raise Problem("already_approved", "This approval nonce is unknown or was already used.")
        await self._submit(typed, signature, nonce)
        now = self.accounts.clock.now()
        permissions = json.dumps({"agent_approved": True, "agent_name": name})

        def activate(conn: Conn) -> bool:
            if conn.execute(ACTIVATE, (now, permissions, account.id)).fetchone() is None:
                return False
            conn.execute(QUEUE_IMPORT, (user_id, account.id, "account_added"))
            return True

        if not await self.accounts.db.run(activate):
            raise Problem("already_approved", "The agent is already approved.")
        await self.accounts.stop_actor(account.id)  # a fresh actor picks up the new state
        return {
            "success": True,
            "agent_address": account.agent_address,
            "message": "Agent approved",
            "account_id": account.id,
        }

    async def _submit(self, typed: dict[str, Any], signature: str, nonce: int) -> None:
        info = catalog.get("hyperliquid")
        assert info is not None
        client = self.accounts.clients.create(info)
        message = typed["message"]
        body = {
            "action": {
                "type": "approveAgent",
                "signatureChainId": hex(self.network.chain_id),
                "hyperliquidChain": message["hyperliquidChain"],
                "agentAddress": message["agentAddress"],
                "agentName": message["agentName"],
                "nonce": nonce,
            },
            "nonce": nonce,
            "signature": {
                "r": "0x" + signature[2:66],
                "s": "0x" + signature[66:130],
                "v": int(signature[130:132], 16),
            },
        }
        try:
            response = await trio.to_thread.run_sync(client.private_post_exchange, body)
        except Exception as exc:
            failure = failure_from(exc, "hyperliquid")
            raise ExchangeFailure("approval_failed", failure.detail) from None
        if not isinstance(response, dict) or response.get("status") != "ok":
            detail = response.get("response") if isinstance(response, dict) else response
            raise ExchangeFailure("approval_failed", f"hyperliquid: {detail}")

    async def revoke(self, user_id: str, account_id: str) -> dict[str, Any]:
        account = await self._agent_account(user_id, account_id)
        if account.status != "active":
            raise Problem("not_active", "The agent wallet is not active.")
        replacement = Account.create()
        vault = self.accounts.vault
        sealed = vault.seal(
            replacement.key.hex(), SealContext("secret", user_id, account.id, "hyperliquid")
        )
        now = self.accounts.clock.now()
        permissions = json.dumps(
            {"agent_approved": False, "revoked_at": now.isoformat().replace("+00:00", "Z")}
        )
        row = await self.accounts.db.fetch_one(
            REPLACE_AGENT,
            (replacement.address.lower(), sealed, vault.active, permissions, account.id, user_id),
        )
        if row is None:
            raise Problem("not_active", "The agent wallet is not active.")
        await self.accounts.stop_actor(account.id)
        return {
            "success": True,
            "account_id": account.id,
            "requires_reauthorization": True,
            "agent_address": replacement.address.lower(),
            "message": "Agent revoked in Testudo; approve the replacement agent to remove the "
            "old one from Hyperliquid.",
        }
