"""Hyperliquid agent wallets: Testudo trades with a key the user's wallet approved.

1. ``init``: a fresh agent key (eth-account) is sealed in the vault; the account is
   ``pending_approval`` (idempotent per user and wallet).
2. ``approve_data``: the exact EIP-712 ``HyperliquidTransaction:ApproveAgent`` typed data
   (chain id and ``hyperliquidChain`` by network) with a fresh nonce, remembered on the row.
3. ``approve``: the nonce is claimed atomically (a concurrent second approval gets 409), the
   signer is checked locally, then ``approveAgent`` goes to Hyperliquid, which verifies it too.
4. ``revoke``: the local key is destroyed at once and replaced by a fresh one; the account shows
   ``requires_reauthorization``. Approving the replacement (same agent name) makes Hyperliquid
   drop the old agent, so the old key can no longer trade anywhere.

Each account approves its agent under a name of its own (``testudo-<account id prefix>``):
Hyperliquid keeps one agent per name and silently prunes the previous holder of a name, so a
shared name would let linking the same wallet a second time (another Testudo account, another
user) cut off the first account's agent.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import attrs
import psycopg
import trio
from eth_account import Account
from eth_account.messages import encode_typed_data

from testudo.db.database import Conn

from . import catalog
from .accounts import AccountsService, AccountView
from .errors import ExchangeFailure, failure_from
from .vault import SealContext

AGENT_NAME_PREFIX = "testudo-"


def agent_name(account_id: str) -> str:
    """The account's own agent name (see the module docstring)."""
    return AGENT_NAME_PREFIX + account_id.replace("-", "")[:12]


WALLET = re.compile(r"^0x[0-9a-fA-F]{40}$")
SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")

FIND_AGENT_ACCOUNT = """
SELECT id::text AS id FROM exchange_accounts
WHERE user_id = %s AND wallet_address = %s AND auth_mode = 'agent_wallet' AND status <> 'deleted'"""
INSERT_AGENT_ACCOUNT = """
INSERT INTO exchange_accounts (id, user_id, exchange, account_name, auth_mode, wallet_address,
    agent_address, secret_enc, key_id, status, permissions)
VALUES (%s, %s, 'hyperliquid', %s, 'agent_wallet', %s, %s, %s, %s, 'pending_approval', '{}')"""
SET_NONCE = "UPDATE exchange_accounts SET agent_nonce = %s WHERE id = %s"
CLAIM_NONCE = """
UPDATE exchange_accounts SET agent_nonce = NULL
WHERE id = %s AND user_id = %s AND agent_nonce = %s
  AND status IN ('pending_approval', 'requires_reauthorization')
RETURNING id"""
ACTIVATE = """
UPDATE exchange_accounts SET status = 'active', agent_approved_at = %s, permissions = %s,
    updated_at = now()
WHERE id = %s AND status IN ('pending_approval', 'requires_reauthorization') RETURNING id"""
REPLACE_AGENT = """
UPDATE exchange_accounts SET status = 'requires_reauthorization', agent_address = %s,
    secret_enc = %s, key_id = %s, agent_approved_at = NULL, agent_nonce = NULL,
    permissions = %s, updated_at = now()
WHERE id = %s AND user_id = %s AND status = 'active' RETURNING id"""
QUEUE_IMPORT = """
INSERT INTO import_jobs (user_id, exchange_account_id, reason) VALUES (%s, %s, %s)
ON CONFLICT DO NOTHING"""


class AgentWalletError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


@attrs.frozen
class Network:
    """Mainnet or testnet: the signing chain id and the ``hyperliquidChain`` string."""

    testnet: bool = False

    @property
    def chain_id(self) -> int:
        return 421614 if self.testnet else 42161

    @property
    def name(self) -> str:
        return "Testnet" if self.testnet else "Mainnet"


