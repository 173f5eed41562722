"""Funding payments of journal trades: what a position received (or paid, negative) at the
venue's funding times while the trade was open.

A trade takes every funding payment of its symbol on its account from its open to its close
(both included); ``net_pnl = realized_pnl - fees + funding``. ``funding`` is NULL until read:
the trade-group actor reads it when Testudo closes a group, and each import of the account
reads it for every trade still lacking it (one paged read per symbol).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from testudo.db.database import Conn

from .formulas import effective_risk
from .money import ZERO, round_ratio

# A trade Testudo recorded is timed by Testudo's clock; its fills, once imported, give the
# exchange's own times, which decide what funding fell within it.
UNREAD = """
SELECT t.id::text AS id, t.symbol, coalesce(f.first, t.opened_at) AS opened_at,
       coalesce(f.last, t.closed_at) AS closed_at
FROM journal_trades t
LEFT JOIN LATERAL (
    SELECT min(r.executed_at) AS first, max(r.executed_at) AS last FROM raw_fills r
    WHERE t.source = 'testudo' AND r.exchange_account_id = t.exchange_account_id
      AND r.order_id = ANY(t.order_ids)
) f ON true
WHERE t.exchange_account_id = %s AND t.funding IS NULL AND t.closed_at IS NOT NULL
ORDER BY t.symbol, t.opened_at
"""
SET_FUNDING = """
UPDATE journal_trades SET funding = %(funding)s,
       net_pnl = realized_pnl - fees + %(funding)s,
       r_multiple = %(r)s, updated_at = now()
WHERE id = %(id)s AND funding IS NULL
RETURNING id
"""
FIGURES = """
SELECT realized_pnl, fees, entry_price, quantity, stop_price, risk_amount
FROM journal_trades WHERE id = %s
"""


@attrs.frozen
class Unread:
    """A trade whose funding was not read yet."""

    id: str
    symbol: str
    opened_at: dt.datetime
    closed_at: dt.datetime


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def funding_within(
    payments: Iterable[tuple[int, Decimal]], opened_ms: int, closed_ms: int
) -> Decimal:
    """The sum of the payments from ``opened_ms`` to ``closed_ms`` (both included)."""
    return sum((a for at, a in payments if opened_ms <= at <= closed_ms), ZERO)


def unread_trades(conn: Conn, account_id: str) -> list[Unread]:
    rows = conn.execute(UNREAD, (account_id,)).fetchall()
    return [Unread(r["id"], r["symbol"], r["opened_at"], r["closed_at"]) for r in rows]


def by_symbol(trades: Sequence[Unread]) -> dict[str, list[Unread]]:
    out: dict[str, list[Unread]] = {}
    for trade in trades:
        out.setdefault(trade.symbol, []).append(trade)
    return out


def set_funding(conn: Conn, trade_id: str, funding: Decimal) -> bool:
    """Store a trade's funding (once: a trade whose funding is known keeps it) and the net
    P&L and R that follow; whether it was stored."""
    row: dict[str, Any] | None = conn.execute(FIGURES, (trade_id,)).fetchone()
    if row is None:
        return False
    net = row["realized_pnl"] - row["fees"] + funding
    risk = effective_risk(
        row["entry_price"], row["quantity"], row["stop_price"], row["risk_amount"]
    )
    r = round_ratio(net / risk) if risk is not None else None
    params = {"funding": funding, "r": r, "id": trade_id}
    return conn.execute(SET_FUNDING, params).fetchone() is not None
