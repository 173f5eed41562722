"""The trader actor: one per user, serialising the Decision Loop and the creation of groups.

Every ``POST /trades`` of a user passes through this actor one at a time, so two concurrent
requests can never both see "4 open positions" and both open the fifth (20 concurrent trades
against ``max_open_positions = 5`` yield exactly 5). It also owns the idempotency protocol:
a key is claimed durably before any work, the final status and body are stored with it, and a
duplicate (queued behind the first in this mailbox) gets the stored answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from testudo.exchanges.errors import ExchangeFailure
from testudo.problems import problem_body
from testudo.risk.config import read_risk_config
from testudo.risk.decision import AccountState, Market, TradeRequest, evaluate
from testudo.trading import store as group_store, venue
from testudo.trading.model import Target

from .actor import Actor
from .trade_group import Refusal, Start

if TYPE_CHECKING:
    from testudo.trading.service import TradesService

IDEMPOTENCY_TTL = dt.timedelta(hours=24)
CLAIM_KEY = """
INSERT INTO idempotency_keys (user_id, key, fingerprint, state, created_at)
VALUES (%s, %s, %s, 'running', %s) ON CONFLICT DO NOTHING RETURNING key"""
SELECT_KEY = """
SELECT fingerprint, state, status, body, created_at FROM idempotency_keys
WHERE user_id = %s AND key = %s"""
EXPIRE_KEY = "DELETE FROM idempotency_keys WHERE user_id = %s AND key = %s AND created_at < %s"
FINISH_KEY = """
UPDATE idempotency_keys SET state = 'done', status = %s, body = %s
WHERE user_id = %s AND key = %s"""
RELEASE_KEY = "DELETE FROM idempotency_keys WHERE user_id = %s AND key = %s AND state = 'running'"
INSERT_DECISION = """
INSERT INTO risk_decisions (id, user_id, exchange_account_id, trade_group_id, symbol, side,
    approved, limiting_constraint, position_size, risk_amount, checks, warnings, inputs, created_at)
