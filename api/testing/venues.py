"""The venues a scenario can trade on, derived from the exchange catalog (nothing per venue).

Every exchange the catalog marks as simulated is available: its credentials are the catalog's
``required_credentials`` (the simulator's account answers to all of them), an agent-wallet
exchange is linked through the real approval (the owner's key signs the typed data), the
simulator's URL prefix and fault key is the exchange's ccxt id and its engine the exchange id.
"""

from __future__ import annotations

from typing import Any

import attrs
from eth_account import Account
from eth_account.messages import encode_typed_data

from testudo.exchanges import catalog
from testudo.exchanges.catalog import ExchangeInfo
from testudo.sim.client import SimAccount

from .desk import Desk
from .siwe import hex_signature


class UnknownVenue(LookupError):
    """The named exchange is not one the simulator can stand in for."""


@attrs.frozen
class Venue:
    """An exchange as a scenario sees it."""

    info: ExchangeInfo

    @property
    def id(self) -> str:
        """Testudo's exchange id (``binance``): the API's ``exchange_name``."""
        return self.info.id

    @property
    def prefix(self) -> str:
        """The simulator's URL prefix, fault and fill key (the ccxt id: ``binanceusdm``)."""
        return self.info.ccxt_id

    @property
    def engine(self) -> str:
        """The simulator's engine (its ``/_sim/state`` key)."""
        return self.info.id

    @property
    def settle(self) -> str:
        """The collateral asset (``USDT``, ``USDC``)."""
        return self.info.settle


def scenario_venues() -> tuple[str, ...]:
    """The ids of every exchange a scenario can use, sorted."""
    return tuple(sorted(catalog.SIMULATED))


def venue_named(name: str) -> Venue:
    """The :class:`Venue` of ``name`` (raise :class:`UnknownVenue` with the choices)."""
    info = catalog.get(name)
    if info is None or info.id not in catalog.SIMULATED:
        choices = ", ".join(scenario_venues())
        raise UnknownVenue(f"no simulated exchange {name!r} (choose from {choices})")
    return Venue(info)


def credentials(venue: Venue, account: SimAccount) -> dict[str, str]:
    """The body of ``POST /exchanges/accounts`` for ``account`` on ``venue``."""
    fields = {name: str(getattr(account, name)) for name in venue.info.required_credentials}
    return {"exchange_name": venue.id, **fields}


def sign_typed(typed: dict[str, Any], private_key: str) -> str:
    """An EIP-712 signature of ``typed`` by ``private_key``."""
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key=private_key)
    return hex_signature(signed.signature)


async def approve_agent(desk: Desk, account: SimAccount) -> str:
    """Link ``account``'s wallet through the agent-wallet approval; return the account id."""
    base = "/api/v1/exchanges/agent-wallet"
    created = await desk.post(
        f"{base}/init", {"wallet_address": account.wallet_address}, expect=201
    )
    account_id = str(created["account_id"])
    data = await desk.post(f"{base}/approve-data", {"account_id": account_id})
    signature = sign_typed(data["typed_data"], account.wallet_private_key)
    await desk.post(
        f"{base}/approve",
        {"account_id": account_id, "signature": signature, "nonce": data["nonce"]},
    )
    return account_id


async def link_account(desk: Desk, venue: Venue, account: SimAccount) -> str:
    """Link ``account`` on ``venue`` to ``desk``'s user; return Testudo's account id."""
    if venue.info.auth_mode == "agent_wallet":
        return await approve_agent(desk, account)
    created = await desk.post("/api/v1/exchanges/accounts", credentials(venue, account), expect=201)
    return str(created["id"])
