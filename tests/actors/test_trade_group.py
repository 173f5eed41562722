"""The trade-group actor on its own, under one supervisor, with the real PostgreSQL fixture and
an in-memory accounts port of our own: the group is loaded before the first message."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import pytest
import trio

from actors import Ask, ChildSpec, Supervisor
from actors.trading.group_exchange import GroupAccounts
from actors.trading.trade_group import GroupServices, TradeGroupActor
from testudo.clock import ManualClock
from testudo.db import Database
from testudo.exchanges.accounts import AccountView

R = TypeVar("R")


class NoAccounts(GroupAccounts):
    """An accounts port that no test here reaches: the group never gets to the exchange."""

    async def get(self, user_id: str, account_id: str) -> AccountView | None:
        raise AssertionError("not reached")

    async def call(
        self, account: AccountView, fn: Any, *, read_only: bool = True, timeout: float = 120.0
    ) -> Any:
        raise AssertionError("not reached")

    async def ask(self, account: AccountView, message: Ask[R], timeout: float = 60.0) -> R:
        raise AssertionError("not reached")

    def refresh_soon(self, account_id: str) -> None:
        raise AssertionError("not reached")


async def test_a_group_that_does_not_exist_fails_to_start(
    nursery: trio.Nursery, db: Database, clock: ManualClock
) -> None:
    root = Supervisor("root")
    await nursery.start(root.run)
    services = GroupServices(db, NoAccounts(), clock)
    group_id = str(uuid.uuid4())
    with pytest.raises(LookupError, match=group_id):
        await root.start_child(ChildSpec("group", lambda: TradeGroupActor(group_id, services)))
    assert root.children == {}