def approve_agent_typed_data(
    network: Network, agent: str, nonce: int, name: str | None
) -> dict[str, Any]:
    """EIP-712 ``HyperliquidTransaction:ApproveAgent`` for the user's wallet to sign."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "HyperliquidTransaction:ApproveAgent": [
                {"name": "hyperliquidChain", "type": "string"},
                {"name": "agentAddress", "type": "address"},
                {"name": "agentName", "type": "string"},
                {"name": "nonce", "type": "uint64"},
            ],
        },
        "primaryType": "HyperliquidTransaction:ApproveAgent",
        "domain": {
            "name": "HyperliquidSignTransaction",
            "version": "1",
            "chainId": network.chain_id,
            "verifyingContract": "0x0000000000000000000000000000000000000000",
        },
        "message": {
            "hyperliquidChain": network.name,
            "agentAddress": agent,
            "agentName": name,
            "nonce": nonce,
        },
    }


def recover_signer(typed: dict[str, Any], signature: str) -> str | None:
    try:
        message = encode_typed_data(full_message=typed)
        return str(Account.recover_message(message, signature=signature)).lower()
    except Exception:
        return None


class AgentWallets:
    def __init__(self, accounts: AccountsService, network: Network = Network()) -> None:
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
            raise AgentWalletError(404, "not_found", "No such account.")
        if account.auth_mode != "agent_wallet":
            raise AgentWalletError(400, "invalid_auth_mode", "This account is not an agent wallet.")
        return account

    async def init(self, user_id: str, wallet_address: str) -> tuple[AccountView, bool]:
        """The user's agent-wallet account for ``wallet_address``; True when created now."""
        if not WALLET.match(wallet_address):
            raise AgentWalletError(
                400,
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
            raise AgentWalletError(409, "already_approved", "The agent is already approved.")
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
            raise AgentWalletError(409, "already_approved", "The agent is already approved.")
        if not SIGNATURE.match(signature):
            raise AgentWalletError(400, "invalid_signature", "signature must be 0x + 65 bytes hex.")
        assert account.agent_address is not None and account.wallet_address is not None
        name = agent_name(account.id)
        typed = approve_agent_typed_data(self.network, account.agent_address, nonce, name)
        if recover_signer(typed, signature) != account.wallet_address:
            raise AgentWalletError(
                401, "wrong_signer", "The approval was not signed by the account's wallet."
            )
        claimed = await self.accounts.db.fetch_one(CLAIM_NONCE, (account.id, user_id, nonce))
        if claimed is None:
            raise AgentWalletError(
                409, "already_approved", "This approval nonce is unknown or was already used."
            )
        await self._submit(typed, signature, nonce)
        now = self.accounts.clock.now()
        permissions = json.dumps({"agent_approved": True, "agent_name": name})

        def activate(conn: Conn) -> bool:
            if conn.execute(ACTIVATE, (now, permissions, account.id)).fetchone() is None:
                return False
            conn.execute(QUEUE_IMPORT, (user_id, account.id, "account_added"))
            return True

        if not await self.accounts.db.run(activate):
            raise AgentWalletError(409, "already_approved", "The agent is already approved.")
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
            raise ExchangeFailure(502, "approval_failed", failure.detail) from None
        if not isinstance(response, dict) or response.get("status") != "ok":
            detail = response.get("response") if isinstance(response, dict) else response
            raise ExchangeFailure(502, "approval_failed", f"hyperliquid: {detail}")

    async def revoke(self, user_id: str, account_id: str) -> dict[str, Any]:
        account = await self._agent_account(user_id, account_id)
        if account.status != "active":
            raise AgentWalletError(409, "not_active", "The agent wallet is not active.")
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
            raise AgentWalletError(409, "not_active", "The agent wallet is not active.")
        await self.accounts.stop_actor(account.id)
        return {
            "success": True,
            "account_id": account.id,
            "requires_reauthorization": True,
            "agent_address": replacement.address.lower(),
            "message": "Agent revoked in Testudo; approve the replacement agent to remove the "
            "old one from Hyperliquid.",
        }
