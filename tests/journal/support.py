"""Helpers of the journal tests: users, accounts and trades written straight to the database."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D
from typing import Any

import httpx

from tests.auth.helpers import Wallet, WebSession, sign_in
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.models import Fill

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    """A moment in March 2026 (the 2nd is a Monday)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def fill(
    fid: str,
    symbol: str,
    side: str,
    qty: str,
    price: str,
    fee: str,
    when: dt.datetime,
    *,
    order: str | None = None,
    client: str | None = None,
) -> Fill:
    return Fill(
        exchange="binance",
        fill_id=fid,
        order_id=order or f"o-{fid}",
        client_order_id=client,
        symbol=symbol,
        side=side,
        price=D(price),
        quantity=D(qty),
        fee=D(fee),
        fee_asset="USDT",
        realized_pnl=None,
        timestamp=when,
    )


async def new_user(http: httpx.AsyncClient, now: dt.datetime) -> WebSession:
    return await sign_in(http, Wallet(), now)


def insert_user(conn: Conn) -> str:
    address = "0x" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
    row = conn.execute(
        "INSERT INTO users (wallet_address) VALUES (%s) RETURNING id::text AS id", (address,)
    ).fetchone()
    assert row is not None
    return str(row["id"])


def insert_account(
    conn: Conn, user_id: str, exchange: str = "binance", starting_balance: D | None = None
) -> str:
    row = conn.execute(
        """
        INSERT INTO exchange_accounts (user_id, exchange, account_name, auth_mode, key_id,
                                       status, starting_balance, wallet_address)
        VALUES (%s, %s, %s, %s, 'test', 'active', %s, %s) RETURNING id::text AS id
        """,
        (
            user_id,
            exchange,
            f"{exchange} {uuid.uuid4().hex[:4]}",
            "agent_wallet" if exchange == "hyperliquid" else "api_key",
            starting_balance,
            ("0x" + uuid.uuid4().hex + uuid.uuid4().hex[:8]) if exchange == "hyperliquid" else None,
        ),
    ).fetchone()
    assert row is not None
    return str(row["id"])


TRADE_DEFAULTS: dict[str, Any] = {
    "exchange": "binance",
    "exchange_account_id": None,
    "symbol": "BTC_USDT",
    "side": "LONG",
    "entry_price": D(100),
    "exit_price": D(101),
    "quantity": D(1),
    "realized_pnl": D(1),
    "realized_pnl_pct": D(1),
    "fees": D(0),
    "net_pnl": D(1),
    "r_multiple": None,
    "risk_amount": None,
    "source": "import_ccxt",
    "setup_tag": None,
    "close_reason": None,
    "trade_group_id": None,
}


def insert_trade(conn: Conn, user_id: str, **values: Any) -> str:
    """A journal trade with ``values`` over the defaults (opened_at/closed_at required)."""
    row = {**TRADE_DEFAULTS, **values, "user_id": user_id}
    columns = ", ".join(row)
    marks = ", ".join(f"%({k})s" for k in row)
    found = conn.execute(
        f"INSERT INTO journal_trades ({columns}) VALUES ({marks}) RETURNING id::text AS id",
        row,
    ).fetchone()
    assert found is not None
    return str(found["id"])


async def run(db: Database, work: Any) -> Any:
    return await db.run(work)
