"""Journal trades and trade groups: imported round trips linked to the group whose orders they
filled (exact R from the group's stop and risk), groups recorded by Testudo, and no duplicate
whichever comes first."""

from __future__ import annotations

import uuid
from decimal import Decimal as D
from typing import Any

import attrs

from testudo.db import Database
from testudo.db.database import Conn
from testudo.imports.store import store_trades
from testudo.journal.linking import GroupClose, link_trades_to_groups, record_closed_group
from testudo.journal.roundtrips import reconstruct

from .support import at, fill, insert_account, insert_user


def insert_group(
    conn: Conn,
    user: str,
    account: str,
    orders: list[tuple[str, str, str | None]],
    *,
    stop: D = D(95),
    risk: D | None = D(10),
    setup: str | None = "Breakout",
    exchange: str = "binance",
    symbol: str = "BTC_USDT",
) -> str:
    group = str(uuid.uuid4())
    now = at(1, 12)
    conn.execute(
        "INSERT INTO trade_groups (id, user_id, exchange_account_id, exchange, symbol, side,"
        " entry_type, entry_price, quantity, stop_loss_price, tick_size, lot_size, risk_amount,"
        " status, setup_tag, close_reason, created_at, updated_at) VALUES (%s, %s, %s,"
        " %s, %s, 'buy', 'limit', 100, 2, %s, 0.1, 0.001, %s, 'closed', %s,"
        " 'take_profit', %s, %s)",
        (group, user, account, exchange, symbol, stop, risk, setup, now, now),
    )
    for seq, (role, client, exchange_id) in enumerate(orders):
        conn.execute(
            "INSERT INTO trade_orders (group_id, role, seq, client_order_id, exchange_order_id,"
            " side, order_type, quantity, reduce_only, status, created_at, updated_at) VALUES"
            " (%s, %s, %s, %s, %s, 'buy', 'limit', 2, false, 'filled', %s, %s)",
            (group, role, seq, client, exchange_id, now, now),
        )
    return group


def round_trip(prefix: str, day: int, *, orders: tuple[str, str], clients: tuple[str, str] | None):
    """Long 2 BTC at 100, out at 110: P&L 20, fees 0.4, net 19.6."""
    c_in, c_out = clients or (None, None)
    return reconstruct(
        [
            fill(
                f"{prefix}1",
                "BTC_USDT",
                "buy",
                "2",
                "100",
                "0.2",
                at(day, 9),
                order=orders[0],
                client=c_in,
            ),
            fill(
                f"{prefix}2",
                "BTC_USDT",
                "sell",
                "2",
                "110",
                "0.2",
                at(day, 10),
                order=orders[1],
                client=c_out,
            ),
        ]
    ).trips


def close_of(user: str, account: str, group: str, day: int, **extra: Any) -> GroupClose:
    values: dict[str, Any] = {
        "user_id": user,
        "trade_group_id": group,
        "exchange_account_id": account,
        "exchange": "Binance",
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": D(100),
        "exit_price": D(110),
        "quantity": D(2),
        "fees": D("0.4"),
        "opened_at": at(day, 9),
        "closed_at": at(day, 10),
        "stop_price": D(95),
        "risk_amount": D(10),
        "setup_tag": "Breakout",
        "close_reason": "take_profit",
    }
    return GroupClose(**{**values, **extra})


TRADES = """
SELECT id::text AS id, trade_group_id::text AS grp, stop_price, risk_amount, r_multiple,
       setup_tag, source, net_pnl, source_fills_hash, notes
FROM journal_trades WHERE user_id = %s ORDER BY opened_at
"""


