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
    pairing_max_failures_per_code: int = 30  # failed claims during a code's life, then burned
    pairing_ip_failures_per_minute: int = 5
    pairing_ip_failures_per_hour: int = 20
    pairing_global_failures_per_minute: int = 60
    refresh_grace: int = 10
    session_idle_timeout: float = 600.0
    invalid_token_limit: int = 10  # failures of one presented token ...
    invalid_token_window: int = 900  # ... within this many seconds, then 429
    signin_per_client_per_minute: int = 10
    signin_per_second: int = 20
    cookie_secure: bool = True
    cookie_samesite: str = "Strict"
    cookie_domain: str | None = None

    @property
    def host_prefixed_cookies(self) -> bool:
        """``__Host-`` cookies need Secure, Path=/ and no Domain: used whenever allowed."""
        return self.cookie_secure and self.cookie_domain is None

    @property
    def access_cookie(self) -> str:
        return "__Host-access_token" if self.host_prefixed_cookies else "access_token"

    @property
    def refresh_cookie(self) -> str:
        return "__Host-refresh_token" if self.host_prefixed_cookies else "refresh_token"

    @property
    def refresh_cookie_path(self) -> str:
        """``/`` for a ``__Host-`` cookie (the prefix demands it), else the auth routes only."""
        return "/" if self.host_prefixed_cookies else "/api/v1/auth"
