"""Async client of a running simulator's control API, plus configured ccxt clients."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import ccxt
import httpx

from testudo.sim.server import SimHandle
from testudo.sim.simulator import Simulator
from testudo.sim.wiring import point_ccxt_at


@attrs.frozen
class SimAccount:
    """Credentials of one simulated account."""

    account_id: int
    api_key: str
    secret: str
    wallet_address: str
    wallet_private_key: str
    passphrase: str = ""  # OKX's third credential


class SimClient:
    """Drives a simulator over its control API (what tests use)."""

    def __init__(self, handle: SimHandle, http: httpx.AsyncClient) -> None:
        self.handle = handle
        self.http = http

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.handle.base_url

    @property
    def simulator(self) -> Simulator:
        """The in-process state, for direct inspection."""
        return self.handle.simulator

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"/_sim{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def create_account(
        self,
        balance: Decimal | str = "10000",
        permissions: dict[str, bool] | None = None,
        *,
        hedge_mode: bool = False,
        multi_assets: bool = False,
        balances: dict[str, Decimal | str] | None = None,
    ) -> SimAccount:
        """A new account funded with ``balance`` on every venue, or with ``balances`` per
        collateral asset (``{"USDT": "5000", "USDC": "5000"}``; Hyperliquid takes the USDC).

        ``hedge_mode`` and ``multi_assets`` set Binance's position and Multi-Assets modes.
        """
        body: dict[str, Any] = {
            "permissions": permissions or {},
            "hedge_mode": hedge_mode,
            "multi_assets": multi_assets,
        }
        if balances is None:
            body["balance"] = str(balance)
        else:
            body["balances"] = {asset: str(amount) for asset, amount in balances.items()}
        data = await self._call("POST", "/accounts", json=body)
        return SimAccount(
            account_id=data["account_id"],
            api_key=data["api_key"],
            secret=data["secret"],
            wallet_address=data["wallet_address"],
            wallet_private_key=data["wallet_private_key"],
            passphrase=data["passphrase"],
        )

    async def set_price(
        self, symbol: str, price: Decimal | str, *, freeze: bool | None = None
    ) -> dict[str, Any]:
        """Move ``symbol`` (``BTC_USDT``) to ``price`` now."""
        body: dict[str, Any] = {"symbol": symbol, "price": str(price)}
        if freeze is not None:
            body["freeze"] = freeze
        result: dict[str, Any] = await self._call("POST", "/prices", json=body)
        return result

    async def prices(self) -> dict[str, Any]:
        """Reference prices and venue marks."""
        result: dict[str, Any] = await self._call("GET", "/prices")
        return result

    async def set_funding_rate(
        self, exchange: str, symbol: str, rate: Decimal | str
    ) -> dict[str, Any]:
        """The funding rate of ``symbol`` (``BTC_USDT``) on ``exchange`` (``binanceusdm``,
        ``hyperliquid``, ...) from the next funding time on."""
        body = {"exchange": exchange, "symbol": symbol, "rate": str(rate)}
        result: dict[str, Any] = await self._call("POST", "/funding", json=body)
        return result

    async def pay_funding(self, exchange: str) -> list[dict[str, Any]]:
        """A funding time on ``exchange`` now; the payments it made."""
        result = await self._call("POST", "/funding/pay", json={"exchange": exchange})
        payments: list[dict[str, Any]] = result["payments"]
        return payments

    async def step(self, steps: int = 1) -> dict[str, Any]:
        """Advance the random walk."""
        result: dict[str, Any] = await self._call("POST", "/walk", json={"steps": steps})
        return result

    async def generate_history(
        self,
        account: SimAccount,
        *,
        venue: str = "binance",
        fills: int = 1000,
        days: int = 90,
        seed: int = 0,
    ) -> int:
        """Generate past fills for ``account`` on ``venue`` (``binance``, ``hyperliquid``,
        ``okx``, ``woo``, ``bybit``); return how many."""
        key = (
            {"wallet_address": account.wallet_address}
            if venue == "hyperliquid"
            else {"api_key": account.api_key, "venue": venue}
        )
        data = await self._call(
            "POST", "/history", json={**key, "fills": fills, "days": days, "seed": seed}
        )
        return int(data["generated"])

    async def set_fault(
        self, exchange: str, mode: str, endpoint: str | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """Switch a fault on (or ``mode="off"``); return the active rules."""
        body = {"exchange": exchange, "mode": mode, **params}
        if endpoint is not None:
            body["endpoint"] = endpoint
        data = await self._call("POST", "/faults", json=body)
        return list(data["rules"])

    async def clear_faults(self) -> None:
        """Remove every fault."""
        await self._call("DELETE", "/faults")

    async def requests(
        self, exchange: str | None = None, *, key: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The newest logged requests (oldest first): ``exchange`` is the URL prefix
        (``hyperliquid``, ``binanceusdm``), ``key`` a fault key (``/exchange:setReferrer``,
        or a prefix ending in ``*``)."""
        params = {
            name: value
            for name, value in (("exchange", exchange), ("key", key), ("limit", limit))
            if value is not None
        }
        data = await self._call("GET", "/requests", params=params)
        return list(data["requests"])

    async def clear_requests(self) -> None:
        """Empty the request log."""
        await self._call("DELETE", "/requests")

    async def weights(self) -> dict[str, Any]:
        """Each weight budget's limit and the weight each IP used in its current window."""
        result: dict[str, Any] = await self._call("GET", "/weights")
        return result

    async def set_weight_limit(self, budget: str, limit: int | None) -> dict[str, Any]:
        """Change a budget's per-window limit (``binance``, ``binance_sapi``, ``hyperliquid``);
        ``None`` disables it."""
        result: dict[str, Any] = await self._call(
            "POST", "/weights", json={"budget": budget, "limit": limit}
        )
        return result

    async def state(self, account: SimAccount, fills: int = 100) -> dict[str, Any]:
        """Balances, positions, open orders and fills of ``account`` on every venue."""
        result: dict[str, Any] = await self._call(
            "GET", "/state", params={"account_id": account.account_id, "fills": fills}
        )
        return result

    async def fill_order(
        self,
        account: SimAccount,
        exchange: str,
        *,
        quantity: Decimal | str,
        order_id: str | int | None = None,
        client_order_id: str | None = None,
        price: Decimal | str | None = None,
    ) -> dict[str, Any]:
        """Fill ``quantity`` of a resting limit order of ``account`` as maker (a partial match).

        ``exchange`` is ``binanceusdm``, ``hyperliquid``, ``okx``, ``woo`` or ``bybit``
        (``quantity`` in base units, not OKX contracts); name the order by ``order_id``
        (ccxt's ``id``) or ``client_order_id``. The fill is at the limit unless ``price`` is
        given. Return the order's new state (``filled``, ``remaining``, ``status``, ``fill``);
        an invalid request raises ``httpx.HTTPStatusError`` (400, or 404 for no such order).
        """
        body: dict[str, Any] = {
            "account_id": account.account_id,
            "exchange": exchange,
            "quantity": str(quantity),
        }
        if order_id is not None:
            body["order_id"] = str(order_id)
        if client_order_id is not None:
            body["client_order_id"] = client_order_id
        if price is not None:
            body["price"] = str(price)
        result: dict[str, Any] = await self._call("POST", "/orders/fill", json=body)
        return result

    def binance(self, account: SimAccount, **options: Any) -> Any:
        """A sync ``ccxt.binanceusdm`` for ``account``, pointed at the simulator."""
        return make_binance(self.base_url, account, **options)

    def hyperliquid(
        self, account: SimAccount, *, agent_key: str | None = None, **options: Any
    ) -> Any:
        """A sync ``ccxt.hyperliquid`` for ``account`` (signing with ``agent_key`` if given)."""
        return make_hyperliquid(self.base_url, account, agent_key=agent_key, **options)

    def bybit(self, account: SimAccount, **options: Any) -> Any:
        """A sync ``ccxt.bybit`` for ``account``, pointed at the simulator."""
        return make_bybit(self.base_url, account, **options)

    def okx(self, account: SimAccount, **options: Any) -> Any:
        """A sync ``ccxt.okx`` for ``account`` (key, secret and passphrase)."""
        return make_okx(self.base_url, account, **options)

    def woo(self, account: SimAccount, **options: Any) -> Any:
        """A sync ``ccxt.woo`` for ``account`` (its API key and secret), pointed here."""
        return make_woo(self.base_url, account, **options)


