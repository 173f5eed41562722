"""Bybit's per-UID API rate limit as the response headers report it.

Bybit counts requests per UID and endpoint over a rolling second and reports the count on
every private answer (``X-Bapi-Limit``, ``X-Bapi-Limit-Status``,
``X-Bapi-Limit-Reset-Timestamp``). The simulator keeps the same count and reports it, but
does not refuse on its own: a test that wants ``10006 Too many visits!`` injects the
``rate_limit`` fault, so runs stay deterministic.
"""

from __future__ import annotations

from collections import deque

WINDOW_MS = 1_000
DEFAULT_LIMIT = 10
# Requests per second per UID, as the pinned ccxt's rate-limit costs encode them.
ENDPOINT_LIMITS: dict[str, int] = {
    "/v5/order/create": 20,
    "/v5/order/cancel": 20,
    "/v5/order/cancel-all": 1,
    "/v5/order/realtime": 10,
    "/v5/order/history": 10,
    "/v5/execution/list": 10,
    "/v5/position/list": 10,
    "/v5/position/set-leverage": 10,
    "/v5/account/wallet-balance": 50,
    "/v5/account/info": 10,
    "/v5/account/fee-rate": 5,
    "/v5/user/query-api": 10,
    "/v5/asset/coin/query-info": 2,
}


def limit_of(path: str) -> int:
    """The per-second limit of an endpoint."""
    return ENDPOINT_LIMITS.get(path, DEFAULT_LIMIT)


def limit_headers(limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    """The three ``X-Bapi-Limit*`` headers."""
    return {
        "X-Bapi-Limit": str(limit),
        "X-Bapi-Limit-Status": str(max(0, remaining)),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
    }


class RateCounter:
    """Rolling one-second request counts per (account, endpoint)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[int, str], deque[int]] = {}

    def count(self, account_id: int, path: str, now_ms: int) -> dict[str, str]:
        """Record one request and return the headers Bybit would send with its answer."""
        hits = self._hits.setdefault((account_id, path), deque())
        while hits and hits[0] <= now_ms - WINDOW_MS:
            hits.popleft()
        hits.append(now_ms)
        limit = limit_of(path)
        return limit_headers(limit, limit - len(hits), now_ms)
