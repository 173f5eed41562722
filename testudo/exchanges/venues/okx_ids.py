"""OKX client order ids (pure): ``clOrdId`` / ``algoClOrdId``, 1 to 32 letters and digits.

OKX refuses anything else in a client id (``-`` and ``_`` included), so the generic
``tdo-<base64url>-e1`` can never be placed there. Testudo's OKX id keeps what the generic one
promises — unique per order of a group, recomputable from the group, recognisably Testudo's —
in OKX's alphabet:

``tdo`` + the group's UUID in base 62 (22 characters) + the order's place in its group: the
role letter (``e`` entry, ``s`` stop, ``t`` target, ``c`` close), for a target its index and
an ``n``, then the sequence number: ``e1``, ``s2``, ``t1n11`` (target 1, eleventh order; a
bare ``t111`` could also read as target 11, first order). That is 32 characters for up to 100
targets and 999 orders of a role; beyond that (never seen) ``tdo`` and a 29-digit hash of the
same, still recomputable and tagged, rather than a truncation that could collide.

A lookup after an ambiguous failure recomputes the same id, so the order is found by it.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from .base import ROLE_CODES

PREFIX = "tdo"
MAX_LENGTH = 32
GROUP_LENGTH = 22  # 62**22 > 2**128
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
VALID = re.compile(r"^[A-Za-z0-9]{1,32}$")
TESTUDO = re.compile(r"^tdo[A-Za-z0-9]{22,29}$")


def base62(number: int, width: int) -> str:
    """``number`` in base 62, left-padded with ``0`` to ``width`` characters."""
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def place_of(role: str, seq: int, target_idx: int | None) -> str:
    """``e1``, ``s2``, ``t1n11``: an order's place in its group."""
    target = "" if target_idx is None else f"{target_idx}n"
    return f"{ROLE_CODES[role]}{target}{seq}"


def client_order_id(group_id: str, role: str, seq: int, target_idx: int | None) -> str:
    """The OKX client id of a group's order (see the module docstring)."""
    group = base62(uuid.UUID(group_id).int, GROUP_LENGTH)
    place = place_of(role, seq, target_idx)
    full = f"{PREFIX}{group}{place}"
    if len(full) <= MAX_LENGTH:
        return full
    digest = hashlib.sha256(f"{group_id}:{place}".encode()).hexdigest()
    return PREFIX + digest[: MAX_LENGTH - len(PREFIX)]


def is_valid(client_id: str) -> bool:
    """Whether OKX accepts ``client_id`` as a ``clOrdId``."""
    return VALID.match(client_id) is not None


def is_testudo(client_id: str | None) -> bool:
    """Whether ``client_id`` is one of Testudo's OKX ids (the user's own orders are not)."""
    return bool(client_id) and TESTUDO.match(str(client_id)) is not None
