"""Building ccxt clients (sync API; every call runs in a worker thread owned by an actor)."""

from __future__ import annotations

from typing import Any

import attrs
import ccxt

from .catalog import ExchangeInfo
from .endpoints import rebase_urls
from .venues import venue_for


@attrs.frozen
class Credentials:
    """What a ccxt client needs to sign requests. ``repr`` never shows a secret."""

    api_key: str = attrs.field(default="", repr=False)
    secret: str = attrs.field(default="", repr=False)
    passphrase: str | None = attrs.field(default=None, repr=False)
    wallet_address: str | None = None
    private_key: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class ClientFactory:
    """Makes configured ccxt clients. ``base_url`` reroutes every exchange (see endpoints)."""

    base_url: str | None = None
    timeout_ms: int = 10_000
    testnet: bool = False
    rate_limit: bool = True

    def create(self, info: ExchangeInfo, credentials: Credentials | None = None) -> Any:
        cls = getattr(ccxt, info.ccxt_id)
        config: dict[str, Any] = {
            "enableRateLimit": self.rate_limit,
            "timeout": self.timeout_ms,
            "options": {
                "fetchCurrencies": False,
                "adjustForTimeDifference": False,
                # One call for all symbols is what the positions view needs.
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                "fetchOpenOrders": {"warnWithoutSymbol": False},
            },
        }
        venue = venue_for(info)
        config["options"].update(venue.client_options())
        if credentials is not None:
            if info.auth_mode == "agent_wallet":
                config["walletAddress"] = credentials.wallet_address
                config["privateKey"] = credentials.private_key
            else:
                config["apiKey"] = credentials.api_key
                config["secret"] = credentials.secret
                if credentials.passphrase:
                    config["password"] = credentials.passphrase
        client = cls(config)
        venue.prepare_client(client)
        if self.testnet and not self.base_url:
            client.set_sandbox_mode(True)
        if self.base_url:
            rebase_urls(client, self.base_url)
        return client