async def test_imported_trades_link_to_their_groups_and_never_duplicate(db: Database) -> None:
    def scenario(conn: Conn) -> None:
        user, other = insert_user(conn), insert_user(conn)
        account = insert_account(conn, user)

        # 1. import first (Binance fills: exchange order ids only), the group closes later
        g1 = insert_group(
            conn, user, account, [("entry", "tg-1-e", "111"), ("take_profit", "tg-1-tp", "112")]
        )
        store_trades(
            conn,
            user,
            account,
            "import_ccxt",
            round_trip("a", 2, orders=("111", "112"), clients=None),
        )
        assert link_trades_to_groups(conn, user).linked == 1
        (t1,) = conn.execute(TRADES, (user,)).fetchall()
        assert (t1["grp"], t1["stop_price"], t1["risk_amount"]) == (g1, D(95), D(10))
        assert t1["r_multiple"] == D("1.96") and t1["setup_tag"] == "Breakout"  # 19.6 / 10
        recorded = record_closed_group(conn, close_of(user, account, g1, 2))
        assert (recorded.trade_id, recorded.created) == (t1["id"], False)
        assert len(conn.execute(TRADES, (user,)).fetchall()) == 1

        # 2. the group is recorded first, the import brings the same round trip afterwards
        g2 = insert_group(
            conn,
            user,
            account,
            [("entry", "0xe2", None), ("stop_loss", "0xs2", None)],
            risk=None,
            stop=D(98),
        )
        first = record_closed_group(
            conn,
            close_of(
                user,
                account,
                g2,
                3,
                risk_amount=None,
                stop_price=D(98),
                client_order_ids=("0xe2", "0xs2"),
            ),
        )
        assert first.created
        again = record_closed_group(
            conn, close_of(user, account, g2, 3, risk_amount=None, stop_price=D(98))
        )
        assert (again.trade_id, again.created) == (first.trade_id, False)
        trips = round_trip("b", 3, orders=("9", "10"), clients=("0xe2", "0xs2"))
        assert store_trades(conn, user, account, "import_hl", trips) == 1
        result = link_trades_to_groups(conn, user)
        assert (result.linked, result.duplicates_removed) == (0, 1)
        rows = conn.execute(TRADES, (user,)).fetchall()
        assert [r["grp"] for r in rows] == [g1, g2]
        assert rows[1]["source"] == "testudo" and rows[1]["source_fills_hash"] is not None
        assert rows[1]["r_multiple"] == D("4.9")  # 19.6 / (|100 - 98| x 2)
        assert store_trades(conn, user, account, "import_hl", trips) == 0  # recognised now

        # 3. a trade the user already annotated is never deleted as a duplicate
        g3 = insert_group(conn, user, account, [("entry", "0xe3", None)])
        record_closed_group(conn, close_of(user, account, g3, 4))
        store_trades(
            conn,
            user,
            account,
            "import_hl",
            round_trip("c", 4, orders=("20", "21"), clients=("0xe3", None)),
        )
        conn.execute(
            "UPDATE journal_trades SET notes = 'keep me' WHERE source = 'import_hl'"
            " AND trade_group_id IS NULL"
        )
        assert link_trades_to_groups(conn, user).duplicates_removed == 0
        assert len(conn.execute(TRADES, (user,)).fetchall()) == 4

        # 4. another user's group never claims my trade, and my import never links to theirs
        other_account = insert_account(conn, other)
        insert_group(conn, other, other_account, [("entry", "tg-5-e", "500")])
        store_trades(
            conn,
            user,
            account,
            "import_ccxt",
            round_trip("d", 5, orders=("500", "501"), clients=None),
        )
        assert link_trades_to_groups(conn, user).linked == 0
        assert link_trades_to_groups(conn, other).linked == 0
        assert conn.execute(TRADES, (other,)).fetchall() == []
        rows = conn.execute(TRADES, (user,)).fetchall()
        assert rows[-1]["grp"] is None and rows[-1]["r_multiple"] is None

        # 5. Hyperliquid: a group asked for ETH_USDT fills as ETH_USDC; it still links
        hl = insert_account(conn, user, "hyperliquid")
        g5 = insert_group(
            conn, user, hl, [("entry", "0xe5", "77")], exchange="hyperliquid", symbol="ETH_USDT"
        )
        eth = [
            attrs.evolve(f, exchange="hyperliquid", symbol="ETH_USDC")
            for f in (
                fill(
                    "h1", "BTC_USDT", "buy", "2", "100", "0.2", at(6, 9), order="77", client="0xe5"
                ),
                fill("h2", "BTC_USDT", "sell", "2", "110", "0.2", at(6, 10), order="78"),
            )
        ]
        store_trades(conn, user, hl, "import_hl", reconstruct(eth).trips)
        assert link_trades_to_groups(conn, user).linked == 1
        rows = conn.execute(TRADES, (user,)).fetchall()
        assert rows[-1]["grp"] == g5

    await db.run(scenario)


async def test_linking_without_groups_is_a_no_op(db: Database) -> None:
    def scenario(conn: Conn) -> None:
        user = insert_user(conn)
        store_trades(
            conn, user, None, "import_ccxt", round_trip("x", 2, orders=("1", "2"), clients=None)
        )  # type: ignore[arg-type]
        assert link_trades_to_groups(conn, user).linked == 0

    await db.run(scenario)