def make_binance(base_url: str, account: SimAccount, **options: Any) -> Any:
    """A configured ``ccxt.binanceusdm`` (rate limiting off unless asked)."""
    exchange = ccxt.binanceusdm(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "enableRateLimit": options.pop("enableRateLimit", False),
            "timeout": options.pop("timeout", 10_000),
            "options": options,
        }
    )
    point_ccxt_at(exchange, base_url)
    return exchange


def make_hyperliquid(
    base_url: str, account: SimAccount, *, agent_key: str | None = None, **options: Any
) -> Any:
    """A configured ``ccxt.hyperliquid`` (wallet address of the user, key of user or agent)."""
    exchange = ccxt.hyperliquid(
        {
            "walletAddress": account.wallet_address,
            "privateKey": agent_key or account.wallet_private_key,
            "enableRateLimit": options.pop("enableRateLimit", False),
            "timeout": options.pop("timeout", 10_000),
            "options": options,
        }
    )
    point_ccxt_at(exchange, base_url)
    return exchange


def make_bybit(base_url: str, account: SimAccount, **options: Any) -> Any:
    """A configured ``ccxt.bybit`` (rate limiting off unless asked)."""
    exchange = ccxt.bybit(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "enableRateLimit": options.pop("enableRateLimit", False),
            "timeout": options.pop("timeout", 10_000),
            "options": options,
        }
    )
    point_ccxt_at(exchange, base_url)
    return exchange


def make_okx(base_url: str, account: SimAccount, **options: Any) -> Any:
    """A configured ``ccxt.okx`` (rate limiting off unless asked); the passphrase is ccxt's
    ``password``."""
    exchange = ccxt.okx(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "password": account.passphrase,
            "enableRateLimit": options.pop("enableRateLimit", False),
            "timeout": options.pop("timeout", 10_000),
            "options": options,
        }
    )
    point_ccxt_at(exchange, base_url)
    return exchange


def make_woo(base_url: str, account: SimAccount, **options: Any) -> Any:
    """A configured ``ccxt.woo`` (rate limiting off unless asked)."""
    exchange = ccxt.woo(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "enableRateLimit": options.pop("enableRateLimit", False),
            "timeout": options.pop("timeout", 10_000),
            "options": options,
        }
    )
    point_ccxt_at(exchange, base_url)
    return exchange
