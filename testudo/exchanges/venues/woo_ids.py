"""WOO X client order ids: numbers, derived from the group, recognisable as Testudo's (pure).

WOO takes a client order id (``clientOrderId`` on a regular order, ``clientAlgoOrderId`` on an
algo order) only as an integer from 1 to 2^63 - 1; a text id such as ``tdo-...`` is refused.
So Testudo's id on WOO is a 19-digit number:

``73`` (the tag) + 15 digits of SHA-256 over ``<group id>:<role code>`` + 2 check digits.

* **Derived and recomputable**: the same group, role and sequence always give the same number,
  so the id is computed and recorded before the order is sent, and after an ambiguous failure
  (a timeout, a 5xx) the order is looked up by it.
* **Unique**: each order of a group has its own role code (``e1``, ``s2``, ``t0_3``: the
  target's index before an underscore, so target 1's eleventh order and target 11's first
  differ); 10^15 hash values make a collision between two orders of one account negligible.
* **Recognisable**: ``73`` and 19 digits, and the last two digits are the ISO 7064 mod-97
  check of the other seventeen, so only about one in a hundred 19-digit numbers starting with
  ``73`` reads as Testudo's: a trader's own numeric ids are left alone by the ghost cleanup.
  The largest id, ``739999...``, is below 2^63 - 1 (``9223...``).
"""

from __future__ import annotations

import hashlib

from .base import ROLE_CODES

TAG = "73"
HASH_DIGITS = 15
LENGTH = len(TAG) + HASH_DIGITS + 2
MAX_CLIENT_ID = 2**63 - 1


def place_code(role: str, seq: int, target_idx: int | None) -> str:
    """``e1``, ``s2``, ``t0_3``: the order's place in its group, unambiguous."""
    target = "" if target_idx is None else f"{target_idx}_"
    return f"{ROLE_CODES[role]}{target}{seq}"


def check_digits(body: str) -> str:
    """The two ISO 7064 mod-97 check digits of a digit string."""
    return f"{98 - (int(body) * 100) % 97:02d}"


def client_order_id(group_id: str, role: str, seq: int, target_idx: int | None) -> str:
    """The WOO client id of a group's order (19 digits, as text)."""
    digest = hashlib.sha256(f"{group_id}:{place_code(role, seq, target_idx)}".encode())
    body = TAG + str(int(digest.hexdigest(), 16) % 10**HASH_DIGITS).zfill(HASH_DIGITS)
    return body + check_digits(body)


def is_testudo_id(client_id: str | int | None) -> bool:
    """Whether a WOO client id is one Testudo made (tag, length and check digits)."""
    text = "" if client_id is None else str(client_id)
    if len(text) != LENGTH or not text.isdigit() or not text.startswith(TAG):
        return False
    return check_digits(text[:-2]) == text[-2:]
