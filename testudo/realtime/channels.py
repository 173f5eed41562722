"""Channel names of the realtime feed (docs/realtime.md), as pure functions.

* private: ``order.<user_id>``, ``balance.<user_id>`` (a lower-case UUID);
* public: ``depth.<SYMBOL>``, ``trade.<SYMBOL>``, ``ticker.<SYMBOL>`` with a Testudo symbol
  (``BTC_USDT``) on the default market-data exchange, or ``ticker.BTC_USDT@hyperliquid`` on
  another exchange of the catalog.
"""

from __future__ import annotations

import re

import attrs

from testudo.exchanges.catalog import BY_ID

PRIVATE_KINDS = ("order", "balance")
PUBLIC_KINDS = ("depth", "trade", "ticker")

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SYMBOL = r"[A-Z0-9]{1,20}_[A-Z0-9]{2,20}"
_CHANNEL = re.compile(
    rf"^(?:(?P<private>{'|'.join(PRIVATE_KINDS)})\.(?P<user>{_UUID})"
    rf"|(?P<public>{'|'.join(PUBLIC_KINDS)})\.(?P<symbol>{_SYMBOL})"
    r"(?:@(?P<exchange>[a-z0-9]{2,20}))?)$"
)

#: (exchange, kind) pairs an exchange's public API cannot serve: Hyperliquid publishes public
#: trades only on its own WebSocket, and ccxt's REST ``fetchTrades`` there needs a user.
UNAVAILABLE = frozenset({("hyperliquid", "trade")})


@attrs.frozen
class Channel:
    """A parsed channel name."""

    name: str
    kind: str
    user_id: str | None = None
    symbol: str | None = None
    exchange: str | None = None

    @property
    def private(self) -> bool:
        return self.user_id is not None


def parse_channel(name: object) -> Channel | None:
    """The channel named ``name``, or None when it is not a valid channel name."""
    if not isinstance(name, str):
        return None
    match = _CHANNEL.match(name)
    if match is None:
        return None
    if match["private"]:
        return Channel(name, match["private"], user_id=match["user"])
    exchange = match["exchange"]
    if exchange is not None and exchange not in BY_ID:
        return None
    return Channel(name, match["public"], symbol=match["symbol"], exchange=exchange)


def unavailable(channel: Channel, default_exchange: str) -> str | None:
    """Why a public channel cannot be served (None when it can)."""
    exchange = channel.exchange or default_exchange
    if (exchange, channel.kind) in UNAVAILABLE:
        return f"{channel.kind} streams are not available on {exchange}"
    return None


def feed_key(channel: Channel, default_exchange: str) -> tuple[str, str]:
    """The (exchange, symbol) market-data feed serving a public channel."""
    assert channel.symbol is not None
    return (channel.exchange or default_exchange, channel.symbol)


def feed_streams(exchange: str, symbol: str, kind: str, default_exchange: str) -> tuple[str, ...]:
    """Every channel name a feed publishes ``kind`` under (both spellings on the default)."""
    qualified = f"{kind}.{symbol}@{exchange}"
    if exchange == default_exchange:
        return (f"{kind}.{symbol}", qualified)
    return (qualified,)
