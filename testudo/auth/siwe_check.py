"""Checking a signed EIP-4361 message: pure, no I/O (the nonce is consumed by the caller).

The ``siwe`` library (``signinwithethereum``) parses the message and recovers the EIP-191
signer; it checks only what it is given, so every expectation is passed explicitly: the
configured domain and URI, the allowed chain ids, and the time for expiry / not-before. The
issued-at skew is checked here (the library does not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import attrs

from testudo.problems import Problem, malformed

from .settings import AuthSettings
from .siwe_shape import check_shape, domain_detail, scheme_detail, uri_detail

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


@attrs.frozen
class SiweIdentity:
    """A message that passed every check except nonce consumption."""

    wallet_address: str  # lower-case 0x address
    nonce: str
    chain_id: int


def _siwe() -> Any:
    import siwe

    return siwe


def preload() -> None:
    """Import the library once at start-up (it pulls in web3, about 1.5 s)."""
    _siwe()


def check_siwe(
    message: str, signature: str, settings: AuthSettings, now: dt.datetime
) -> SiweIdentity | Problem:
    """Parse and verify ``message`` signed by ``signature`` against ``settings`` at ``now``."""
    siwe = _siwe()
    shape = check_shape(message, signature, settings)
    if shape is not None:
        return shape
    if high_s(signature):
        return Problem("invalid_signature", "The signature is malleable (high s, EIP-2): refused.")
    try:
        parsed = siwe.SiweMessage.from_message(message)
    except Exception:
        return malformed("invalid_message", "The message is not a valid EIP-4361 message.")
    if parsed.domain != settings.siwe_domain:
        return Problem("domain_mismatch", domain_detail(settings.siwe_domain))
    if parsed.scheme is not None and parsed.scheme != urlsplit(settings.siwe_uri).scheme:
        return Problem("scheme_mismatch", scheme_detail(settings.siwe_uri))
    if parsed.uri != settings.siwe_uri:
        return Problem("uri_mismatch", uri_detail(settings.siwe_uri))
    if parsed.chain_id not in settings.chain_ids:
        return Problem("chain_not_allowed", "The message's chain id is not accepted.")
    issued = _parse_time(str(parsed.issued_at))
    if issued is None:
        return malformed("invalid_message", "The message's Issued At is not a time.")
    if issued > now + dt.timedelta(seconds=settings.issued_at_skew):
        return Problem("issued_in_future", "The message was issued in the future.")
    if issued < now - dt.timedelta(seconds=settings.nonce_ttl):
        return Problem("message_too_old", "The message was issued too long ago.")
    try:
        parsed.verify(
            signature,
            domain=settings.siwe_domain,
            uri=settings.siwe_uri,
            nonce=parsed.nonce,
            timestamp=now,
        )
    except siwe.ExpiredMessage:
        return Problem("message_expired", "The message has expired.")
    except siwe.NotYetValidMessage:
        return Problem("message_not_yet_valid", "The message is not valid yet.")
    except siwe.InvalidSignature:
        return Problem("invalid_signature", "The signature does not match the address.")
    except siwe.VerificationError as exc:
        return Problem("unauthorized", f"The message was refused: {type(exc).__name__}.")
    except Exception:
        return malformed("invalid_signature", "The signature is malformed.")
    return SiweIdentity(str(parsed.address).lower(), str(parsed.nonce), int(parsed.chain_id))


def high_s(signature: str) -> bool:
    """Whether an (r, s, v) signature has s in the upper half of the curve order.

    For every signature (r, s) the pair (r, n - s) is valid too: EIP-2 makes only the low-s
    form canonical, and accepting both would let anyone derive a second valid signature.
    """
    digits = signature[2:] if signature.startswith("0x") else signature
    if len(digits) != 130:
        return False
    return int(digits[64:128], 16) > SECP256K1_HALF_N


def _parse_time(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
