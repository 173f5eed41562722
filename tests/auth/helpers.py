"""Real SIWE messages signed with real keys, and a small client that carries the session."""

from __future__ import annotations

import datetime as dt
from http.cookies import SimpleCookie
from typing import Any

import attrs
import httpx
import siwe
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.conftest import SIWE_DOMAIN, SIWE_URI

# The test settings are Secure with no cookie domain: the cookies carry the __Host- prefix.
ACCESS_COOKIE = "__Host-access_token"
REFRESH_COOKIE = "__Host-refresh_token"
HOST_PREFIX = "__Host-"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Wallet:
    """An Ethereum key that signs EIP-4361 messages (EIP-191 personal_sign)."""

    def __init__(self) -> None:
        self.account = Account.create()
        self.address = self.account.address

    def message(self, nonce: str, now: dt.datetime, **overrides: Any) -> str:
        fields: dict[str, Any] = {
            "domain": SIWE_DOMAIN,
            "address": self.address,
            "uri": SIWE_URI,
            "version": "1",
            "chain_id": 1,
            "nonce": nonce,
            "issued_at": iso(now),
            "statement": "Sign in to Testudo",
        }
        fields.update(overrides)
        return str(siwe.SiweMessage(**fields).prepare_message())

    def sign(self, text: str) -> str:
        signature = self.account.sign_message(encode_defunct(text=text)).signature.hex()
        return signature if signature.startswith("0x") else "0x" + signature


def cookies_of(response: httpx.Response) -> dict[str, dict[str, str]]:
    """Set-Cookie headers as name -> {value, and lower-cased attributes}.

    Names are given without the ``__Host-`` prefix (``jar["access_token"]``); ``"name"`` is
    the name as sent."""
    out: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attrs_ = {k.lower(): str(v) for k, v in morsel.items() if v}
            attrs_["value"] = morsel.value
            attrs_["raw"] = header
            attrs_["name"] = name
            out[name.removeprefix(HOST_PREFIX)] = attrs_
    return out


@attrs.define
class WebSession:
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


async def pair_extension(http: httpx.AsyncClient, desk: WebSession) -> dict[str, Any]:
    code = (await http.post("/api/v1/auth/pair-extension", headers=desk.bearer())).json()["code"]
    response = await http.post("/api/v1/auth/extension-pair", json={"code": code})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
