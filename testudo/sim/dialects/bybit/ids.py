"""Bybit-shaped identifiers for engine numbers: UUID order and execution ids, page cursors.

Bybit's linear order ids and execution ids are UUIDs. The dialect derives them from the
engine's integer ids with a reversible, seedless mapping: the low 62 bits carry the engine id
scrambled by an invertible multiply-and-mask, the other bits are a keyed hash of it, so ids
look random, are stable across runs, and an id the simulator never issued decodes to nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import quote, unquote

_LOW_BITS = 62
_LOW_MASK = (1 << _LOW_BITS) - 1
_SPREAD = 0x1E3779B97F4A7C15  # odd, so multiplying by it mod 2**62 is a bijection
_UNSPREAD = pow(_SPREAD, -1, 1 << _LOW_BITS)


class _UuidCodec:
    """Engine integer id <-> UUID string, for one kind of id."""

    def __init__(self, salt: bytes, mask: int, version: int) -> None:
        self._salt = salt
        self._mask = mask & _LOW_MASK
        self._version = version

    def encode(self, number: int) -> str:
        """The UUID text of engine id ``number`` (0 <= number < 2**62)."""
        digest = hashlib.blake2b(number.to_bytes(8, "big"), digest_size=8, key=self._salt)
        high = int.from_bytes(digest.digest(), "big") >> 4
        value = (
            (high >> 12) << 80
            | self._version << 76
            | (high & 0xFFF) << 64
            | 0b10 << 62
            | ((number * _SPREAD) & _LOW_MASK) ^ self._mask
        )
        return str(uuid.UUID(int=value))

    def decode(self, text: str) -> int | None:
        """The engine id of a UUID this codec issued, else ``None``."""
        try:
            value = uuid.UUID(text).int
        except ValueError:
            return None
        number = (((value & _LOW_MASK) ^ self._mask) * _UNSPREAD) & _LOW_MASK
        return number if self.encode(number) == str(uuid.UUID(int=value)) else None


ORDER_IDS = _UuidCodec(b"testudo-bybit-order", 0x2C5E_91D4_07AB_3F61, 4)
EXEC_IDS = _UuidCodec(b"testudo-bybit-exec", 0x1F0A_6B37_C2E9_5D48, 5)
FUNDING_IDS = _UuidCodec(b"testudo-bybit-funding", 0x3B71_0C9E_55D2_A816, 4)


def order_uuid(order_id: int) -> str:
    """Bybit ``orderId`` of an engine order."""
    return ORDER_IDS.encode(order_id)


def order_number(text: str) -> int | None:
    """Engine order id of a Bybit ``orderId`` (``None`` if the simulator never issued it)."""
    return ORDER_IDS.decode(text)


def exec_uuid(fill_id: int) -> str:
    """Bybit ``execId`` of an engine fill."""
    return EXEC_IDS.encode(fill_id)


def encode_cursor(time_ms: int, number: int) -> str:
    """A ``nextPageCursor`` naming the last row of a page (newest-first lists).

    Shaped like Bybit's (``id%3Atime%2Cid%3Atime``: URL-encoded ``id:time,id:time``).
    """
    return quote(f"{number}:{time_ms},{number}:{time_ms}", safe="")


def decode_cursor(text: str) -> tuple[int, int] | None:
    """``(time_ms, id)`` of a cursor, however many times the client URL-encoded it."""
    for _ in range(3):
        if "%" not in text:
            break
        text = unquote(text)
    first = text.split(",", 1)[0]
    number, _, time_ms = first.partition(":")
    if not (number.isdigit() and time_ms.isdigit()):
        return None
    return int(time_ms), int(number)
