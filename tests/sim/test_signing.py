"""Hyperliquid hashing and signature recovery, checked against independent implementations."""

from __future__ import annotations

import ccxt
import msgpack
from ccxt.static_dependencies.msgpack import packb as reference_packb
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given, strategies as st

from testudo.exchanges.agent_wallets import Network, approve_agent_typed_data
from testudo.sim.accounts import NonceWindow, Registry
from testudo.sim.dialects.hyperliquid.signing import (
    ZERO_ADDRESS,
    action_hash,
    l1_digest,
    recover_l1,
    recover_user_signed,
)
from testudo.sim.msgpack import packb

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(max_size=300)
    | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=20)
        | st.dictionaries(st.text(max_size=40), children, max_size=20)
    ),
    max_leaves=60,
)

ORDER = {
    "type": "order",
    "orders": [
        {"a": 0, "b": True, "p": "50000", "s": "0.01", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    ],
    "grouping": "na",
}


@given(json_values)
def test_msgpack_matches_the_reference_encoder(value: object) -> None:
    assert packb(value) == reference_packb(value)


decimals = st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False).map(str)
orders = st.fixed_dictionaries(
    {
        "a": st.integers(0, 20_000),
        "b": st.booleans(),
        "p": decimals,
        "s": decimals,
        "r": st.booleans(),
        "t": st.one_of(
            st.fixed_dictionaries(
                {"limit": st.fixed_dictionaries({"tif": st.sampled_from(["Gtc", "Ioc", "Alo"])})}
            ),
            st.fixed_dictionaries(
                {
                    "trigger": st.fixed_dictionaries(
                        {"isMarket": st.booleans(), "triggerPx": decimals, "tpsl": st.just("sl")}
                    )
                }
            ),
        ),
    },
    optional={"c": st.text(max_size=34)},
)
actions = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("order"),
            "orders": st.lists(orders, min_size=1, max_size=20),
            "grouping": st.sampled_from(["na", "normalTpsl", "positionTpsl"]),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("cancel"),
            "cancels": st.lists(
                st.fixed_dictionaries({"a": st.integers(0, 20_000), "o": st.integers(0, 2**63)}),
                max_size=40,
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("updateLeverage"),
            "asset": st.integers(0, 20_000),
            "isCross": st.booleans(),
            "leverage": st.integers(1, 200),
        }
    ),
    json_values,
)


@given(actions)
def test_the_msgpack_package_encodes_actions_as_the_home_made_encoder(action: object) -> None:
    assert msgpack.packb(action) == packb(action)


def test_l1_digest_matches_eip712_typed_data() -> None:
    connection = action_hash(ORDER, None, 1_717_000_000_000)
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Agent": [
                    {"name": "source", "type": "string"},
                    {"name": "connectionId", "type": "bytes32"},
                ],
            },
            "primaryType": "Agent",
            "domain": {
                "name": "Exchange",
                "version": "1",
                "chainId": 1337,
                "verifyingContract": ZERO_ADDRESS,
            },
            "message": {"source": "a", "connectionId": connection},
        }
    )
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert l1_digest(connection, mainnet=True) == expected
    assert l1_digest(connection, mainnet=False) != expected


def test_ccxt_l1_signature_recovers_the_wallet() -> None:
    wallet = Account.create()
    exchange = ccxt.hyperliquid({"privateKey": wallet.key.hex(), "walletAddress": wallet.address})
    signature = exchange.sign_l1_action(ORDER, 1_717_000_000_000)
    signer = recover_l1(
        ORDER, 1_717_000_000_000, signature, vault_address=None, expires_after=None, mainnet=True
    )
    assert signer == wallet.address
    tampered = {**ORDER, "grouping": "normalTpsl"}
    assert (
        recover_l1(
            tampered,
            1_717_000_000_000,
            signature,
            vault_address=None,
            expires_after=None,
            mainnet=True,
        )
        != wallet.address
    )
    nonce, expires = 1_717_000_000_001, 1_717_000_060_000
    vaulted = exchange.sign_l1_action(ORDER, nonce, "1" * 40, expires)
    assert (
        recover_l1(
            ORDER,
            nonce,
            vaulted,
            vault_address="0x" + "1" * 40,
            expires_after=expires,
            mainnet=True,
        )
        == wallet.address
    )


def test_approve_agent_signature_with_null_or_empty_name() -> None:
    wallet = Account.create()
    agent = Account.create()
    for name in (None, "", "bot"):
        typed = approve_agent_typed_data(Network(), agent.address, 1_717_000_000_000, name)
        signed = Account.sign_message(encode_typed_data(full_message=typed), wallet.key)
        action = {"type": "approveAgent", "signatureChainId": "0xa4b1", **typed["message"]}
        signature = {"r": hex(signed.r), "s": hex(signed.s), "v": signed.v}
        assert wallet.address in recover_user_signed(action, signature)


def test_nonce_window_refuses_replays_and_stale_nonces() -> None:
    window = NonceWindow()
    assert window.accept("0xA", 5) is None
    assert window.accept("0xa", 5) == "Invalid nonce: duplicate nonce"
    assert window.accept("0xb", 5) is None
    for nonce in range(100, 200):
        assert window.accept("0xa", nonce) is None
    assert window.accept("0xa", 50) is not None
    assert window.accept("0xa", 150) is not None
    assert window.accept("0xa", 250) is None


def test_agents_are_replaced_by_name_and_expire() -> None:
    registry = Registry(seed=1)
    user = registry.create()
    first, second, named = (Account.create().address for _ in range(3))
    registry.approve_agent(user.wallet_address, first, "", None)
    registry.approve_agent(user.wallet_address, named, "bot", 2_000)
    assert registry.acting_user(first, 1_000) == user
    registry.approve_agent(user.wallet_address, second, "", None)
    assert registry.acting_user(first, 1_000) is None
    assert registry.acting_user(second, 1_000) == user
    assert registry.acting_user(named, 1_000) == user
    assert registry.acting_user(named, 3_000) is None
    assert registry.acting_user(user.wallet_address.lower(), 0) == user


def test_registry_keys_are_deterministic_per_seed() -> None:
    a, b, c = Registry(seed=9).create(), Registry(seed=9).create(), Registry(seed=10).create()
    assert (a.api_key, a.wallet_private_key) == (b.api_key, b.wallet_private_key)
    assert a.api_key != c.api_key
    assert Account.from_key(a.wallet_private_key).address == a.wallet_address
