"""The trader actor: one per user, serialising the Decision Loop and the creation of groups.

Every ``POST /trades`` of a user passes through this actor one at a time, so two concurrent
requests can never both see "4 open positions" and both open the fifth (20 concurrent trades
against ``max_open_positions = 5`` yield exactly 5). It also owns the idempotency protocol
(:mod:`testudo.trading.idempotency`): a key is claimed in the transaction that records the
decision and the group, the outcome is stored with it, and a duplicate (queued behind the first
in this mailbox) gets the stored outcome.

The trader answers in the domain's words (:mod:`testudo.trading.outcomes`: the group created,
the group awaiting reconciliation, or a problem); only the API turns an outcome into HTTP.

The path to an acknowledged entry is kept short: the user's active accounts are remembered
(and re-checked inside the opening transaction), the account snapshot comes from the
exchange-account actor's kept funds, the decision and every record it leaves are one database
hop (:func:`testudo.trading.opening.open_tx`), and the new group's actor starts from the group
in memory instead of reading it back.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Protocol

import attrs

from actors.runtime.actor import Actor, Ask
from actors.runtime.errors import ActorError
from actors.trading.trade_group import GroupReply
from testudo.clock import Clock
from testudo.db import Database
from testudo.exchanges.accounts import AccountView
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import AccountSnapshot
from testudo.problems import Problem, problem
from testudo.trading.idempotency import (
    FINISH_KEY,
    Claim,
    KeyTaken,
    replay,
    stored_tx,
)
from testudo.trading.model import Group
from testudo.trading.opening import AccountsChanged, Opened, Opening, TradeInput, open_tx
from testudo.trading.outcomes import (
    AwaitingReconciliation,
    Created,
    TradeOutcome,
    outcome_json,
)


class TraderAccounts(Protocol):
    """What a trader needs of the exchange accounts (a narrow port)."""

    async def list(self, user_id: str) -> list[AccountView]: ...

    async def snapshot(
        self, account: AccountView, symbol: str, *, need_price: bool = True
    ) -> AccountSnapshot: ...


class TraderPort(Protocol):
    """What a trader needs from the trading service that owns it (a narrow port, so the
    actor never imports its service)."""

    @property
    def db(self) -> Database: ...
    @property
    def accounts(self) -> TraderAccounts: ...
    @property
    def clock(self) -> Clock: ...

    async def start_group(self, group: Group, account: AccountView) -> GroupReply: ...

    async def recovered_outcome(self, claim: Claim) -> TradeOutcome | None: ...


@attrs.frozen
class CreateTrade(Ask[TradeOutcome]):
    trade: TradeInput
    idempotency_key: str | None
    fingerprint: str


def fingerprint(body: dict[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()


class TraderActor(Actor[CreateTrade]):
    kind = "trader"

    def __init__(self, user_id: str, service: TraderPort) -> None:
        self.user_id = user_id
        self.service = service
        self._accounts: list[AccountView] | None = None
        self._claimed = False  # the current request's key is claimed (by open_tx)

    async def handle(self, message: CreateTrade) -> TradeOutcome:
        return message.reply(await self._create(message))

    async def _create(self, message: CreateTrade) -> TradeOutcome:
        key = message.idempotency_key
        if key is None:
            return await self._decide_and_open(message.trade, None)
        claim = Claim(self.user_id, key, message.fingerprint)
        try:
            outcome = await self._decide_and_open(message.trade, claim)
        except KeyTaken as taken:
            # This trader handles one request at a time: a key still running now was left by
            # a process that died after recording the trade. Answer from what it recorded.
            if taken.row["state"] == "running" and taken.row["fingerprint"] == claim.fingerprint:
                recovered = await self.service.recovered_outcome(claim)
                if recovered is not None:
                    await self._finish(claim, recovered)
                    return recovered
            return self._replayed(taken.row, claim.fingerprint)
        # A failure after the opening transaction leaves the key running on purpose: its
        # retry is answered from the recorded decision and group, never a second group.
        if self._claimed:
            await self._finish(claim, outcome)
            return outcome
        # Answered before the opening transaction (no account, exchange down, ...): a key
        # already used answers as it did then; otherwise nothing was claimed, a retry is new.
        return await self._stored(claim) or outcome

    async def _finish(self, claim: Claim, outcome: TradeOutcome) -> None:
        stored = json.dumps(outcome_json(outcome))
        await self.service.db.execute(FINISH_KEY, (stored, claim.user_id, claim.key))

    async def _stored(self, claim: Claim) -> TradeOutcome | None:
        now = self.service.clock.now()
        row = await self.service.db.run(lambda conn: stored_tx(conn, claim, now))
        return None if row is None else self._replayed(row, claim.fingerprint)

    async def _decide_and_open(self, trade: TradeInput, claim: Claim | None) -> TradeOutcome:
        """Choose the account, take its snapshot, decide and record (claiming the key), then
        open the group."""
        self._claimed = False
        for attempt in range(3):
            remembered = self._accounts is not None and attempt == 0
            accounts = await self._active_accounts(fresh=not remembered)
            chosen = _choose(accounts, trade.exchange_account_id)
            if isinstance(chosen, Problem):
                if remembered:
                    continue  # the remembered accounts may be out of date: read them again
                return chosen
            try:
                snapshot = await self.service.accounts.snapshot(
                    chosen, trade.symbol, need_price=trade.entry_price is None
                )
            except ExchangeFailure as failure:
                if failure.error == "account_gone" and remembered:
                    self._accounts = None  # deleted since it was remembered: choose again
                    continue
                return problem(failure.error, failure.detail)
            opening = Opening(
                user_id=self.user_id,
                account_id=chosen.id,
                exchange=chosen.info.id,
                active_account_ids=frozenset(a.id for a in accounts),
                trade=trade,
                snapshot=snapshot,
                claim=claim,
                now=self.service.clock.now(),
            )
            try:
                opened: Opened = await self.service.db.run(
                    functools.partial(open_tx, opening=opening)
                )
            except AccountsChanged:
                self._accounts = None
                continue
            self._claimed = claim is not None
            return await self._open(opened, chosen)
        changed = "Your exchange accounts changed during this request; retry."
        return problem("accounts_changed", changed)

    async def _active_accounts(self, fresh: bool) -> list[AccountView]:
        """The user's active accounts, remembered between requests (re-checked by open_tx)."""
        if fresh or self._accounts is None:
            listed = await self.service.accounts.list(self.user_id)
            self._accounts = [a for a in listed if a.status == "active"]
        return self._accounts

    async def _open(self, opened: Opened, account: AccountView) -> TradeOutcome:
        """Answer a rejection, or start the group's actor and answer once its entry is acked."""
        decision_json = opened.to_json()
        group = opened.group
        if group is None:
            failed = [c for c in decision_json.get("checks", []) if not c.get("passed")]
            rejected = problem(
                "risk_rejected",
                "The Decision Loop rejected this trade.",
                failed_checks=failed,
                decision=decision_json,
                decision_id=opened.decision_id,
            )
            return rejected
        extra = {
            "decision": decision_json,
            "decision_id": opened.decision_id,
            "warnings": decision_json.get("warnings", []),
        }
        try:
            reply = await self.service.start_group(group, account)
        except ActorError:
            # The group is recorded and its actor is being restarted by its supervisor, which
            # reconciles it with the exchange: report it as accepted, never as a new attempt.
            return AwaitingReconciliation(group.id, extra)
        if isinstance(reply, Problem):
            members: dict[str, Any] = {**reply.extra, "group_id": group.id}
            if reply.retry_after is not None:
                members["retry_after"] = reply.retry_after
            return attrs.evolve(reply, extra=members)
        body = {**reply, **extra}
        if reply.get("status") == "failed":
            detail = reply.get("error") or "The exchange refused the entry."
            return problem("entry_rejected", detail, group=body)
        return Created(body)

    def _replayed(self, row: dict[str, Any], fingerprint: str) -> TradeOutcome:
        """What a duplicate of a recorded request gets."""
        return replay(row, fingerprint)


def _choose(accounts: list[AccountView], wanted: str | None) -> AccountView | Problem:
    """The account a trade goes to: the one named, or the only active one."""
    if wanted is not None:
        chosen = [a for a in accounts if a.id == wanted]
        if not chosen:
            return problem("not_found", "No such active exchange account.")
        return chosen[0]
    if len(accounts) == 1:
        return accounts[0]
    if not accounts:
        return problem("no_exchange_account", "Add an exchange account first.")
    return problem(
        "exchange_account_required",
        "You have several accounts: say which with exchange_account_id.",
        errors=[{"field": "exchange_account_id", "message": "required"}],
    )
