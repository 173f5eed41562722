"""Journal trades and the trade groups Testudo placed: one journal trade per group.

Two ways in, both idempotent and both callable in the caller's transaction:

* :func:`record_closed_group` — the trade-group actor calls it when a group it ran is closed
  (flat). It records the trade with the group's stop and planned risk, so its R-multiple is
  exact. If an import already brought in the same round trip (matched by order ids), that
  trade is linked and enriched instead of recording a second one. Calling it again for the
  same group only refreshes the risk fields.
* :func:`link_trades_to_groups` — the importer calls it after writing imported trades: an
  unlinked trade whose fills belong to a group's orders (by client order id, or exchange
  order id) is linked to that group and takes its stop, risk amount, setup tag and close
  reason. An imported trade that duplicates a group already recorded by Testudo is removed:
  its fill hash moves to the recorded trade (so later imports recognise it), and so do its
  fees, which the exchange's fills state exactly (the recorded trade's net P&L and R follow).

Matching needs the trade's ``order_ids``/``client_order_ids`` (kept from the fills) and the
group's rows in ``trade_orders`` (``client_order_id``, ``exchange_order_id``), on the same
exchange and base coin (a Hyperliquid group asked for ``BTC_USDT`` fills as ``BTC_USDC``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from testudo.db.database import Conn

from .formulas import effective_risk, normalise_side, trade_figures
from .funding import set_funding
from .money import round_ratio

CANDIDATES = """
SELECT DISTINCT ON (t.id)
       t.id::text AS trade_id, g.id::text AS group_id, t.entry_price, t.quantity, t.net_pnl,
       t.notes, g.stop_loss_price, g.risk_amount, g.setup_tag, g.close_reason, t.opened_at,
       EXISTS (SELECT 1 FROM journal_trades x WHERE x.trade_group_id = g.id) AS recorded,
       EXISTS (SELECT 1 FROM journal_trade_tags tt WHERE tt.trade_id = t.id)
         OR EXISTS (SELECT 1 FROM journal_entries e WHERE e.trade_id = t.id) AS annotated
FROM journal_trades t
CROSS JOIN LATERAL (
    SELECT o.group_id, o.role FROM trade_orders o
    WHERE o.client_order_id = ANY(t.client_order_ids)
    UNION ALL
    SELECT o.group_id, o.role FROM trade_orders o
    WHERE o.exchange_order_id = ANY(t.order_ids)
) o
JOIN trade_groups g ON g.id = o.group_id AND g.user_id = t.user_id
    AND g.exchange = t.exchange
    AND split_part(g.symbol, '_', 1) = split_part(t.symbol, '_', 1)
WHERE t.user_id = %(user)s AND t.trade_group_id IS NULL
  AND (%(trade)s::uuid IS NULL OR t.id = %(trade)s::uuid)
  AND (%(group)s::uuid IS NULL OR g.id = %(group)s::uuid)
  AND t.closed_at >= (SELECT min(created_at) FROM trade_groups WHERE user_id = %(user)s)
ORDER BY t.id, (o.role = 'entry') DESC, g.created_at
"""
HAS_GROUPS = "SELECT EXISTS (SELECT 1 FROM trade_groups WHERE user_id = %s) AS any"
LINK = """
UPDATE journal_trades SET trade_group_id = %(group)s, stop_price = %(stop)s,
       risk_amount = %(risk)s, r_multiple = %(r)s,
       setup_tag = coalesce(setup_tag, %(setup)s),
       close_reason = coalesce(close_reason, %(reason)s), updated_at = now()
WHERE id = %(trade)s AND trade_group_id IS NULL
"""
TAKE_OVER_HASH = """
UPDATE journal_trades SET source_fills_hash = coalesce(source_fills_hash, %(hash)s),
       exchange_fill_id = coalesce(exchange_fill_id, %(fill)s), updated_at = now()
WHERE trade_group_id = %(group)s
"""
DELETE_DUPLICATE = """
DELETE FROM journal_trades WHERE id = %s RETURNING source_fills_hash, exchange_fill_id, fees
"""
RECORDED_OF_GROUP = """
SELECT id::text AS id, entry_price, quantity, realized_pnl, fees,
       coalesce(funding, 0) AS funding, stop_price, risk_amount
FROM journal_trades WHERE trade_group_id = %s
"""
TAKE_OVER_FEES = """
UPDATE journal_trades SET fees = %(fees)s, net_pnl = %(net)s, r_multiple = %(r)s,
       updated_at = now()
