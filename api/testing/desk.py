"""A signed-in client of a running service (what a desk or a script holds)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx

from testudo.clock import Clock

from .siwe import Wallet, WebSession, sign_in


class UnexpectedStatus(AssertionError):
    """The service answered with another status than the scenario expected."""


@attrs.define
class Desk:
    """A user signed in through real SIWE: ``http`` carries the session's bearer token."""

    http: httpx.AsyncClient
    session: WebSession
    wallet: Wallet

    @property
    def user_id(self) -> str:
        """The user's id (the ``<user_id>`` of ``order.<user_id>``)."""
        return self.session.user_id

    async def call(self, method: str, path: str, *, expect: int | None = 200, **kwargs: Any) -> Any:
        """Send a request and return the JSON answer; a status other than ``expect`` raises
        :class:`UnexpectedStatus` with the problem document (``expect=None`` accepts any)."""
        response = await self.http.request(method, path, **kwargs)
        if expect is not None and response.status_code != expect:
            raise UnexpectedStatus(
                f"{method} {path}: expected {expect}, got {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.call("POST", path, json=json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return await self.call("PUT", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        return await self.call("DELETE", path, **kwargs)


@asynccontextmanager
async def signed_in(
    base_url: str, clock: Clock, wallet: Wallet | None = None
) -> AsyncIterator[Desk]:
    """Sign a fresh wallet (or ``wallet``) in to the service at ``base_url``."""
    wallet = wallet or Wallet()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        session = await sign_in(http, wallet, clock.now())
        http.cookies.clear()  # the bearer token alone authenticates what follows
        http.headers.update(session.bearer())
        yield Desk(http, session, wallet)
