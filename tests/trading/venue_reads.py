"""What the end-to-end trade scenarios read from each venue, through the user's own ccxt client.

Every venue reports its wallet and its fees its own way, writes Testudo's client ids in its
own format, and is told a stop's trigger under its own ccxt parameter; OKX also counts in
contracts, which :class:`OkxChecks` checks beside the base units Testudo and the engine use.
The venue table (:data:`tests.protection.support.VENUES`) names the readers of each venue.
"""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal as D
from typing import Any

import attrs
import trio

from testudo.exchanges.venues import venue_for

BTC = "BTC/USDT:USDT"


async def call(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(functools.partial(fn, *args))


@attrs.frozen
class Ghosts:
    """Orders left on the account by a group that no longer exists (Testudo's entry and stop
    ids), and one of the trader's own; ``trigger`` is the ccxt parameter of the ghost stop's
    trigger price, ``params`` go with every ghost order."""

    entry: str
    stop: str
    mine: str
    trigger: str = "stopLossPrice"
    params: dict[str, Any] = attrs.field(factory=dict)


class VenueChecks:
    """Checks of a venue's own listing at the scenario's steps (none but on OKX)."""

    async def resting(self, client: Any, orders: list[dict[str, Any]]) -> None:
        """The stop and two targets rest (``orders``: as the engine holds them)."""

    async def at_break_even(self, client: Any) -> None:
        """The first target filled, the stop moved to break-even for the rest."""

    async def stopped_out(self, client: Any) -> None:
        """The group is stopped out: 0.02 in, 0.02 out."""

    async def cleaned_up(self, client: Any) -> None:
        """The ghosts are cancelled."""


# --- Bybit: the unified wallet; fees of the group's executions by orderLinkId.


async def bybit_wallet(client: Any) -> D:
    """The unified wallet's balance (deposit + realised P&L - fees), as Bybit reports it."""
    balance = await call(client.fetch_balance)
    return D(balance["info"]["result"]["list"][0]["totalWalletBalance"])


async def bybit_fees(client: Any, body: dict[str, Any]) -> D:
    """Every fee Bybit charged for the group's orders, from its executions by orderLinkId."""
    trades = await call(client.fetch_my_trades, BTC)
    ours = {o["client_order_id"] for o in body["orders"]}
    fees = [D(t["info"]["execFee"]) for t in trades if t["info"]["orderLinkId"] in ours]
    assert fees, "the group's executions carry its orderLinkIds"
    return sum(fees, D(0))


def bybit_id(client_id: Any) -> bool:
    return str(client_id).startswith("tdo-")


def bybit_ghosts() -> Ghosts:
    return Ghosts("tdo-ghost-e1", "tdo-ghost-s1", "mine-1")


# --- OKX: the USDT cash balance; every fee of the (fresh) account; quantities in contracts.

CONTRACT = D("0.01")  # BTC-USDT-SWAP: ctVal, BTC per contract
CONDITIONAL = {"ordType": "conditional"}


async def okx_wallet(client: Any) -> D:
    """The USDT cash balance (deposit + realised P&L - fees), as OKX reports it."""
    balance = await call(client.fetch_balance)
    return D(balance["info"]["data"][0]["details"][0]["cashBal"])


async def okx_fees(client: Any, body: dict[str, Any]) -> D:
    """Every fee OKX charged the (fresh) account: its fills' ``fee``, negative when charged.
    A fired stop's fill carries no clOrdId (its order came from the algo), so the fills are
    not filtered by the group's ids; the account traded nothing else."""
    del body
    trades = await call(client.fetch_my_trades, BTC)
    assert trades
    return -sum((D(t["info"]["fee"]) for t in trades), D(0))


def okx_id(client_id: Any) -> bool:
    return str(client_id).startswith("tdo") and str(client_id).isalnum()


def okx_ghosts() -> Ghosts:
    """Orders of a group that no longer exists, in Testudo's OKX format, and the user's own."""
    return Ghosts("tdo0000000000000000000Ghoste1", "tdo0000000000000000000Ghosts1", "mine1")


async def contracts_on_okx(client: Any) -> list[tuple[str, float, str]]:
    """What OKX lists, in contracts: (kind, amount, client id) of every open order."""
    regular = await call(client.fetch_open_orders, BTC)
    algos = await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL)
    out = [("order", o["amount"], o["clientOrderId"]) for o in regular]
    out += [("algo", o["amount"], o["info"]["algoClOrdId"]) for o in algos]
    return sorted(out)


class OkxChecks(VenueChecks):
    """Every quantity again in contracts (what OKX holds), and the algo orders' own fields."""

    async def resting(self, client: Any, orders: list[dict[str, Any]]) -> None:
        """The stop for the whole position is 2 contracts (0.02 BTC), each target 1."""
        listed = await contracts_on_okx(client)
        assert [(kind, amount) for kind, amount, _ in listed] == [
            ("algo", 1.0),
            ("algo", 2.0),
            ("order", 1.0),
        ]
        assert {cid for _, _, cid in listed} == {o["client_id"] for o in orders}
        (position,) = await call(client.fetch_positions)
        assert (position["contracts"], position["contractSize"]) == (2.0, 0.01)

    async def at_break_even(self, client: Any) -> None:
        algos = await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL)
        moved_stop = [a for a in algos if a["info"]["slTriggerPx"]]
        assert [(a["amount"], a["info"]["slOrdPx"]) for a in moved_stop] == [(1.0, "-1")]

    async def stopped_out(self, client: Any) -> None:
        fills = await call(client.fetch_my_trades, BTC)
        assert sum((D(str(t["amount"])) for t in fills), D(0)) * CONTRACT == D("0.04")

    async def cleaned_up(self, client: Any) -> None:
        assert await call(client.fetch_open_orders, BTC, None, None, CONDITIONAL) == []


# --- WOO X: the USDT holding; fees by order id (regular and algo); numeric client ids.

woo = venue_for("woo")


async def woo_wallet(client: Any) -> D:
    """The USDT holding (deposit + realised P&L - fees), as WOO reports it."""
    balance = await call(client.fetch_balance)
    (row,) = [r for r in balance["info"]["holding"] if r["token"] == "USDT"]
    return D(row["holding"])


async def woo_fees(client: Any, body: dict[str, Any]) -> D:
    """Every fee WOO charged for the group's orders, from its transaction history (by the
    orders' ids: regular and algo)."""
    trades = await call(client.fetch_my_trades, BTC)
    ours = {o["exchange_order_id"] for o in body["orders"]}
    fees = [D(t["info"]["fee"]) for t in trades if str(t["info"]["orderId"]) in ours]
    assert fees, "the group's executions carry its order ids"
    return sum(fees, D(0))


def woo_id(client_id: Any) -> bool:
    """Testudo's numeric id (the engine lists an algo order's as ``algo-<id>``)."""
    return woo.is_testudo_order(str(client_id).removeprefix("algo-"))


def woo_ghosts() -> Ghosts:
    """Testudo's numeric ids of a group no one owns (a stop on the algo service among them),
    and one of the trader's own numeric ids."""
    ghost = str(uuid.uuid4())
    return Ghosts(
        woo.client_order_id(ghost, "entry", 1),
        woo.client_order_id(ghost, "stop_loss", 1),
        "424242",
        trigger="triggerPrice",
        params={"reduceOnly": False},
    )
