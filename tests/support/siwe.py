"""Real SIWE messages signed with real keys, a session's tokens, and extension pairing.

Sign-in itself is the scenario kit's (``api.testing.siwe``): one implementation for the
repository's tests and for the people writing scenarios.
"""

from __future__ import annotations

from typing import Any

import httpx

from api.testing.siwe import (
    ACCESS_COOKIE,
    HOST_PREFIX,
    REFRESH_COOKIE,
    Wallet,
    WebSession,
    cookies_of,
    iso,
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


async def pair_extension(http: httpx.AsyncClient, desk: WebSession) -> dict[str, Any]:
    """Pair an extension to ``desk``'s session; the extension's tokens."""
    code = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    response = await http.post("/api/v1/auth/extension-pair", json={"code": code})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
