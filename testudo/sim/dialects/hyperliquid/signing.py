"""Hyperliquid signature checks: L1 actions (phantom ``Agent``) and user-signed actions."""

from __future__ import annotations

from collections.abc import Mapping

import msgpack
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_DOMAIN_TYPE = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_AGENT_TYPE = keccak(b"Agent(string source,bytes32 connectionId)")

USER_SIGNED_TYPES: Mapping[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        (
            ("hyperliquidChain", "string"),
            ("agentAddress", "address"),
            ("agentName", "string"),
            ("nonce", "uint64"),
        ),
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        (
            ("hyperliquidChain", "string"),
            ("maxFeeRate", "string"),
            ("builder", "address"),
            ("nonce", "uint64"),
        ),
    ),
}


class SignatureError(ValueError):
    """The signature cannot be parsed or recovered."""


def _domain_separator(name: str, version: str, chain_id: int) -> bytes:
    return keccak(
        _DOMAIN_TYPE
        + keccak(name.encode())
        + keccak(version.encode())
        + chain_id.to_bytes(32, "big")
        + bytes(32)
    )


_EXCHANGE_DOMAIN = _domain_separator("Exchange", "1", 1337)


def action_hash(
    action: object, vault_address: str | None, nonce: int, expires_after: int | None = None
) -> bytes:
    """keccak(msgpack(action) ‖ nonce ‖ vault flag[‖ vault] [‖ 0 ‖ expiresAfter]).

    ``msgpack.packb`` with its defaults is what Hyperliquid's SDK and ccxt hash with (smallest
    encodings, str8 for 32-255 byte strings, 64-bit floats); tests/sim/test_signing.py pins it.
    """
    packed: bytes = msgpack.packb(action)
    data = packed + nonce.to_bytes(8, "big")
    if vault_address is None:
        data += b"\x00"
    else:
        data += b"\x01" + bytes.fromhex(vault_address.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak(data)


def l1_digest(connection_id: bytes, *, mainnet: bool) -> bytes:
    """EIP-712 digest of ``Agent{source, connectionId}`` in domain ``Exchange``/1337."""
    source = b"a" if mainnet else b"b"
    struct_hash = keccak(_AGENT_TYPE + keccak(source) + connection_id)
    return keccak(b"\x19\x01" + _EXCHANGE_DOMAIN + struct_hash)


def _vrs(signature: object) -> tuple[int, int, int]:
    if not isinstance(signature, Mapping):
        raise SignatureError("signature must be an object with r, s and v")
    try:
        r = int(str(signature["r"]), 16)
        s = int(str(signature["s"]), 16)
        v = int(signature["v"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise SignatureError("v must be 27 or 28")
    return v, r, s


def recover_digest(digest: bytes, signature: object) -> str:
    """Checksummed address that signed ``digest``."""
    v, r, s = _vrs(signature)
    try:
        public = Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError) as exc:
        raise SignatureError(f"unrecoverable signature: {exc}") from exc
    return str(public.to_checksum_address())


def recover_l1(
    action: object,
    nonce: int,
    signature: object,
    *,
    vault_address: str | None,
    expires_after: int | None,
    mainnet: bool,
) -> str:
    """Signer of an L1 action."""
    digest = l1_digest(action_hash(action, vault_address, nonce, expires_after), mainnet=mainnet)
    return recover_digest(digest, signature)


def recover_user_signed(action: Mapping[str, object], signature: object) -> list[str]:
    """Candidate signers of a user-signed action.

    ``agentName`` may be absent or null on the wire while wallets sign either the null or
    the empty string; every encoding is tried and each recovered address returned.
    """
    kind = str(action.get("type"))
    primary, fields = USER_SIGNED_TYPES[kind]
    try:
        chain_id = int(str(action["signatureChainId"]), 16)
    except (KeyError, ValueError) as exc:
        raise SignatureError(f"bad signatureChainId: {exc}") from exc
    v, r, s = _vrs(signature)
    variants: list[dict[str, object]] = [{name: action.get(name) for name, _ in fields}]
    if kind == "approveAgent" and not action.get("agentName"):
        variants.append({**variants[0], "agentName": ""})
        variants[0]["agentName"] = action.get("agentName")
    signers = []
    for message in variants:
        signable = encode_typed_data(
            domain_data={
                "name": "HyperliquidSignTransaction",
                "version": "1",
                "chainId": chain_id,
                "verifyingContract": ZERO_ADDRESS,
            },
            message_types={primary: [{"name": n, "type": t} for n, t in fields]},
            message_data=message,
        )
        try:
            signers.append(str(EthAccount.recover_message(signable, vrs=(v + 27, r, s))))
        except (BadSignature, ValidationError, ValueError) as exc:
            raise SignatureError(f"unrecoverable signature: {exc}") from exc
    return signers
