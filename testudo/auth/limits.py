"""In-memory rate limits for authentication, on the injected clock (tests move time by hand).

* :class:`Buckets`: token buckets by key (a client address, or one global key).
* :class:`SignInThrottle`: sign-in attempts per client and in total (the EIP-4361 check is
  the most expensive thing an anonymous caller can ask for).
* :class:`FailedCredentials`: invalid access tokens counted per presented token (its hash),
  so one client's bad or expired tokens never lock out anyone else behind the same address,
  and a valid token is never refused.

Every table is bounded (:data:`MAX_KEYS`): past it the oldest half is dropped, which can only
forget limits, never invent them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import attrs

MAX_KEYS = 100_000


@attrs.define
class _Bucket:
    tokens: float
    at: dt.datetime


class Buckets:
    """``capacity`` requests per key, refilled evenly over ``period`` seconds."""

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, now: dt.datetime) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                for old in list(self._buckets)[: MAX_KEYS // 2]:
                    del self._buckets[old]
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(self.capacity), bucket.tokens + elapsed * self.rate)
        bucket.at = now
        return bucket

    def wait(self, key: str, now: dt.datetime) -> int | None:
        """Seconds until ``key`` may go again, or None when it may go now (nothing taken)."""
        bucket = self._bucket(key, now)
        if bucket.tokens >= 1:
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def take(self, key: str, now: dt.datetime) -> None:
        self._bucket(key, now).tokens -= 1


GLOBAL = "*"


class SignInThrottle:
    """At most ``per_client`` sign-ins per client per minute and ``total`` per second."""

    def __init__(self, per_client: int, total: int) -> None:
        self._clients = Buckets(per_client, 60.0)
        self._total = Buckets(total, 1.0)

    def admit(self, client: str, now: dt.datetime) -> int | None:
        """None (and the attempt counted) when admitted, else the seconds to wait."""
        wait = self._clients.wait(client, now) or self._total.wait(GLOBAL, now)
        if wait is not None:
            return wait
        self._clients.take(client, now)
        self._total.take(GLOBAL, now)
        return None


def credential_key(token: str) -> str:
    """What a presented token is counted under: its hash (the token itself is never kept)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


class FailedCredentials:
    """After ``limit`` failures of one presented token within ``window`` seconds, that token
    is answered 429 (with Retry-After) instead of 401 until the window has passed."""

    def __init__(self, limit: int, window: int) -> None:
        self._buckets = Buckets(limit, float(window))

    def blocked_for(self, token: str, now: dt.datetime) -> int | None:
        return self._buckets.wait(credential_key(token), now)

    def record(self, token: str, now: dt.datetime) -> None:
        self._buckets.take(credential_key(token), now)
