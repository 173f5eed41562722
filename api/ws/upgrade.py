"""What the WebSocket upgrade request says about the caller: token, origin, address.

The access token comes from ``Authorization: Bearer <token>`` (preferred) or the
``access_token`` cookie. A browser sends cookies on cross-site WebSocket upgrades too
(cross-site WebSocket hijacking), so a cookie token is only accepted when the request has no
``Origin`` or an allowed one; a bearer header cannot be forged by another site.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie

import attrs


@attrs.frozen
class UpgradeCredentials:
    token: str | None
    from_cookie: bool = False
    origin: str | None = None


def credentials(
    headers: Iterable[tuple[bytes, bytes]], cookie_name: str = "access_token"
) -> UpgradeCredentials:
    """The token of an upgrade request (bearer header first, then cookie) and its Origin."""
    bearer: str | None = None
    cookie: str | None = None
    origin: str | None = None
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "authorization":
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                bearer = rest.strip()
        elif name == "cookie" and cookie is None:
            cookie = _cookie(value, cookie_name)
        elif name == "origin":
            origin = value.strip()
    if bearer is not None:
        return UpgradeCredentials(bearer, False, origin)
    return UpgradeCredentials(cookie, cookie is not None, origin)


def cookie_allowed(creds: UpgradeCredentials, allowed_origins: Iterable[str]) -> bool:
    """Whether a cookie token may be used: no Origin (not a browser) or an allowed one."""
    return creds.origin is None or creds.origin in set(allowed_origins)


def _cookie(header: str, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None