WHERE id = %(id)s
"""
BY_GROUP = """
SELECT id::text AS id, entry_price, quantity, net_pnl FROM journal_trades
WHERE trade_group_id = %s AND user_id = %s
"""
ENRICH = """
UPDATE journal_trades SET stop_price = %(stop)s, risk_amount = %(risk)s, r_multiple = %(r)s,
       target_price = coalesce(%(target)s, target_price),
       setup_tag = coalesce(%(setup)s, setup_tag),
       close_reason = coalesce(%(reason)s, close_reason), updated_at = now()
WHERE id = %(id)s
"""
MATCH_UNLINKED = """
SELECT id::text AS id, entry_price, quantity, net_pnl FROM journal_trades
WHERE user_id = %(user)s AND trade_group_id IS NULL AND exchange = %(exchange)s
  AND split_part(symbol, '_', 1) = split_part(%(symbol)s, '_', 1)
  AND (client_order_ids && %(clients)s::text[] OR order_ids && %(orders)s::text[])
ORDER BY opened_at LIMIT 1
"""
INSERT_RECORDED = """
INSERT INTO journal_trades (user_id, exchange_account_id, exchange, symbol, side, entry_price,
    exit_price, quantity, leverage, realized_pnl, realized_pnl_pct, fees, funding, net_pnl,
    stop_price, target_price, risk_amount, r_multiple, opened_at, closed_at, trade_group_id,
    order_ids, client_order_ids, notes, source, setup_tag, close_reason)
VALUES (%(user)s, %(account)s, %(exchange)s, %(symbol)s, %(side)s, %(entry)s, %(exit)s, %(qty)s,
    %(leverage)s, %(pnl)s, %(pct)s, %(fees)s, %(funding)s, %(net)s, %(stop)s, %(target)s,
    %(risk)s, %(r)s, %(opened)s, %(closed)s, %(group)s, %(orders)s, %(clients)s, %(notes)s,
    %(source)s, %(setup)s, %(reason)s)
RETURNING id::text AS id
"""


def _r(
    net: Decimal, entry: Decimal, qty: Decimal, stop: Decimal | None, risk: Decimal | None
) -> Decimal | None:
    amount = effective_risk(entry, qty, stop, risk)
    return round_ratio(net / amount) if amount is not None else None


@attrs.frozen
class LinkResult:
    linked: int
    duplicates_removed: int


def link_trades_to_groups(
    conn: Conn, user_id: str, *, trade_id: str | None = None, group_id: str | None = None
) -> LinkResult:
    """Link the user's unlinked trades to the trade groups whose orders they filled."""
    found = conn.execute(HAS_GROUPS, (user_id,)).fetchone()
    if not found or not found["any"]:
        return LinkResult(0, 0)
    rows = conn.execute(
        CANDIDATES, {"user": user_id, "trade": trade_id, "group": group_id}
    ).fetchall()
    linked = removed = 0
    taken: set[str] = set()
    for row in sorted(rows, key=lambda r: r["opened_at"]):
        group = row["group_id"]
        if row["recorded"] or group in taken:
            if row["recorded"] and not row["notes"] and not row["annotated"]:
                gone = conn.execute(DELETE_DUPLICATE, (row["trade_id"],)).fetchone()
                if gone is not None:
                    conn.execute(
                        TAKE_OVER_HASH,
                        {
                            "hash": gone["source_fills_hash"],
                            "fill": gone["exchange_fill_id"],
                            "group": group,
                        },
                    )
                    _take_over_fees(conn, group, gone["fees"])
                    removed += 1
            continue
        stop, risk = row["stop_loss_price"], row["risk_amount"]
        params = {
            "group": group,
            "stop": stop,
            "risk": risk if risk is not None and risk > 0 else None,
            "r": _r(row["net_pnl"], row["entry_price"], row["quantity"], stop, risk),
            "setup": row["setup_tag"],
            "reason": row["close_reason"],
            "trade": row["trade_id"],
        }
        if conn.execute(LINK, params).rowcount == 1:
            linked += 1
            taken.add(group)
    return LinkResult(linked, removed)


def _take_over_fees(conn: Conn, group_id: str, fees: Decimal) -> None:
    """The recorded trade of ``group_id`` takes the fees its imported copy read from the
    exchange's fills (when they differ from what the group saw)."""
    row = conn.execute(RECORDED_OF_GROUP, (group_id,)).fetchone()
    if row is None or row["fees"] == fees:
        return
    net = row["realized_pnl"] - fees + row["funding"]
    r = _r(net, row["entry_price"], row["quantity"], row["stop_price"], row["risk_amount"])
    conn.execute(TAKE_OVER_FEES, {"fees": fees, "net": net, "r": r, "id": row["id"]})


