"""The import's funding step: every trade of the account whose funding was not read yet
takes the funding payments of its symbol between its open and close (one paged read of the
venue's funding history per symbol). A venue that reports no funding gives its trades 0; a
failed read leaves them unread for the next import."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.venues import Venue
from testudo.journal.funding import (
    Unread,
    by_symbol,
    funding_within,
    ms,
    set_funding,
    unread_trades,
)

log = logging.getLogger("testudo.imports")

Payments = list[tuple[int, Decimal]]
Call = Callable[[Callable[[Any], Payments]], Awaitable[Payments]]


async def read_funding(db: Database, call: Call, venue: Venue, account_id: str) -> int:
    """Fill in the funding of the account's unread trades; return how many were filled."""
    unread = await db.run(lambda conn: unread_trades(conn, account_id))
    filled = 0
    for symbol, trades in by_symbol(unread).items():
        since = min(ms(t.opened_at) for t in trades)
        until = max(ms(t.closed_at) for t in trades)
        read = functools.partial(
            venue.funding_payments, symbol=symbol, since_ms=since, until_ms=until
        )
        try:
            payments = await call(read)
        except ExchangeFailure as failure:
            log.warning(
                "funding not read",
                extra={"json_fields": {"symbol": symbol, "error": str(failure)}},
            )
            continue
        filled += await db.run(functools.partial(_store, trades=trades, payments=payments))
    return filled


def _store(conn: Conn, trades: list[Unread], payments: Payments) -> int:
    return sum(
        set_funding(conn, t.id, funding_within(payments, ms(t.opened_at), ms(t.closed_at)))
        for t in trades
    )
