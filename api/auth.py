"""``/api/v1/auth``: SIWE sign-in, cookie and extension token flows, pairing, revocation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify, request
from quart_schema import tag, validate_request

from actors.auth.service import SignedIn

from .auth_guard import authenticated, check_cross_site, client_ip, failure, principal
from .context import system
from .problems import Problem, problem

auth_blueprint = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
AUTH = tag(["auth"])


class VerifySiwe(BaseModel):
    message: str = Field(min_length=1, max_length=4096)
    signature: str = Field(min_length=1, max_length=200)


class PairClaim(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$")


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)


def _set_session_cookies(response: Response, signed: SignedIn) -> Response:
    settings = system().auth.settings
    common: dict[str, Any] = {
        "secure": settings.cookie_secure,
        "httponly": True,
        "samesite": settings.cookie_samesite,
        "domain": settings.cookie_domain,
    }
    response.set_cookie(
        settings.access_cookie,
        signed.tokens.access_token,
        max_age=settings.access_ttl,
        path="/",
        **common,
    )
    response.set_cookie(
        settings.refresh_cookie,
        signed.tokens.refresh_token,
        max_age=settings.refresh_ttl,
        path=settings.refresh_cookie_path,
        **common,
    )
    return response


def _clear_session_cookies(response: Response) -> Response:
    settings = system().auth.settings
    cookies = (
        (settings.access_cookie, "/"),
        (settings.refresh_cookie, settings.refresh_cookie_path),
    )
    for name, path in cookies:
        response.set_cookie(
            name,
            "",
            max_age=0,
            path=path,
            secure=settings.cookie_secure,
            httponly=True,
            samesite=settings.cookie_samesite,
            domain=settings.cookie_domain,
        )
    return response


def _result(outcome: SignedIn | Problem) -> SignedIn:
    if isinstance(outcome, Problem):
        raise failure(outcome)
    return outcome


@auth_blueprint.get("/nonce")
@AUTH
async def nonce() -> dict[str, str]:
    """A fresh single-use SIWE nonce (32 alphanumerics, 5-minute lifetime)."""
    return {"nonce": await system().auth.new_nonce()}


@auth_blueprint.post("/verify-siwe")
@AUTH
@validate_request(VerifySiwe)
async def verify_siwe(data: VerifySiwe) -> Response:
    """Verify a signed EIP-4361 message; set the session cookies; body ``{"user"}``."""
    signed = _result(
        await system().auth.sign_in(
            data.message, data.signature, client_ip(), request.headers.get("User-Agent")
        )
    )
    return _set_session_cookies(jsonify({"user": signed.user}), signed)


@auth_blueprint.post("/refresh")
@AUTH
async def refresh() -> Response:
    """Rotate the web session's refresh cookie; a reused (rotated) token revokes the session."""
    token = request.cookies.get(system().auth.settings.refresh_cookie)
    if not token:
        raise failure(problem("unauthorized", "No refresh_token cookie."))
    check_cross_site()  # the refresh cookie authenticates this write like the access cookie
    signed = _result(await system().auth.refresh(token, "web"))
    return _set_session_cookies(jsonify({"user": signed.user}), signed)


@auth_blueprint.post("/extension-refresh")
@AUTH
@validate_request(RefreshBody)
async def extension_refresh(data: RefreshBody) -> dict[str, Any]:
    """Rotate an extension session's refresh token: ``{"tokens", "user"}``."""
    signed = _result(await system().auth.refresh(data.refresh_token, "extension"))
    return {"tokens": signed.tokens.to_json(), "user": signed.user}


@auth_blueprint.post("/pair-extension")
@AUTH
@authenticated
async def pair_extension() -> dict[str, Any]:
    """A single-use 6-digit pairing code for the browser extension (5 minutes)."""
    code, expires = await system().auth.pair_extension(principal())
    return {
        "code": code,
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
        "expires_in": system().auth.settings.pairing_ttl,
    }


@auth_blueprint.get("/pair-status")
@AUTH
@authenticated
async def pair_status() -> dict[str, bool]:
    """Whether an extension claimed one of this user's codes in the last 5 minutes."""
    return {"paired": await system().auth.pair_status(principal())}


@auth_blueprint.post("/extension-pair")
@AUTH
@validate_request(PairClaim)
async def extension_pair(data: PairClaim) -> dict[str, Any]:
    """Claim a pairing code: ``{"tokens": {...}, "user": {...}}`` (throttled)."""
    signed = _result(
        await system().auth.claim_pairing(data.code, client_ip(), request.headers.get("User-Agent"))
    )
    return {"tokens": signed.tokens.to_json(), "user": signed.user}


@auth_blueprint.get("/me")
@AUTH
@authenticated
async def me() -> dict[str, Any]:
    """The current user."""
    who = principal()
    return {
        "user": {"id": who.user_id, "wallet_address": who.wallet_address},
        "session": {"id": who.session_id, "kind": who.session_kind},
    }


@auth_blueprint.post("/logout")
@AUTH
@authenticated
async def logout() -> Response:
    """Revoke the current session and clear the cookies."""
    await system().auth.logout(principal())
    return _clear_session_cookies(jsonify({"message": "Logged out"}))


@auth_blueprint.post("/revoke-all")
@AUTH
@authenticated
async def revoke_all() -> Response:
    """Revoke every session of the user (web and extension); returns how many."""
    count = await system().auth.revoke_all(principal())
    return _clear_session_cookies(
        jsonify({"message": "All sessions revoked", "revoked_count": count})
    )
