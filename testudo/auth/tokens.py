"""Access tokens (short JWTs) and refresh tokens (opaque, stored hashed).

Access JWT: HS256 pinned, claims ``iss``, ``aud``, ``sub`` (user id), ``sid`` (session id),
``wal`` (wallet), ``typ`` = ``"access"``, ``iat``, ``nbf``, ``exp``, ``jti``. Times are checked
against the injected clock (pyjwt checks signature, algorithm, issuer and audience).

Refresh token: ``<session id>.<43 chars of base64url randomness>`` (256 bits). Only its
SHA-256 is stored. The session id prefix routes the token to its session actor.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import attrs
import jwt

from .settings import AuthSettings

ALGORITHM = "HS256"
LEEWAY = 30


@attrs.frozen
class AccessClaims:
    user_id: str
    session_id: str
    wallet_address: str
    expires_at: dt.datetime


@attrs.frozen
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }


class InvalidToken(Exception):
    """The token is malformed, forged, of another type or expired."""


def issue_access(
    settings: AuthSettings, user_id: str, session_id: str, wallet: str, now: dt.datetime
) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "sid": session_id,
        "wal": wallet,
        "typ": "access",
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def verify_access(settings: AuthSettings, token: str, now: dt.datetime) -> AccessClaims:
    """Decode and check an access token, or raise :class:`InvalidToken`."""
    if len(token) > 4096:
        raise InvalidToken("token too long")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require": ["exp", "iat", "nbf", "iss", "aud", "sub", "sid", "typ"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if claims.get("typ") != "access":
        raise InvalidToken("wrong token type")
    stamp = now.timestamp()
    if not isinstance(claims["exp"], int) or stamp > claims["exp"] + LEEWAY:
        raise InvalidToken("expired")
    if not isinstance(claims["nbf"], int) or stamp < claims["nbf"] - LEEWAY:
        raise InvalidToken("not yet valid")
    user_id, session_id = _uuid_claim(claims["sub"]), _uuid_claim(claims["sid"])
    if user_id is None or session_id is None:
        raise InvalidToken("sub and sid must be UUIDs")
    return AccessClaims(
        user_id=user_id,
        session_id=session_id,
        wallet_address=str(claims.get("wal", "")),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
    )


def _uuid_claim(value: Any) -> str | None:
    """The canonical text of a UUID claim, or None (a signed token is not trusted blindly)."""
    if not isinstance(value, str) or len(value) > 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def new_refresh_token(session_id: str) -> str:
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return f"{session_id}.{secret}"


def refresh_session_id(token: str) -> str | None:
    """The session id a refresh token belongs to, or None when it is malformed."""
    if len(token) > 200 or "." not in token:
        return None
    prefix = token.split(".", 1)[0]
    try:
        return str(uuid.UUID(prefix))
    except ValueError:
        return None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
