"""The exchange-account actor on its own: one supervisor, the real simulator over HTTP (real
ccxt), the real PostgreSQL fixture; no accounts service, no registry, no HTTP API."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import trio

from actors import ActorRef, ChildSpec, Supervisor
from actors.exchanges.exchange_account import (
    AccountIdentity,
    AccountMessage,
    Call,
    Done,
    ExchangeAccountActor,
    FetchBalance,
    Snapshot,
)
from testudo.db import Database
from testudo.exchanges import catalog
from testudo.exchanges.clients import ClientFactory, Credentials
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.venues import AccountSnapshot
from testudo.sim.client import SimClient

BINANCE = catalog.BY_ID["binance"]


async def start_account(
    nursery: trio.Nursery, db: Database, sim: SimClient, balance: str = "5000"
) -> tuple[ActorRef[AccountMessage], HealthBoard, AccountIdentity]:
    funded = await sim.create_account(balance)
    identity = AccountIdentity(
        str(uuid.uuid4()),
        str(uuid.uuid4()),
        BINANCE,
        Credentials(funded.api_key, funded.secret),
    )
    loads: list[str] = []

    async def load() -> AccountIdentity:  # what the accounts service reads from the vault
        loads.append(identity.account_id)
        return identity

    clients = ClientFactory(base_url=sim.base_url, timeout_ms=1500, rate_limit=False)
    health = HealthBoard()
    root = Supervisor("root")
    await nursery.start(root.run)
    ref: ActorRef[AccountMessage] = await root.start_child(
        ChildSpec(
            "account",
            lambda: ExchangeAccountActor(load, clients, health, db, retry_delay=0.01),
        )
    )
    assert loads == [identity.account_id]  # loaded before the first message
    return ref, health, identity


async def test_snapshot_and_balance_are_typed_replies(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, _, _ = await start_account(nursery, db, sim)
    snapshot = await ref.ask(Snapshot("BTC_USDT"), timeout=30)
    assert isinstance(snapshot, AccountSnapshot)
    assert snapshot.equity == Decimal("5000")
    assert snapshot.rules.last_price > 0
    balance = await ref.ask(FetchBalance(), timeout=30)
    assert isinstance(balance, Done)
    assert {b.asset for b in balance.value} == {"USDT"}


async def test_the_balance_is_published_as_an_event(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, _, identity = await start_account(nursery, db, sim, balance="1234")
    await ref.ask(FetchBalance(), timeout=30)
    row = await db.fetch_one(
        "SELECT payload FROM events WHERE stream = %s ORDER BY seq DESC LIMIT 1",
        (f"balance.{identity.user_id}",),
    )
    assert row is not None
    payload: dict[str, Any] = row["payload"]
    assert payload["e"] == "balance_update" and payload["account_id"] == identity.account_id


async def test_an_exchange_failure_is_a_value_and_the_actor_lives_on(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, health, identity = await start_account(nursery, db, sim)
    await sim.set_fault("binanceusdm", "outage")
    failed = await ref.ask(FetchBalance(), timeout=30)
    assert isinstance(failed, ExchangeFailure)
    assert failed.transient and failed.error == "exchange_unreachable"
    recorded = health.get(identity.account_id)
    assert recorded is not None and not recorded.ok  # the health board saw the outage
    await sim.clear_faults()
    assert isinstance(await ref.ask(FetchBalance(), timeout=30), Done)


async def test_a_call_runs_on_the_accounts_client(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, _, _ = await start_account(nursery, db, sim)
    done = await ref.ask(Call(lambda client: client.id), timeout=30)
    assert isinstance(done, Done) and done.value == "binanceusdm"


async def test_an_unknown_symbol_is_refused_not_crashed(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, _, _ = await start_account(nursery, db, sim)
    refused = await ref.ask(Snapshot("NOPE_USDT"), timeout=30)
    assert isinstance(refused, ExchangeFailure) and refused.error == "bad_symbol"
    done = await ref.ask(Call(lambda client: client.id), timeout=30)  # same incarnation
    assert isinstance(done, Done) and done.value == "binanceusdm"


async def test_an_unknown_symbol_does_not_spoil_the_next_snapshot(
    nursery: trio.Nursery, db: Database, sim: SimClient
) -> None:
    ref, _, _ = await start_account(nursery, db, sim)
    await ref.ask(Snapshot("NOPE_USDT"), timeout=30)
    assert isinstance(await ref.ask(Snapshot("BTC_USDT"), timeout=30), AccountSnapshot)
