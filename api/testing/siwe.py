"""Real SIWE (EIP-4361) sign-in: a fresh eth-account wallet signs the service's message."""

from __future__ import annotations

import datetime as dt
from http.cookies import SimpleCookie
from typing import Any

import attrs
import httpx
import siwe
from eth_account import Account
from eth_account.messages import encode_defunct

from .settings import SIWE_DOMAIN, SIWE_URI

# The test settings are Secure with no cookie domain: the cookies carry the __Host- prefix.
ACCESS_COOKIE = "__Host-access_token"
REFRESH_COOKIE = "__Host-refresh_token"
HOST_PREFIX = "__Host-"


def iso(moment: dt.datetime) -> str:
    """``moment`` as SIWE's timestamp (UTC, microseconds, ``Z``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hex_signature(signature: bytes) -> str:
    """A signature as ``0x``-prefixed hex (eth-account versions differ on the prefix)."""
    text = signature.hex()
    return text if text.startswith("0x") else "0x" + text


class Wallet:
    """A new Ethereum key that signs EIP-4361 messages (EIP-191 personal_sign)."""

    def __init__(self, domain: str = SIWE_DOMAIN, uri: str = SIWE_URI) -> None:
        self.account = Account.create()
        self.address: str = self.account.address
        self.domain = domain
        self.uri = uri

    def message(self, nonce: str, now: dt.datetime, **overrides: Any) -> str:
        """The SIWE message for ``nonce`` issued at ``now`` (any field can be overridden)."""
        fields: dict[str, Any] = {
            "domain": self.domain,
            "address": self.address,
            "uri": self.uri,
            "version": "1",
            "chain_id": 1,
            "nonce": nonce,
            "issued_at": iso(now),
            "statement": "Sign in to Testudo",
        }
        fields.update(overrides)
        return str(siwe.SiweMessage(**fields).prepare_message())

    def sign(self, text: str) -> str:
        """The personal_sign signature of ``text``."""
        return hex_signature(self.account.sign_message(encode_defunct(text=text)).signature)


def cookies_of(response: httpx.Response) -> dict[str, dict[str, str]]:
    """Set-Cookie headers as name -> {value, and lower-cased attributes}.

    Names are given without the ``__Host-`` prefix (``jar["access_token"]``); ``"name"`` is
    the name as sent."""
    out: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            fields = {k.lower(): str(v) for k, v in morsel.items() if v}
            fields["value"] = morsel.value
            fields["raw"] = header
            fields["name"] = name
            out[name.removeprefix(HOST_PREFIX)] = fields
    return out


@attrs.define
class WebSession:
    """The tokens of a signed-in session and the user it belongs to."""

    access: str
    refresh: str
    user: dict[str, Any]

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"{ACCESS_COOKIE}={self.access}"}

    def refresh_header(self) -> dict[str, str]:
        return {"Cookie": f"{REFRESH_COOKIE}={self.refresh}"}

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    @property
    def user_id(self) -> str:
        return str(self.user["id"])


async def sign_in(http: httpx.AsyncClient, wallet: Wallet, now: dt.datetime) -> WebSession:
    """Sign in with ``wallet``: fetch a nonce, sign the message, verify it."""
    nonce = (await http.get("/api/v1/auth/nonce")).json()["nonce"]
    text = wallet.message(nonce, now)
    response = await http.post(
        "/api/v1/auth/verify-siwe", json={"message": text, "signature": wallet.sign(text)}
    )
    assert response.status_code == 200, response.text
    jar = cookies_of(response)
    return WebSession(
        jar["access_token"]["value"], jar["refresh_token"]["value"], response.json()["user"]
    )
