"""SIWE sign-in helpers of the tests: they live in ``tests.support.siwe`` (this module keeps the
old import path working)."""

from __future__ import annotations

from tests.support.siwe import (
    ACCESS_COOKIE,
    HOST_PREFIX,
    REFRESH_COOKIE,
    Wallet,
    WebSession,
    cookies_of,
    iso,
    pair_extension,
    sign_in,
)

__all__ = [
    "ACCESS_COOKIE",
    "HOST_PREFIX",
    "REFRESH_COOKIE",
    "Wallet",
    "WebSession",
    "cookies_of",
    "iso",
    "pair_extension",
    "sign_in",
]