@attrs.frozen
class GroupClose:
    """A trade group Testudo ran, closed back to flat (what :func:`record_closed_group` needs).

    ``side`` is the group's entry side (``buy``/``sell`` or ``LONG``/``SHORT``); prices are the
    average entry and exit; ``fees`` everything paid; ``funding`` what the position received
    (negative: paid) while open, None when it could not be read; ``order_ids`` and
    ``client_order_ids`` the group's orders, used to find an imported copy of the same round
    trip.
    """

    user_id: str
    trade_group_id: str
    exchange_account_id: str | None
    exchange: str
    symbol: str
    side: str
    entry_price: Decimal
    exit_price: Decimal
    quantity: Decimal
    fees: Decimal
    opened_at: dt.datetime
    closed_at: dt.datetime
    funding: Decimal | None = None
    stop_price: Decimal | None = None
    risk_amount: Decimal | None = None
    target_price: Decimal | None = None
    leverage: Decimal = Decimal(1)
    setup_tag: str | None = None
    close_reason: str | None = None
    order_ids: Sequence[str] = ()
    client_order_ids: Sequence[str] = ()
    notes: str | None = None
    source: str = "testudo"


@attrs.frozen
class RecordedTrade:
    trade_id: str
    created: bool  # False: an existing trade (same group, or its imported copy) was updated


def _enrich(conn: Conn, row: dict[str, Any], close: GroupClose) -> None:
    conn.execute(
        ENRICH,
        {
            "stop": close.stop_price,
            "risk": close.risk_amount if close.risk_amount and close.risk_amount > 0 else None,
            "r": _r(
                row["net_pnl"],
                row["entry_price"],
                row["quantity"],
                close.stop_price,
                close.risk_amount,
            ),
            "target": close.target_price,
            "setup": close.setup_tag,
            "reason": close.close_reason,
            "id": row["id"],
        },
    )


def record_closed_group(conn: Conn, close: GroupClose) -> RecordedTrade:
    """Record (once) the journal trade of a group Testudo closed; see the module docstring."""
    existing = conn.execute(BY_GROUP, (close.trade_group_id, close.user_id)).fetchone()
    if existing is not None:
        if close.funding is not None:
            set_funding(conn, existing["id"], close.funding)
        _enrich(conn, existing, close)
        return RecordedTrade(existing["id"], False)
    imported = conn.execute(
        MATCH_UNLINKED,
        {
            "user": close.user_id,
            "exchange": close.exchange.strip().lower(),
            "symbol": close.symbol,
            "clients": list(close.client_order_ids),
            "orders": list(close.order_ids),
        },
    ).fetchone()
    if imported is not None:
        conn.execute(
            "UPDATE journal_trades SET trade_group_id = %s WHERE id = %s",
            (close.trade_group_id, imported["id"]),
        )
        if close.funding is not None:
            set_funding(conn, imported["id"], close.funding)
            imported = conn.execute(BY_GROUP, (close.trade_group_id, close.user_id)).fetchone()
            assert imported is not None
        _enrich(conn, imported, close)
        return RecordedTrade(imported["id"], False)
    side = normalise_side(close.side)
    figures = trade_figures(
        side,
        close.entry_price,
        close.exit_price,
        close.quantity,
        close.fees,
        leverage=close.leverage,
        stop_price=close.stop_price,
        risk_amount=close.risk_amount,
        funding=close.funding or Decimal(0),
    )
    row = conn.execute(
        INSERT_RECORDED,
        {
            "user": close.user_id,
            "account": close.exchange_account_id,
            "exchange": close.exchange.strip().lower(),
            "symbol": close.symbol,
            "side": side,
            "entry": close.entry_price,
            "exit": close.exit_price,
            "qty": close.quantity,
            "leverage": close.leverage,
            "pnl": figures.realized_pnl,
            "pct": figures.realized_pnl_pct,
            "fees": figures.fees,
            "funding": close.funding,
            "net": figures.net_pnl,
            "stop": close.stop_price,
            "target": close.target_price,
            "risk": close.risk_amount if close.risk_amount and close.risk_amount > 0 else None,
            "r": figures.r_multiple,
            "opened": close.opened_at,
            "closed": close.closed_at,
            "group": close.trade_group_id,
            "orders": list(close.order_ids),
            "clients": list(close.client_order_ids),
            "notes": close.notes,
            "source": close.source,
            "setup": close.setup_tag,
            "reason": close.close_reason,
        },
    ).fetchone()
    assert row is not None
    return RecordedTrade(row["id"], True)
