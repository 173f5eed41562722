"""Hyperliquid hashing and signature recovery, checked against independent implementations."""

from __future__ import annotations

import hashlib

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
    assert msgpack.packb(value) == reference_packb(value)


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
def test_actions_hash_as_ccxt_hashes_them(action: object) -> None:
    assert msgpack.packb(action) == reference_packb(action)


# What the home-made encoder this package replaced produced (it matched ccxt and the SDK): every
# encoding Hyperliquid actions can meet, at each size boundary.
VECTORS: list[tuple[object, str]] = [
    (None, "c0"),
    (True, "c3"),
    (False, "c2"),
    (0, "00"),
    (127, "7f"),
    (128, "cc80"),
    (255, "ccff"),
    (256, "cd0100"),
    (65535, "cdffff"),
    (65536, "ce00010000"),
    (2**32 - 1, "ceffffffff"),
    (2**32, "cf0000000100000000"),
    (2**64 - 1, "cfffffffffffffffff"),
    (-1, "ff"),
    (-32, "e0"),
    (-33, "d0df"),
    (-128, "d080"),
    (-129, "d1ff7f"),
    (-32768, "d18000"),
    (-32769, "d2ffff7fff"),
    (-(2**31), "d280000000"),
    (-(2**31) - 1, "d3ffffffff7fffffff"),
    (-(2**63), "d38000000000000000"),
    (1.5, "cb3ff8000000000000"),
    (-0.0, "cb8000000000000000"),
    ("", "a0"),
    ("a" * 31, "bf" + "61" * 31),
    ("a" * 32, "d920" + "61" * 32),
    ("\u00e9", "a2c3a9"),
    ([], "90"),
    ([1, [2]], "92019102"),
    ((1, 2), "920102"),
    ({}, "80"),
    ({"k": None}, "81a16bc0"),
    (list(range(16)), "dc0010" + bytes(range(16)).hex()),
    (
        {str(i): i for i in range(16)},
        "de0010" + "".join(f"a{len(str(i))}{str(i).encode().hex()}{i:02x}" for i in range(16)),
    ),
    (
        ORDER,
        "83a474797065a56f72646572a66f72646572739186a16100a162c3a170a53530303030a173a4302e3031a172"
        "c2a17481a56c696d697481a3746966a3477463a867726f7570696e67a26e61",
    ),
    (
        {"type": "cancel", "cancels": [{"a": 3, "o": 2**40}]},
        "82a474797065a663616e63656ca763616e63656c739182a16103a16fcf0000010000000000",
    ),
]

# Larger encodings (str16, str32/array16/map16 lengths), as SHA-256 of the old encoder's bytes.
LARGE: list[tuple[object, str]] = [
    ("x" * 256, "812c21cd063664cf24bdb0c1de5c57e6b0d9a3576f54bc5891f2c52ef67b881a"),
    ("x" * 65536, "b9e568708bf0ca2fe11ac7557eb959207098fd662c78913c4a1e7935ac1e5238"),
    (list(range(65536)), "659da62605120aecab3feb7ceb9f912947719200e22ea46c7705c99cb10cacfa"),
    (
        {str(i): i for i in range(65536)},
        "0d04e2d254cb2d94ff8fb29a2f4e7ff6085cab4774dcea09ec1629f0e91a0d59",
    ),
]


def test_msgpack_encodes_the_fixed_vectors() -> None:
    for value, expected in VECTORS:
        assert msgpack.packb(value).hex() == expected, value
    for value, digest in LARGE:
        assert hashlib.sha256(msgpack.packb(value)).hexdigest() == digest


def test_action_hashes_are_unchanged() -> None:
    assert action_hash(ORDER, None, 1_717_000_000_000).hex() == (
        "dde9b71715a8b064ddf2e1e341844f4896f9564cc4b86d1c96d061718dac0abc"
    )
    vaulted = action_hash(ORDER, "0x" + "1" * 40, 1_717_000_000_001, 1_717_000_060_000)
    assert vaulted.hex() == "fd732825ec76e2d25a0b33235d3df27542d0bf30acbcebc3f346fec3a8c8a569"


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
