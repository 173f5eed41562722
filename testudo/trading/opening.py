"""Opening a trade group: the Decision Loop and every record it leaves, in one transaction.

:func:`open_tx` runs in one database hop (worker thread): it checks that the user's active
accounts are still the ones the caller chose from, reads the saved risk configuration, the live
groups and today's realised P&L, evaluates the Decision Loop (a pure function) against the
account snapshot taken just before, and records the decision and, when approved, the group,
its targets and its entry order with status ``pending_submit``: the intent is durable before
the exchange hears of it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import attrs

from testudo.db.database import Conn
from testudo.exchanges.venues import AccountSnapshot
from testudo.risk.config import SELECT_CONFIG, RiskConfig, config_of
from testudo.risk.decision import (
    AccountState,
    Decision,
    Market,
    TargetRequest,
    TradeRequest,
    evaluate,
)

from . import store
from .idempotency import NOTE_DECISION, Claim, queue_claim, taken
from .model import Group, Target, entry_order, pending_order
from .views import decision_body

ACTIVE_ACCOUNT_IDS = """
SELECT id::text AS id FROM exchange_accounts WHERE user_id = %s AND status = 'active'"""
LIVE_GROUP_SYMBOLS = """
SELECT symbol FROM trade_groups
WHERE user_id = %s AND status IN ('pending', 'active', 'awaiting_reconciliation')"""
REALIZED_SINCE = """
SELECT coalesce(sum(realized_pnl), 0) AS pnl FROM trade_groups
WHERE user_id = %s AND closed_at >= %s"""
INSERT_DECISION = """
INSERT INTO risk_decisions (id, user_id, exchange_account_id, trade_group_id, symbol, side,
    approved, limiting_constraint, position_size, risk_amount, checks, warnings, inputs, answer,
    created_at)
VALUES (%(id)s, %(user_id)s, %(account_id)s, %(group_id)s, %(symbol)s, %(side)s, %(approved)s,
    %(limiting)s, %(size)s, %(risk)s, %(checks)s, %(warnings)s, %(inputs)s, %(answer)s,
    %(now)s)"""


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
class Opening:
    """Everything :func:`open_tx` needs, gathered before the transaction."""

    user_id: str
    account_id: str
    exchange: str
    active_account_ids: frozenset[str]  # what the account was chosen from
    trade: TradeInput
    snapshot: AccountSnapshot
    claim: Claim | None  # the request's idempotency key, claimed in the same transaction
    now: dt.datetime


@attrs.frozen
class Opened:
    """The recorded decision; ``group`` (entry intent included) when it was approved."""

    decision: Decision
    decision_id: str
    group: Group | None
    inputs: dict[str, Any] = attrs.Factory(dict)
    created_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The decision object (the same in POST /trades and GET /trades/{id})."""
        return decision_body(
            self.decision_id, self.decision.to_json(), self.inputs, self.created_at
        )


class AccountsChanged(Exception):
    """The user's active accounts changed since they were read: choose again."""


def open_tx(conn: Conn, opening: Opening) -> Opened:
    """Decide and record (see the module docstring). Raises :class:`AccountsChanged`, and
    :class:`~testudo.trading.idempotency.KeyTaken` when the request's key is already used
    (nothing is recorded then).

    Statements are pipelined: the claim and the four reads cost one round trip to the server,
    the writes and the commit another.
    """
    user_id = opening.user_id
    day_start = opening.now.replace(hour=0, minute=0, second=0, microsecond=0)
    claim = opening.claim
    with conn.pipeline():
        claimed = None if claim is None else queue_claim(conn, claim, opening.now)
        accounts = conn.execute(ACTIVE_ACCOUNT_IDS, (user_id,))
        config_row = conn.execute(SELECT_CONFIG, (user_id,))
        live_rows = conn.execute(LIVE_GROUP_SYMBOLS, (user_id,))
        realized_row = conn.execute(REALIZED_SINCE, (user_id, day_start))
        if claim is not None and claimed is not None and claimed.fetchone() is None:
            raise taken(conn, claim, opening.now)
        active = {row["id"] for row in accounts.fetchall()}
        if active != opening.active_account_ids:
            raise AccountsChanged(user_id)
        config = config_of(config_row.fetchone())
        live = [row["symbol"] for row in live_rows.fetchall()]
        realized = Decimal((realized_row.fetchone() or {"pnl": 0})["pnl"])
        return _decide_tx(conn, opening, config, live, realized)


