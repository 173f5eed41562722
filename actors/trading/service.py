"""What the API asks of trading: create (through the user's trader actor), read, command groups.

Commands go to the owning actor (the user's :class:`~actors.trading.trader.TraderActor` for
creation, the group's :class:`~actors.trading.trade_group.TradeGroupActor` for everything else),
which finishes the work even if the HTTP client goes away. Plain reads go straight to the
database.

Each user's actors live in their own subtree, ``root/trades/user-<id>`` (the trader and every
trade group of the user), each an isolated child with its own restart budget, so nothing one
user sends can stop, slow or restart another user's actors. A subtree that restarts, and the
``trades`` supervisor itself, rehydrate the live groups they held (:meth:`TradesService.adopt`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

import trio

from actors import Ask, Registry, Supervisor, SupervisorRef
from actors.cluster.leases import ClusterLeases
from actors.exchanges.service import AccountsService
from actors.runtime.errors import ActorError, ActorStopped
from actors.trading.trade_group import (
    DEFAULT_CLOSE_SLIPPAGE,
    CancelGroup,
    Describe,
    GroupReply,
    GroupServices,
    Reconcile,
    Start,
    TradeGroupActor,
)
from actors.trading.trader import CreateTrade, TraderActor
from testudo.db import Database
from testudo.exchanges.accounts import AccountView
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import AccountSnapshot, OrderState, venue_for
from testudo.problems import Problem, problem
from testudo.sides import beyond, protects, stop_where
from testudo.trading import store
from testudo.trading.idempotency import Claim, orphan_decision_tx
from testudo.trading.model import TERMINAL, Group
from testudo.trading.opening import TradeInput
from testudo.trading.outcomes import Created, TradeOutcome
from testudo.trading.views import decision_json, event_json, group_json

log = logging.getLogger("testudo.trading")
R = TypeVar("R")
DESCRIBE_TIMEOUT = 1.0  # seconds GET /trades/{id} waits for a busy group actor


class TradesService:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        supervisor: SupervisorRef,
        accounts: AccountsService,
        clock: Any,
        poll_interval: float = 2.0,
        close_slippage: Decimal = DEFAULT_CLOSE_SLIPPAGE,
        leases: ClusterLeases | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.supervisor = supervisor
        self.accounts = accounts
        self.clock = clock
        self.leases = leases
        self.group_services = GroupServices(
            db, accounts, clock, poll_interval, close_slippage, fence=leases
        )

    # -- the user's subtree --------------------------------------------------------------

    async def tenant(self, user_id: str) -> SupervisorRef:
        """The user's subtree ``root/trades/user-<id>``, started on first use, on the node
        that holds the user's lease (elsewhere: the ``not_owner`` problem)."""
        if self.leases is not None:
            await self.leases.require(user_id)
        return await self.registry.ensure_supervisor(
            ("tenant", user_id),
            self.supervisor,
            self._tenant_factory(user_id),
            name=f"user-{user_id}",
        )

    def _tenant_factory(self, user_id: str) -> Callable[[], Supervisor]:
        """Builds each incarnation of a user's subtree. The first starts empty (its groups are
        started by whoever needs them); every later one rehydrates the user's live groups."""
        incarnations = 0

        def make() -> Supervisor:
            nonlocal incarnations
            incarnations += 1
            adopt = None if incarnations == 1 else functools.partial(self.adopt, user_id=user_id)
            return Supervisor(f"user-{user_id}", intensity=5, period=60, adopt=adopt)

        return make

    async def adopt(
        self, supervisor: Supervisor | None = None, *, user_id: str | None = None
    ) -> None:
        """Rehydrate the live groups of ``user_id`` (of everyone when None) after a restart."""
        del supervisor
        count = await self.rehydrate(user_id)
        log.info(
            "trade groups adopted",
            extra={
                "json_fields": {"event": "trade_groups_adopted", "user_id": user_id, "count": count}
            },
        )

    async def create(
        self, user_id: str, trade: TradeInput, key: str | None, fingerprint: str
    ) -> TradeOutcome:
        outcome: TradeOutcome = await self.registry.ask(
            ("trader", user_id),
            await self.tenant(user_id),
            lambda: TraderActor(user_id, self),
            CreateTrade(trade, key, fingerprint),
            timeout=180,
            idle_timeout=600,
        )
        return outcome

    async def start_group(self, group: Group, account: AccountView) -> GroupReply:
        """Spawn the actor of a group just recorded (from ``group`` in memory, not the
        database) and ask it to send the entry; reply what :class:`Start` replies."""
        first: list[Group] = [group]

        def factory() -> TradeGroupActor:
            # A restart after a crash reads the group back from the database.
            preloaded = first.pop() if first else None
            return TradeGroupActor(group.id, self.group_services, group=preloaded, account=account)

        return await self.registry.ask(
            ("trade_group", group.id),
            await self.tenant(group.user_id),
            factory,
            Start(),
            timeout=180,
        )

    async def ask_group(self, user_id: str, group_id: str, message: Ask[R]) -> R:
        return await self.registry.ask(
            ("trade_group", group_id),
            await self.tenant(user_id),
            lambda: TradeGroupActor(group_id, self.group_services),
            message,
            timeout=180,
        )

    async def recovered_outcome(self, claim: Claim) -> TradeOutcome | None:
        """The outcome of a key whose request died after recording its decision: the group
        as it is now (created, or ``entry_rejected`` when its entry was refused), or the
        recorded rejection."""
        row = await self.db.run(functools.partial(orphan_decision_tx, claim=claim))
        if row is None:
            return None
        if row["group_id"] is None:
            decision = await self.db.fetch_one(store.SELECT_DECISION_BY_ID, (row["decision_id"],))
            body = decision_json(decision)
            failed = [c for c in (body or {}).get("checks", []) if not c.get("passed")]
            rejected = problem(
                "risk_rejected",
                "The Decision Loop rejected this trade.",
                failed_checks=failed,
                decision=body,
                decision_id=row["decision_id"],
            )
            return rejected
        group = await self.get(claim.user_id, row["group_id"])
        if group is None:
            return None
        if group["status"] == "failed":
            detail = group.get("error") or "The exchange refused the entry."
            return problem("entry_rejected", detail, group=group)
        return Created(group)

    async def owned(self, user_id: str, group_id: str) -> bool:
        import uuid

        try:
            uuid.UUID(group_id)
        except ValueError:
            return False
        return await self.db.fetch_one(store.OWNED_GROUP, (group_id, user_id)) is not None

    async def get(self, user_id: str, group_id: str) -> dict[str, Any] | None:
        if not await self.owned(user_id, group_id):
            return None

        live = await self._describe_live(group_id)

        def read(conn: Any) -> dict[str, Any] | None:
            body = live
            if body is None:
                group = store.load_group_tx(conn, group_id)
                if group is None:
                    return None
                body = group_json(group)
            decision = conn.execute(store.SELECT_DECISION, (group_id,)).fetchone()
            body["decision"] = decision_json(decision)
            body["events"] = [event_json(e) for e in store.events_tx(conn, group_id)]
            return body

        return await self.db.run(read)

    async def _describe_live(self, group_id: str) -> dict[str, Any] | None:
        """The group as its running actor knows it (newer than the database for the few
        milliseconds between an acknowledgement and its save), or None."""
        ref = self.registry.lookup(("trade_group", group_id))
        if ref is None:
            return None
        with trio.move_on_after(DESCRIBE_TIMEOUT):
            try:
                return await ref.ask(Describe())
            except ActorError:
                return None
        return None  # busy with a slow exchange call: the database's view will do

    async def list_live(self, user_id: str) -> list[dict[str, Any]]:
        """The user's live groups, newest first: as their running actors know them (asked
        concurrently), the database's view for the others."""
        ids = [r["id"] for r in await self.db.fetch_all(store.USER_LIVE_GROUPS, (user_id,))]
        described: dict[str, dict[str, Any]] = {}

        async def describe(group_id: str) -> None:
            body = await self._describe_live(group_id)
            if body is not None:
                described[group_id] = body

        async with trio.open_nursery() as nursery:
            for group_id in ids:
                if self.registry.lookup(("trade_group", group_id)) is not None:
                    nursery.start_soon(describe, group_id)
        missing = [group_id for group_id in ids if group_id not in described]

        def read(conn: Any) -> dict[str, dict[str, Any]]:
            stored = {}
            for group_id in missing:
                group = store.load_group_tx(conn, group_id)
                if group is not None:
                    stored[group_id] = group_json(group)
            return stored

        bodies = {**(await self.db.run(read) if missing else {}), **described}
        return [
            bodies[group_id]
            for group_id in ids
            if group_id in bodies and bodies[group_id]["status"] not in TERMINAL
        ]

    async def command(
        self, user_id: str, group_id: str, message: Ask[GroupReply]
    ) -> GroupReply | None:
        if not await self.owned(user_id, group_id):
            return None
        if (closed := await self._closed(group_id)) is not None:
            return closed
        try:
            return await self.ask_group(user_id, group_id, message)
        except ActorStopped:
            # The group ended between the check and the command (its actor stopped).
            closed = await self._closed(group_id)
            if closed is None:
                raise
            return closed

    async def _closed(self, group_id: str) -> Problem | None:
        row = await self.db.fetch_one(store.GROUP_STATUS, (group_id,))
        if row is not None and row["status"] in TERMINAL:
            return Problem("group_closed", f"The group is already {row['status']}.")
        return None

    async def _live_group(self, user_id: str, group_id: str) -> Group:
        if not await self.owned(user_id, group_id):
            raise problem("not_found", "No such trade group.")
        group: Group | None = await self.db.run(
            functools.partial(store.load_group_tx, group_id=group_id)
        )
        if group is None or group.status in TERMINAL or group.closing:
            raise problem("group_closed", "The group is no longer live.")
        return group

    async def _mark_and_equity(self, user_id: str, group: Group) -> AccountSnapshot:
        account = await self.accounts.get(user_id, group.account_id)
        if account is None:
            raise problem("account_gone", "The group's exchange account was removed.")
        try:
            return await self.accounts.snapshot(account, group.symbol, need_price=True)
        except ExchangeFailure as failure:
            raise problem(failure.error, failure.detail) from None

    async def check_stop_change(self, user_id: str, group_id: str, price: Decimal) -> None:
        """Refuse a stop on the wrong side of the market or one that raises risk past limits."""
        from testudo.risk.config import load_risk_config
        from testudo.risk.decision import AccountState, stop_change_allowed

        group = await self._live_group(user_id, group_id)
        snapshot = await self._mark_and_equity(user_id, group)
        mark = snapshot.rules.last_price
        reference = mark if group.status == "active" else group.entry_price
        if not protects(group.side, price, reference):
            where = stop_where(group.side)
            raise problem(
                "stop_wrong_side",
                f"A {group.side} position's stop must be {where} {reference}.",
                errors=[{"field": "price", "message": f"must be {where} {reference}"}],
            )
        config = await load_risk_config(self.db, user_id)
        state = AccountState(
            equity=snapshot.equity,
            available=snapshot.available,
            open_positions=0,
            daily_pnl=Decimal(0),
            day_start_equity=snapshot.equity,
        )
        quantity = group.position if group.status == "active" else group.quantity
        entry = group.average_entry_price or group.entry_price
        check = stop_change_allowed(
            config,
            state,
            group.side,
            entry,
            quantity,
            price,
            current_stop=group.stop_price_now,
            mark_price=mark,
        )
        if not check.passed:
            raise problem(
                "risk_rejected",
                check.message,
                failed_checks=[
                    {
                        "code": check.code,
                        "limit": check.limit,
                        "actual": check.actual,
                        "message": check.message,
                    }
                ],
            )

    async def checked_targets(
        self,
        user_id: str,
        group_id: str,
        targets: list[tuple[Decimal, Decimal | None, str]],
    ) -> tuple[tuple[Decimal, Decimal, str], ...]:
        """Side-checked targets with quantities (missing ones split the rest), lot-rounded."""
        group = await self._live_group(user_id, group_id)
        entry = group.average_entry_price or group.entry_price
        for price, _, _ in targets:
            if not beyond(group.side, price, entry):
                raise problem(
                    "target_wrong_side",
                    f"Targets of a {group.side} must be beyond the entry {entry}.",
                    errors=[{"field": "take_profit", "message": "wrong side"}],
                )
        limit = group.position if group.status == "active" else group.quantity
        given = sum((q for _, q, _ in targets if q is not None), Decimal(0))
        missing = [t for t in targets if t[1] is None]
        share = ((limit - given) / len(missing)) if missing else Decimal(0)
        out = []
        for price, quantity, kind in targets:
            amount = quantity if quantity is not None else share
            amount = amount.quantize(group.lot_size, rounding=ROUND_DOWN)
            price = price.quantize(group.tick_size, rounding=ROUND_HALF_UP)
            if amount <= 0:
                raise problem(
                    "validation_error",
                    "A target quantity rounds to zero.",
                    errors=[{"field": "take_profit", "message": "quantity too small"}],
                )
            out.append((price, amount, kind))
        if sum((q for _, q, _ in out), Decimal(0)) > limit:
            raise problem(
                "targets_exceed_position", f"Target quantities exceed the position ({limit})."
            )
        return tuple(out)

    async def _cancel_ghosts(
        self, user_id: str, account: AccountView, owned: set[str]
    ) -> list[dict[str, Any]]:
        """Cancel the account's Testudo-tagged orders that no live group owns."""
        venue = venue_for(account.info)
        try:
            orders = await self.accounts.with_client(user_id, account.id, venue.open_orders)
        except ExchangeFailure as failure:
            log.warning(
                "cleanup could not list orders",
                extra={
                    "json_fields": {
                        "event": "cleanup_failed",
                        "account_id": account.id,
                        "error": failure.error,
                    }
                },
            )
            return []
        cancelled = []
        for state in orders:
            if not venue.is_testudo_order(state.client_order_id):
                continue
            if state.client_order_id in owned:
                continue
            done = await _ghost_cancelled(self.accounts, user_id, account, state)
            if done is not None:
                cancelled.append(done)
        return cancelled

    async def rehydrate_user(self, user_id: str) -> None:
        """The lease keeper's hook: this node now owns ``user_id``; start its live groups."""
        await self.rehydrate(user_id)

    async def release(self, user_ids: list[str]) -> None:
        """The lease keeper's hook: this node lost these users; stop their subtrees (their
        groups go on at the node that took them over)."""
        current = self.supervisor.current
        for user_id in user_ids:
            if current is not None and self.registry.lookup(("tenant", user_id)) is not None:
                await current.stop_child(f"user-{user_id}", reason="lease lost")

    async def rehydrate(self, user_id: str | None = None) -> int:
        """Start (and reconcile) the actor of every group that is not finished (of one user's
        groups when ``user_id`` is given), each in its user's subtree; only the users this
        node holds the lease of."""
        if user_id is None:
            rows = await self.db.fetch_all(store.LIVE_GROUP_IDS)
        else:
            rows = await self.db.fetch_all(store.USER_LIVE_GROUPS, (user_id,))
        if self.leases is not None:
            held = set(self.leases.held())
            rows = [r for r in rows if (user_id or r["user_id"]) in held]
        for row in rows:
            owner = user_id or row["user_id"]
            ref = await self.registry.ensure(
                ("trade_group", row["id"]),
                await self.tenant(owner),
                functools.partial(TradeGroupActor, row["id"], self.group_services),
            )
            with contextlib.suppress(ActorError):
                ref.send_nowait(Reconcile())
        return len(rows)

    async def cleanup(self, user_id: str) -> dict[str, Any]:
        """Cancel Testudo-tagged orders no live group owns; settle Pending groups' ghosts."""
        cancelled: list[dict[str, Any]] = []
        reconciled: list[str] = []
        for group in await self.list_live(user_id):
            reply = await self.ask_group(user_id, group["id"], Reconcile())
            if isinstance(reply, dict) and reply.get("status") != group["status"]:
                reconciled.append(group["id"])
        owned = {
            r["client_order_id"]
            for r in await self.db.fetch_all(
                store.USER_LIVE_CLIENT_IDS,
                (user_id,),
            )
        }
        for account in await self.accounts.list(user_id):
            if account.status == "active":
                cancelled += await self._cancel_ghosts(user_id, account, owned)
        return {
            "cancelled_orders": cancelled,
            "reconciled_groups": reconciled,
            "cancelled": len(cancelled),
        }


async def _ghost_cancelled(
    accounts: AccountsService, user_id: str, account: AccountView, state: OrderState
) -> dict[str, Any] | None:
    """Cancel one ghost order; its description, or None when it could not be cancelled."""
    venue = venue_for(account.info)
    symbol = state.symbol or ""
    try:
        await accounts.with_client(
            user_id,
            account.id,
            functools.partial(
                venue.cancel,
                symbol=symbol,
                order_id=state.exchange_order_id,
                is_trigger=state.is_trigger,
            ),
            read_only=False,
        )
    except ExchangeFailure:
        return None
    return {
        "exchange_account_id": account.id,
        "symbol": symbol,
        "exchange_order_id": state.exchange_order_id,
        "client_order_id": state.client_order_id,
    }


__all__ = ["CancelGroup", "TradesService"]
