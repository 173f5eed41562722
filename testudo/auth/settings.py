"""Authentication settings (resolved once at start-up)."""

from __future__ import annotations

import attrs


@attrs.frozen
class AuthSettings:
    """What sign-in checks against and how long things live.

    ``siwe_domain`` and ``siwe_uri`` come from configuration, never from the request's Host
    header. ``jwt_secret`` is at least 32 bytes (generated into the data dir when absent).
    """

    siwe_domain: str
    siwe_uri: str
    chain_ids: frozenset[int] = frozenset({1})
    jwt_secret: bytes = b""
    jwt_issuer: str = "testudo"
    jwt_audience: str = "testudo-api"
    access_ttl: int = 900
    refresh_ttl: int = 7 * 24 * 3600
    nonce_ttl: int = 300
    issued_at_skew: int = 60
    pairing_ttl: int = 300
    pairing_status_window: int = 300
    pairing_max_failures_per_code: int = 5
    pairing_ip_failures_per_minute: int = 5
    pairing_global_failures_per_minute: int = 60
    refresh_grace: int = 10
    session_idle_timeout: float = 600.0
    invalid_token_limit: int = 10
    invalid_token_window: int = 900
    cookie_secure: bool = True
    cookie_samesite: str = "Strict"
    cookie_domain: str | None = None