def _decide_tx(
    conn: Conn, opening: Opening, config: RiskConfig, live: list[str], realized: Decimal
) -> Opened:
    user_id = opening.user_id
    state = account_state(opening.snapshot, live, realized)
    market = market_of(opening.trade.symbol, opening.snapshot)
    request = trade_request(opening.trade, opening.snapshot)
    decision = evaluate(config, request, state, market)
    decision_id = str(uuid.uuid4())
    group_id = str(uuid.uuid4()) if decision.approved else None
    inputs = {
        "request": _jsonable(attrs.asdict(request)),
        "account": _jsonable(attrs.asdict(state)),
        "market": _jsonable(attrs.asdict(market)),
        "config": config.to_json(),
        "exchange_account_id": opening.account_id,
    }
    decision_json = decision.to_json()
    sizing = decision.sizing
    conn.execute(
        INSERT_DECISION,
        {
            "id": decision_id,
            "user_id": user_id,
            "account_id": opening.account_id,
            "group_id": group_id,
            "symbol": opening.trade.symbol,
            "side": opening.trade.side,
            "approved": decision.approved,
            "limiting": sizing.limiting_constraint if sizing else None,
            "size": sizing.quantity if sizing else None,
            "risk": sizing.risk_amount if sizing else None,
            "checks": json.dumps(decision_json.get("checks", [])),
            "warnings": json.dumps(decision_json.get("warnings", [])),
            "inputs": json.dumps(inputs),
            "answer": json.dumps(decision_json),
            "now": opening.now,
        },
    )
    if opening.claim is not None:  # after a crash, a retry is answered from this decision
        conn.execute(NOTE_DECISION, (decision_id, opening.claim.user_id, opening.claim.key))
    group = None
    if group_id is not None:
        group = _record_group(conn, opening, decision, decision_id, group_id)
    # Commit inside the pipeline: the writes and the COMMIT share one round trip (the
    # caller's unit of work then has nothing left to commit).
    conn.commit()
    return Opened(decision, decision_id, group, inputs, opening.now)


def _record_group(
    conn: Conn, opening: Opening, decision: Decision, decision_id: str, group_id: str
) -> Group:
    """Insert the group and its targets, then its entry order as ``pending_submit``."""
    trade = opening.trade
    sizing = decision.sizing
    assert sizing is not None
    rules = opening.snapshot.rules
    targets = [
        Target(i, price, quantity, kind)
        for i, ((price, quantity), (_, _, kind)) in enumerate(
            zip(decision.targets, trade.targets, strict=False)
        )
    ]
    values = {
        "id": group_id,
        "user_id": opening.user_id,
        "account_id": opening.account_id,
        "exchange": opening.exchange,
        "symbol": trade.symbol,
        "side": trade.side,
        "entry_type": trade.entry_type,
        "entry_price": decision.entry_price,
        "quantity": sizing.quantity,
        "stop_loss_price": decision.stop_price,
        "leverage": trade.leverage,
        "tick_size": rules.tick_size,
        "lot_size": rules.lot_size,
        "risk_amount": sizing.risk_amount,
        "decision_id": decision_id,
        "idempotency_key": None if opening.claim is None else opening.claim.key,
        "setup_tag": trade.setup_tag,
        "break_even_enabled": trade.break_even,
        "now": opening.now,
    }
    store.insert_group_tx(conn, values, targets)
    group = Group(
        id=group_id,
        user_id=opening.user_id,
        account_id=opening.account_id,
        exchange=opening.exchange,
        symbol=trade.symbol,
        side=trade.side,
        entry_type=trade.entry_type,
        entry_price=decision.entry_price,
        quantity=sizing.quantity,
        stop_loss_price=decision.stop_price,
        leverage=trade.leverage,
        tick_size=rules.tick_size,
        lot_size=rules.lot_size,
        risk_amount=sizing.risk_amount,
        status="pending",
        targets=targets,
        orders=[],
        break_even_enabled=trade.break_even,
        setup_tag=trade.setup_tag,
    )
    entry = pending_order(entry_order(group), opening.now)
    entry.id = store.record_intent_tx(conn, group_id, entry, opening.now)
    group.orders.append(entry)
    return group


def account_state(
    snapshot: AccountSnapshot, live_symbols: list[str], realized_today: Decimal
) -> AccountState:
    """The account as the Decision Loop sees it.

    Open positions are the live groups plus exchange positions in symbols no live group
    trades; the day's P&L is realised P&L since 00:00 UTC plus open losses (open gains do not
    count), and the day's starting equity is today's equity minus that P&L.
    """
    grouped = {_base(symbol) for symbol in live_symbols}
    foreign = {s for s in snapshot.position_symbols if _base(s) not in grouped}
    daily_pnl = realized_today + min(snapshot.unrealized_pnl, Decimal(0))
    return AccountState(
        equity=snapshot.equity,
        available=snapshot.available,
        open_positions=len(live_symbols) + len(foreign),
        daily_pnl=daily_pnl,
        day_start_equity=snapshot.equity - daily_pnl,
    )


def market_of(symbol: str, snapshot: AccountSnapshot) -> Market:
    rules = snapshot.rules
    return Market(
        symbol,
        rules.tick_size,
        rules.lot_size,
        rules.min_qty,
        rules.min_notional,
        rules.max_leverage,
    )


def trade_request(trade: TradeInput, snapshot: AccountSnapshot) -> TradeRequest:
    """The request to evaluate; a market entry is priced at the snapshot's last price."""
    entry = trade.entry_price if trade.entry_price is not None else snapshot.rules.last_price
    return TradeRequest(
        side=trade.side,
        entry_price=entry,
        stop_price=trade.stop_loss_price,
        targets=tuple(
            TargetRequest(price=p, quantity=q, order_type=kind) for p, q, kind in trade.targets
        ),
        quantity=trade.quantity,
        leverage=trade.leverage,
        entry_type=trade.entry_type,
    )


def _base(symbol: str) -> str:
    return symbol.split("_", 1)[0]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
