"""Analytics read from per-day rollups when the filter allows and from the trades otherwise:
both must give the same answer, and the rollups must follow every insert, update and delete.
Plus the Decision Loop analytics over ``risk_decisions``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal as D
from typing import Any

import attrs

from testudo.db import Database
from testudo.db.database import Conn
from testudo.journal import analytics
from testudo.journal.filters import TradeFilter, build_filter, rollup_compatible

from .support import insert_account, insert_trade, insert_user

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
# Bounds one microsecond off midnight cover the same trades but force the trade-level path.
FAR_PAST = dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)
FAR_FUTURE = dt.datetime(2100, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)


def seed(conn: Conn, rng: random.Random, user_id: str, accounts: list[str], n: int) -> None:
    for _ in range(n):
        closed = START + dt.timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        opened = closed - dt.timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        net = D(rng.randrange(-5000, 5000)) / 100
        if rng.random() < 0.1:
            net = D(0)
        fees = D(rng.randrange(0, 300)) / 100
        account = rng.choice(accounts)
        insert_trade(
            conn,
            user_id,
            exchange="binance" if accounts.index(account) == 0 else "hyperliquid",
            exchange_account_id=account,
            symbol=rng.choice(["BTC_USDT", "ETH_USDT", "SOL_USDT"]),
            side=rng.choice(["LONG", "SHORT"]),
            net_pnl=net,
            realized_pnl=net + fees,
            fees=fees,
            realized_pnl_pct=D(rng.randrange(-2000, 2000)) / 100,
            r_multiple=None if rng.random() < 0.4 else D(rng.randrange(-300, 300)) / 100,
            source=rng.choice(["import_ccxt", "testudo"]),
            setup_tag=rng.choice([None, "Breakout", "breakout", "range", ""]),
            opened_at=opened,
            closed_at=closed,
        )


def forced_slow(flt: TradeFilter) -> TradeFilter:
    return attrs.evolve(
        flt,
        closed_from=max(flt.closed_from or FAR_PAST, FAR_PAST),
        closed_before=min(flt.closed_before or FAR_FUTURE, FAR_FUTURE),
    )


def everything(conn: Conn, user_id: str, flt: TradeFilter) -> dict[str, Any]:
    return {
        name: compute(conn, user_id, flt)
        for name, compute in analytics.SECTIONS.items()
        if name not in ("decisions",)
    }


FILTERS = [
    {},
    {"date_from": "2026-01-10", "date_to": "2026-01-31"},
    {"symbol": "ETH_USDT"},
    {"side": "short", "date_to": "2026-02-01"},
    {"setup_tag": "BREAKOUT"},
    {"source": "testudo", "exchange": "hyperliquid"},
]


async def test_rollups_answer_exactly_like_the_trades(db: Database) -> None:
    rng = random.Random(7)

    def setup(conn: Conn) -> tuple[str, str, list[str]]:
        user = insert_user(conn)
        other = insert_user(conn)
        accounts = [insert_account(conn, user), insert_account(conn, user, "hyperliquid")]
        seed(conn, rng, user, accounts, 400)
        seed(conn, rng, other, [insert_account(conn, other)], 50)
        return user, other, accounts

    user, other, accounts = await db.run(setup)

    async def compare(label: str) -> None:
        for params in [*FILTERS, {"account": accounts[1]}]:
            flt = build_filter(**params)
            assert rollup_compatible(flt)
            fast = await db.run(lambda conn, f=flt: everything(conn, user, f))  # type: ignore[misc]
            slow = await db.run(lambda conn, f=flt: everything(conn, user, forced_slow(f)))  # type: ignore[misc]
            for name in fast:
                assert fast[name] == slow[name], (label, params, name)

    await compare("inserted")
    overview = await db.run(lambda conn: analytics.overview(conn, user, TradeFilter()))
    assert overview["account"]["total_trades"] == 400

    # updates that matter (risk linked later, setup edited, trade moved) and that do not
    def change(conn: Conn) -> None:
        conn.execute(
            "UPDATE journal_trades SET r_multiple = 1.5, risk_amount = 10 WHERE id IN "
            "(SELECT id FROM journal_trades WHERE user_id = %s ORDER BY id LIMIT 40)",
            (user,),
        )
        conn.execute(
            "UPDATE journal_trades SET setup_tag = 'Range',"
            " closed_at = closed_at + interval '1 day' WHERE id IN (SELECT id"
            " FROM journal_trades WHERE user_id = %s ORDER BY id DESC LIMIT 25)",
            (user,),
        )
        conn.execute("UPDATE journal_trades SET notes = 'n' WHERE user_id = %s", (user,))
        conn.execute(
            "DELETE FROM journal_trades WHERE id IN (SELECT id FROM journal_trades"
            " WHERE user_id = %s ORDER BY closed_at LIMIT 30)",
            (user,),
        )

    await db.run(change)
    await compare("changed")
    overview = await db.run(lambda conn: analytics.overview(conn, user, TradeFilter()))
    assert overview["account"]["total_trades"] == 370
    others = await db.run(lambda conn: analytics.overview(conn, other, TradeFilter()))
    assert others["account"]["total_trades"] == 50

    # the rollups hold exactly what a fresh recomputation gives
    def recomputed(conn: Conn) -> bool:
        def snapshot() -> list[tuple[Any, ...]]:
            rows = conn.execute(
                "SELECT * FROM journal_day_rollups WHERE user_id = %s", (user,)
            ).fetchall()
            rows += conn.execute(
                "SELECT * FROM journal_slot_rollups WHERE user_id = %s", (user,)
            ).fetchall()
            rows += conn.execute(
                "SELECT * FROM journal_day_streaks WHERE user_id = %s", (user,)
            ).fetchall()
            return sorted(tuple(str(v) for v in r.values()) for r in rows)

        before = snapshot()
        conn.execute(
            "SELECT journal_refresh_rollups(array_agg(user_id), array_agg(d)) FROM (SELECT"
            " DISTINCT user_id, (closed_at AT TIME ZONE 'UTC')::date AS d FROM journal_trades"
            " WHERE user_id = %s) k",
            (user,),
        )
        after = snapshot()
        return before == after and len(before) > 0

    assert await db.run(recomputed)


async def test_decision_loop_analytics(db: Database) -> None:
    def setup(conn: Conn) -> str:
        user = insert_user(conn)
        account = insert_account(conn, user)
        decisions = [
            (True, "risk_percent", D(12), "BTC_USDT", "buy"),
            (True, "risk_percent", D(-5), "BTC_USDT", "sell"),
            (True, "max_position_size", D(7), "ETH_USDT", "buy"),
            (True, "risk_percent", None, "ETH_USDT", "buy"),  # taken, still open
            (False, "min_risk_reward", None, "BTC_USDT", "buy"),
            (False, "min_risk_reward", None, "ETH_USDT", "sell"),
            (False, "max_leverage", None, "BTC_USDT", "buy"),
        ]
        for approved, constraint, net, symbol, side in decisions:
            group = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO risk_decisions (user_id, exchange_account_id, trade_group_id, symbol,"
                " side, approved, limiting_constraint, created_at) VALUES (%s, %s, %s, %s, %s,"
                " %s, %s, %s)",
                (
                    user,
                    account,
                    group if approved else None,
                    symbol,
                    side,
                    approved,
                    constraint,
                    START,
                ),
            )
            if net is not None:
                insert_trade(
                    conn,
                    user,
                    exchange_account_id=account,
                    symbol=symbol,
                    side="LONG" if side == "buy" else "SHORT",
                    net_pnl=net,
                    realized_pnl=net,
                    r_multiple=net / 5,
                    trade_group_id=group,
                    source="testudo",
                    opened_at=START,
                    closed_at=START + dt.timedelta(hours=1),
                )
        return user

    user = await db.run(setup)
    result = await db.run(lambda conn: analytics.decisions(conn, user, TradeFilter()))
    assert (result["total"], result["approved"], result["rejected"]) == (7, 4, 3)
    assert result["approval_rate"] == "57.14285714"
    assert result["taken"] == [
        {
            "limiting_constraint": "risk_percent",
            "decisions": 3,
            "trades": 2,
            "win_rate": "50",
            "net_pnl": "7",
            "avg_r_multiple": "0.7",
        },
        {
            "limiting_constraint": "max_position_size",
            "decisions": 1,
            "trades": 1,
            "win_rate": "100",
            "net_pnl": "7",
            "avg_r_multiple": "1.4",
        },
    ]
    assert result["rejected_by"] == [
        {"limiting_constraint": "min_risk_reward", "decisions": 2},
        {"limiting_constraint": "max_leverage", "decisions": 1},
    ]
    assert result["outcomes"] == {"trades": 3, "win_rate": "66.66666667", "net_pnl": "14"}
    btc = await db.run(
        lambda conn: analytics.decisions(conn, user, build_filter(symbol="BTC_USDT", side="long"))
    )
    assert (btc["total"], btc["approved"], btc["outcomes"]["net_pnl"]) == (3, 1, "12")
    later = await db.run(
        lambda conn: analytics.decisions(conn, user, build_filter(date_from="2026-02-01"))
    )
    assert later["total"] == 0
