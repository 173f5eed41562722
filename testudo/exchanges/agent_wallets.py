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

import re
from typing import Any

import attrs
from eth_account import Account
from eth_account.messages import encode_typed_data

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


MAINNET = Network()


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
