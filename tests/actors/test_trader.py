"""The trader actor on its own, under one supervisor, with in-memory ports of our own for the
exchange accounts (no accounts service, no exchange, no HTTP API): it serialises a user's
trades and answers failures before the opening transaction as values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import trio
import trio.testing

from actors import ActorRef, ChildSpec, Supervisor
from actors.trading.trade_group import GroupReply
from actors.trading.trader import CreateTrade, TraderAccounts, TraderActor
from testudo.clock import Clock, ManualClock
from testudo.db import Database
from testudo.exchanges.accounts import AccountView
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import AccountSnapshot
from testudo.problems import Problem
from testudo.trading.idempotency import Claim
from testudo.trading.model import Group
from testudo.trading.opening import TradeInput
from testudo.trading.outcomes import TradeOutcome

USER = "00000000-0000-4000-8000-000000000001"
UNREACHABLE = ExchangeFailure("exchange_unreachable", "binance: down", transient=True)


def account(account_id: str) -> AccountView:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return AccountView(
        account_id, USER, "binance", "main", "api_key", "active", "ab***yz", None, None, {},
        None, now, None,
    )  # fmt: skip


def trade(account_id: str | None = None) -> TradeInput:
    return TradeInput(
        "BTC_USDT", "buy", "market", None, Decimal("0.01"), Decimal("49000"),
        ((Decimal("53000"), None, "limit"),), Decimal(2), account_id, False, None,
    )  # fmt: skip


@attrs.define
class Accounts(TraderAccounts):
    """The user's accounts, in memory; every snapshot takes a second and fails."""

    views: list[AccountView]
    inside: int = 0
    most_inside: int = 0
    snapshots: int = 0

    async def list(self, user_id: str) -> list[AccountView]:
        assert user_id == USER
        return list(self.views)

    async def snapshot(
        self, account: AccountView, symbol: str, *, need_price: bool = True
    ) -> AccountSnapshot:
        self.snapshots += 1
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await trio.sleep(1)
        finally:
            self.inside -= 1
        raise UNREACHABLE


@attrs.define
class Port:
    """The trader's port onto its trading service, for a trader alone."""

    db: Database
    accounts: Accounts
    clock: Clock

    async def start_group(self, group: Group, account: AccountView) -> GroupReply:
        raise AssertionError("no trade reaches the opening transaction in these tests")

    async def recovered_outcome(self, claim: Claim) -> TradeOutcome | None:
        return None


async def start_trader(nursery: trio.Nursery, port: Port) -> ActorRef[CreateTrade]:
    root = Supervisor("root")
    await nursery.start(root.run)
    ref: ActorRef[CreateTrade] = await root.start_child(
        ChildSpec("trader", lambda: TraderActor(USER, port))
    )
    return ref


async def test_without_an_account_the_answer_says_so(
    nursery: trio.Nursery, db: Database, clock: ManualClock
) -> None:
    port = Port(db, Accounts([]), clock)
    ref = await start_trader(nursery, port)
    outcome = await ref.ask(CreateTrade(trade(), None, "fp"))
    assert isinstance(outcome, Problem) and outcome.error == "no_exchange_account"


async def test_several_accounts_need_a_choice_and_a_wrong_one_is_not_found(
    nursery: trio.Nursery, db: Database, clock: ManualClock
) -> None:
    port = Port(db, Accounts([account("a1"), account("a2")]), clock)
    ref = await start_trader(nursery, port)
    outcome = await ref.ask(CreateTrade(trade(), None, "fp"))
    assert isinstance(outcome, Problem) and outcome.error == "exchange_account_required"
    assert outcome.extra["errors"] == [{"field": "exchange_account_id", "message": "required"}]
    missing = await ref.ask(CreateTrade(trade("a3"), None, "fp"))
    assert isinstance(missing, Problem) and missing.error == "not_found"
    assert port.accounts.snapshots == 0


async def test_trades_of_one_user_are_decided_one_at_a_time(
    nursery: trio.Nursery,
    db: Database,
    clock: ManualClock,
    autojump_clock: trio.testing.MockClock,
) -> None:
    port = Port(db, Accounts([account("a1")]), clock)
    ref = await start_trader(nursery, port)
    answers: list[TradeOutcome] = []

    async def create() -> None:
        answers.append(await ref.ask(CreateTrade(trade(), None, "fp"), timeout=60))

    began = trio.current_time()
    async with trio.open_nursery() as inner:
        for _ in range(5):
            inner.start_soon(create)
    assert port.accounts.most_inside == 1  # never two decisions of one user at once
    assert trio.current_time() - began == 5  # five one-second snapshots, one after another
    assert [(type(a), getattr(a, "error", None)) for a in answers] == [
        (Problem, "exchange_unreachable")
    ] * 5
