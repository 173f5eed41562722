"""Client order ids, derived from the group so an order can always be found again.

Every order a group sends gets an id computed from (group id, role, target, sequence) before
the exchange call. After a timeout or a crash the order is looked up by that id, never sent
again. The ids carry a recognisable prefix so ``POST /trades/cleanup`` can tell Testudo's
orders from the user's own:

* Binance (``newClientOrderId``, at most 36 of ``[.A-Z:/a-z0-9_-]``): ``tdo-<22 chars>-<role>``;
* Hyperliquid (``cloid``, 16 bytes hex): ``0x7e57`` followed by 28 hex digits of a hash.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

BINANCE_PREFIX = "tdo-"
HYPERLIQUID_PREFIX = "0x7e57"
ROLE_CODES = {"entry": "e", "stop_loss": "s", "take_profit": "t", "close": "c"}


def client_order_id(
    exchange: str, group_id: str, role: str, seq: int, target_idx: int | None = None
) -> str:
    code = ROLE_CODES[role] + (str(target_idx) if target_idx is not None else "") + str(seq)
    if exchange == "hyperliquid":
        digest = hashlib.sha256(f"{group_id}:{code}".encode()).hexdigest()
        return HYPERLIQUID_PREFIX + digest[:28]
    short = base64.urlsafe_b64encode(uuid.UUID(group_id).bytes).rstrip(b"=").decode()
    return f"{BINANCE_PREFIX}{short}-{code}"[:36]


def is_testudo_order(exchange: str, client_id: str | None) -> bool:
    """Whether an order on the exchange was placed by Testudo."""
    if not client_id:
        return False
    prefix = HYPERLIQUID_PREFIX if exchange == "hyperliquid" else BINANCE_PREFIX
    return client_id.lower().startswith(prefix)