VALUES (%(id)s, %(user_id)s, %(account_id)s, %(group_id)s, %(symbol)s, %(side)s, %(approved)s,
    %(limiting)s, %(size)s, %(risk)s, %(checks)s, %(warnings)s, %(inputs)s, %(now)s)"""
LIVE_GROUPS = """
SELECT symbol FROM trade_groups
WHERE user_id = %s AND status IN ('pending', 'active', 'awaiting_reconciliation')"""
REALIZED_TODAY = """
SELECT coalesce(sum(realized_pnl), 0) AS pnl FROM trade_groups
WHERE user_id = %s AND closed_at >= %s"""


@attrs.frozen
class TradeInput:
    """A parsed ``POST /trades`` body."""

    symbol: str
    side: str
    entry_type: str
    entry_price: Decimal | None
    quantity: Decimal | None
    stop_loss_price: Decimal | None
    targets: tuple[tuple[Decimal, Decimal | None, str], ...]
    leverage: Decimal
    exchange_account_id: str | None
    break_even: bool
    setup_tag: str | None


@attrs.frozen
class CreateTrade:
    trade: TradeInput
    idempotency_key: str | None
    fingerprint: str


@attrs.frozen
class Answer:
    """The HTTP answer: status and body (a group, or a problem)."""

    status: int
    body: dict[str, Any]


def fingerprint(body: dict[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()


def problem(status: int, error: str, detail: str, **extra: Any) -> Answer:
    return Answer(status, problem_body(status, error, detail, **extra))


def _base(symbol: str) -> str:
    return symbol.split("_", 1)[0]


class TraderActor(Actor[Any]):
    kind = "trader"

    def __init__(self, user_id: str, service: TradesService) -> None:
        self.user_id = user_id
        self.service = service

    async def handle(self, message: Any) -> Any:
        if isinstance(message, CreateTrade):
            return await self._create(message)
        return await super().handle(message)

    async def _create(self, message: CreateTrade) -> Answer:
        key = message.idempotency_key
        if key is not None:
            replay = await self._claim(key, message.fingerprint)
            if replay is not None:
                return replay
        try:
            answer = await self._decide_and_open(message.trade, key)
        except BaseException:
            if key is not None:
                await self.service.db.execute(RELEASE_KEY, (self.user_id, key))
            raise
        if key is not None:
            await self.service.db.execute(
                FINISH_KEY, (answer.status, json.dumps(answer.body), self.user_id, key)
            )
        return answer

    async def _claim(self, key: str, print_: str) -> Answer | None:
        db = self.service.db
        now = self.service.clock.now()
        await db.execute(EXPIRE_KEY, (self.user_id, key, now - IDEMPOTENCY_TTL))
        if await db.fetch_one(CLAIM_KEY, (self.user_id, key, print_, now)) is not None:
            return None
        row = await db.fetch_one(SELECT_KEY, (self.user_id, key))
        if row is None:  # expired between the two statements: try once more
            return await self._claim(key, print_)
        if row["fingerprint"] != print_:
            return problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request body.",
            )
        if row["state"] != "done":
            return problem(
                409,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed.",
            )
        return Answer(int(row["status"]), dict(row["body"]))

    async def _decide_and_open(self, trade: TradeInput, key: str | None) -> Answer:
        service = self.service
        accounts = await service.accounts.list(self.user_id)
        active = [a for a in accounts if a.status == "active"]
        if trade.exchange_account_id is not None:
            chosen = [a for a in active if a.id == trade.exchange_account_id]
            if not chosen:
                return problem(404, "not_found", "No such active exchange account.")
        elif len(active) == 1:
            chosen = active
        elif not active:
            return problem(422, "no_exchange_account", "Add an exchange account first.")
        else:
            return problem(
                422,
                "exchange_account_required",
                "You have several accounts: say which with exchange_account_id.",
                errors=[{"field": "exchange_account_id", "message": "required"}],
            )
        account = chosen[0]
        info = account.info
        try:
            snapshot: venue.AccountSnapshot = await service.accounts.with_client(
                self.user_id,
                account.id,
                lambda client: venue.account_snapshot(client, info, trade.symbol),
            )
        except ExchangeFailure as failure:
            return problem(failure.status, failure.error, failure.detail)
        now = service.clock.now()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)

        def read_inputs(conn: Any) -> tuple[Any, list[dict[str, Any]], Any]:
            """Configuration, live groups and today's realised P&L: one database hop."""
            return (
                read_risk_config(conn, self.user_id),
                conn.execute(LIVE_GROUPS, (self.user_id,)).fetchall(),
                conn.execute(REALIZED_TODAY, (self.user_id, day_start)).fetchone(),
            )

        config, live, realized = await service.db.run(read_inputs)
        grouped = {_base(r["symbol"]) for r in live}
        foreign = {s for s in snapshot.position_symbols if _base(s) not in grouped}
        open_losses = min(snapshot.unrealized_pnl, Decimal(0))
        daily_pnl = Decimal(realized["pnl"] if realized else 0) + open_losses
        state = AccountState(
            equity=snapshot.equity,
            available=snapshot.available,
            open_positions=len(live) + len(foreign),
            daily_pnl=daily_pnl,
            day_start_equity=snapshot.equity - daily_pnl,
        )
        rules = snapshot.rules
        market = Market(
            trade.symbol,
            rules.tick_size,
            rules.lot_size,
            rules.min_qty,
            rules.min_notional,
            rules.max_leverage,
        )
        entry = trade.entry_price if trade.entry_price is not None else rules.last_price
        request = TradeRequest(
            side=trade.side,
            entry_price=entry,
            stop_price=trade.stop_loss_price,
            targets=tuple(_target(p, q, t) for p, q, t in trade.targets),
            quantity=trade.quantity,
            leverage=trade.leverage,
            entry_type=trade.entry_type,
        )
        decision = evaluate(config, request, state, market)
        group_id = str(uuid.uuid4())
        decision_id = str(uuid.uuid4())
        inputs = {
            "request": _jsonable(attrs.asdict(request)),
            "account": _jsonable(attrs.asdict(state)),
            "market": _jsonable(attrs.asdict(market)),
            "config": config.to_json(),
            "exchange_account_id": account.id,
        }
        decision_json = decision.to_json()
        row = {
            "id": decision_id,
            "user_id": self.user_id,
            "account_id": account.id,
            "group_id": group_id if decision.approved else None,
            "symbol": trade.symbol,
            "side": trade.side,
            "approved": decision.approved,
            "limiting": decision.sizing.limiting_constraint if decision.sizing else None,
            "size": decision.sizing.quantity if decision.sizing else None,
            "risk": decision.sizing.risk_amount if decision.sizing else None,
            "checks": json.dumps(decision_json.get("checks", [])),
            "warnings": json.dumps(decision_json.get("warnings", [])),
            "inputs": json.dumps(inputs),
            "now": now,
        }
        if not decision.approved:
            await service.db.run(lambda c: c.execute(INSERT_DECISION, row))
            failed = [c for c in decision_json.get("checks", []) if not c.get("passed")]
            return problem(
                422,
                "risk_rejected",
                "The Decision Loop rejected this trade.",
                failed_checks=failed,
                decision=decision_json,
                decision_id=decision_id,
            )
        assert decision.sizing is not None
        targets = [
            Target(i, price, quantity, kind)
            for i, ((price, quantity), (_, _, kind)) in enumerate(
                zip(decision.targets, trade.targets, strict=False)
            )
        ]
        values = {
            "id": group_id,
            "user_id": self.user_id,
            "account_id": account.id,
            "exchange": info.id,
            "symbol": trade.symbol,
            "side": trade.side,
            "entry_type": trade.entry_type,
            "entry_price": decision.entry_price,
            "quantity": decision.sizing.quantity,
            "stop_loss_price": decision.stop_price,
            "leverage": trade.leverage,
            "tick_size": rules.tick_size,
            "lot_size": rules.lot_size,
            "risk_amount": decision.sizing.risk_amount,
            "decision_id": decision_id,
            "idempotency_key": key,
            "setup_tag": trade.setup_tag,
            "break_even_enabled": trade.break_even,
            "now": now,
        }

        def create(conn: Any) -> None:
            conn.execute(INSERT_DECISION, {**row, "group_id": None})
            group_store.insert_group_tx(conn, values, targets)
            conn.execute(
                "UPDATE risk_decisions SET trade_group_id = %s WHERE id = %s",
                (group_id, decision_id),
            )

        await service.db.run(create)
        reply = await service.ask_group(self.user_id, group_id, Start())
        if isinstance(reply, Refusal):
            return problem(reply.status, reply.error, reply.detail)
        body = {
            **reply,
            "decision": decision_json,
            "decision_id": decision_id,
            "warnings": decision_json.get("warnings", []),
        }
        if reply.get("status") == "failed":
            return problem(
                422,
                "entry_rejected",
                reply.get("error") or "The exchange refused the entry.",
                group=body,
            )
        return Answer(201, body)


def _target(price: Decimal, quantity: Decimal | None, kind: str) -> Any:
    from testudo.risk.decision import TargetRequest

    return TargetRequest(price=price, quantity=quantity, order_type=kind)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
