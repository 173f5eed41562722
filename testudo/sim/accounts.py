"""Simulated identities: Binance API keys and Hyperliquid wallets, agents and nonces."""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Mapping
from decimal import Decimal

import attrs
from eth_account import Account as EthAccount

from testudo.sim.account_options import AccountOptions

_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_KEY_ALPHABET = string.ascii_letters + string.digits

DEFAULT_PERMISSIONS: Mapping[str, bool] = {
    "ipRestrict": False,
    "enableReading": True,
    "enableFutures": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableMargin": False,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
}


@attrs.frozen
class Credentials:
    """Everything a client needs to reach one simulated account on every venue."""

    account_id: int
    api_key: str
    secret: str
    wallet_address: str
    wallet_private_key: str
    permissions: Mapping[str, bool]
    created_ms: int
    passphrase: str = ""  # OKX's third credential (``OK-ACCESS-PASSPHRASE``)

    def public(self) -> dict[str, object]:
        """The JSON shape the control API returns."""
        return {
            "account_id": self.account_id,
            "api_key": self.api_key,
            "secret": self.secret,
            "passphrase": self.passphrase,
            "wallet_address": self.wallet_address,
            "wallet_private_key": self.wallet_private_key,
            "permissions": dict(self.permissions),
        }


def passphrase_for(secret: str) -> str:
    """The OKX passphrase of a simulated key: derived from its (seeded) secret, so it is
    deterministic without drawing from the registry's random stream (other keys unchanged)."""
    digest = hashlib.sha256(f"okx-passphrase:{secret}".encode()).digest()
    token = "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in digest[:16])
    return f"{token[:8]}!{token[8:]}"


@attrs.frozen
class Agent:
    """An API wallet a Hyperliquid user approved."""

    address: str
    user: str
    name: str
    valid_until: int | None


NONCES_KEPT = 20
NONCES_KEPT_MAX = 100
NONCE_VOLUME_STEP = Decimal("1000000")
MAX_NAMED_AGENTS = 3


def nonce_capacity(traded_notional: Decimal) -> int:
    """How many of its highest nonces a signer keeps: 20, plus one per 1M USDC of
    cumulative volume, at most 100 (Hyperliquid docs, "Nonces and API wallets")."""
    extra = int(traded_notional // NONCE_VOLUME_STEP) if traded_notional > 0 else 0
    return min(NONCES_KEPT_MAX, NONCES_KEPT + extra)


class NonceWindow:
    """Hyperliquid's nonce rule: each signer keeps its highest nonces (``capacity`` of them).

    A nonce is accepted when unused and larger than the smallest of those kept.
    """

    def __init__(self) -> None:
        self._seen: dict[str, list[int]] = {}

    def accept(self, signer: str, nonce: int, capacity: int = NONCES_KEPT) -> str | None:
        """Record ``nonce`` for ``signer``; return an error message if it is refused."""
        seen = self._seen.setdefault(signer.lower(), [])
        if nonce in seen:
            return "Invalid nonce: duplicate nonce"
        if len(seen) >= capacity and nonce < seen[0]:
            return f"Invalid nonce: nonce {nonce} too low"
        seen.append(nonce)
        seen.sort()
        del seen[: max(0, len(seen) - capacity)]
        return None

    def forget(self, signer: str) -> None:
        """Drop a signer's nonce state (a deregistered API wallet's state is pruned)."""
        self._seen.pop(signer.lower(), None)


class AgentLimitError(ValueError):
    """A user tried to approve one named API wallet more than Hyperliquid allows."""


class Registry:
    """Credentials of every simulated account, keyed every way a venue looks them up."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"accounts:{seed}")
        self._next_id = 1
        self.by_id: dict[int, Credentials] = {}
        self.by_api_key: dict[str, Credentials] = {}
        self.by_wallet: dict[str, Credentials] = {}
        self.agents: dict[str, Agent] = {}
        self.builder_fees: dict[tuple[str, str], Decimal] = {}
        self.nonces = NonceWindow()
        self.options: dict[int, AccountOptions] = {}

    def create(
        self,
        *,
        permissions: Mapping[str, bool] | None = None,
        now_ms: int = 0,
        options: AccountOptions | None = None,
    ) -> Credentials:
        """Mint a new identity with deterministic keys (from the registry's seed)."""
        key = self._private_key()
        wallet = EthAccount.from_key(key)
        creds = Credentials(
            account_id=self._next_id,
            api_key=self._token(64),
            secret=self._token(64),
            wallet_address=wallet.address,
            wallet_private_key="0x" + key.hex(),
            permissions={**DEFAULT_PERMISSIONS, **(permissions or {})},
            created_ms=now_ms,
        )
        creds = attrs.evolve(creds, passphrase=passphrase_for(creds.secret))
        self._next_id += 1
        self.by_id[creds.account_id] = creds
        self.by_api_key[creds.api_key] = creds
        self.by_wallet[creds.wallet_address.lower()] = creds
        self.options[creds.account_id] = options or AccountOptions()
        return creds

    def wallet(self, address: str) -> Credentials | None:
        """The account whose wallet is ``address`` (any case)."""
        return self.by_wallet.get(address.lower())

    def approve_agent(
        self, user: str, agent_address: str, name: str, valid_until: int | None
    ) -> list[str]:
        """Approve ``agent_address`` for ``user``; return the addresses it deregistered.

        As on Hyperliquid, an approval under a name already in use deregisters (prunes) the
        agent holding it, with its nonce state: the unnamed agent (``name == ""``) is
        replaced by the next unnamed one. A user holds one unnamed agent and at most
        ``MAX_NAMED_AGENTS`` named ones; a new name past that raises ``AgentLimitError``.
        """
        user_key = user.lower()
        mine = [a for a in self.agents.values() if a.user == user_key]
        replaced = [a.address for a in mine if a.name == name]
        named = {a.name for a in mine if a.name}
        if name and name not in named and len(named) >= MAX_NAMED_AGENTS:
            raise AgentLimitError(f"at most {MAX_NAMED_AGENTS} named API wallets per account")
        for address in replaced:
            del self.agents[address.lower()]
            self.nonces.forget(address)
        self.agents[agent_address.lower()] = Agent(
            address=agent_address, user=user_key, name=name, valid_until=valid_until
        )
        return replaced

    def agents_of(self, user: str, now_ms: int | None = None) -> list[Agent]:
        """Agents currently approved by ``user`` (without those expired at ``now_ms``)."""
        return [
            a
            for a in self.agents.values()
            if a.user == user.lower()
            and (now_ms is None or a.valid_until is None or a.valid_until >= now_ms)
        ]

    def acting_user(self, signer: str, now_ms: int) -> Credentials | None:
        """The account a signer may act for: its own wallet, or the user that approved it."""
        own = self.wallet(signer)
        if own is not None:
            return own
        agent = self.agents.get(signer.lower())
        if agent is None or (agent.valid_until is not None and agent.valid_until < now_ms):
            return None
        return self.wallet(agent.user)

    def _token(self, length: int) -> str:
        return "".join(self._rng.choice(_KEY_ALPHABET) for _ in range(length))

    def _private_key(self) -> bytes:
        while True:
            value = self._rng.getrandbits(256)
            if 0 < value < _SECP256K1_ORDER:
                return value.to_bytes(32, "big")
