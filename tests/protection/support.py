"""The venues of the venue-parametrised tests, and the fault matrix's invariant.

A :class:`VenueCase` says, for one venue, how a user links an account, which simulator
endpoints the placement of a stop, a target and a close go to, and the venue's own error
codes for the refusals the matrix plays; where the end-to-end trade scenarios and the
history import run on the venue, its :class:`TradeCase` and :class:`ImportCase` say how they
read and drive it. :func:`assert_protected_or_flat` is the promise: after every fault, the
position is protected by exactly one reduce-only stop resting on the exchange, or it is
flat, and the group says which.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from decimal import Decimal as D
from typing import Any, Protocol

import attrs
import httpx
import trio

from tests.auth.helpers import Wallet, sign_in
from tests.exchanges.test_agent_wallet import approved_account
from tests.trading import venue_reads as reads
from tests.trading.helpers import Trader
from testudo.sim.client import SimAccount, SimClient


class Now(Protocol):
    """A clock (the tests' ManualClock, or the real time for a service process)."""

    def now(self) -> dt.datetime: ...


@attrs.frozen
class Reject:
    """A ``reject`` fault: the venue's own error code and message."""

    code: str
    message: str


@attrs.frozen
class TradeCase:
    """How the end-to-end trade scenarios (tests/trading/test_venue_trades.py) drive and read
    a venue's account."""

    entry_endpoint: str  # where an entry is placed (a timeout there: found by client id)
    wallet: Callable[[Any], Awaitable[D]]  # the account's settled balance, as the venue says
    fees: Callable[[Any, dict[str, Any]], Awaitable[D]]  # what the venue charged the group
    is_ours: Callable[[Any], bool]  # a client id in Testudo's format for the venue
    ghosts: Callable[[], reads.Ghosts]
    checks: reads.VenueChecks = attrs.field(factory=reads.VenueChecks)


@attrs.frozen
class ImportCase:
    """The history import's figures on a venue (tests/journal/test_venue_import.py)."""

    fail_after: int  # pages read before the simulated outage (a few, not all)
    min_pages: int  # pages the 1500 generated fills take at the least
    # requests an import of one BTC round trip makes, by the simulator's request key: the
    # traded symbols found account-wide, then BTC's own
    discovery: dict[str, int]


@attrs.frozen
class VenueCase:
    id: str
    prefix: str  # the simulator's URL prefix (fault rules)
    engine: str  # the simulator's engine (state)
    symbol: str  # the ccxt symbol of BTC_USDT on this venue
    stop_endpoint: str
    target_endpoint: str
    close_endpoint: str
    target_skip: int  # placements of the same endpoint before a target's (the stop's)
    stop_refused: Reject  # a refusal of the stop with no alternative: an emergency exit
    target_refused: Reject
    close_refused: Reject  # a close refusal a fresh price answers
    stop_slots: Reject | None  # "too many conditional orders": the targets make room
    link: Callable[[httpx.AsyncClient, SimClient, Now], Awaitable[Trader]]
    client: Callable[[SimClient, Any], Any]  # the user's own ccxt client (trading by hand)
    contract_size: D = D(1)  # base units per ccxt amount unit (OKX: ctVal)
    trigger_params: dict[str, Any] = attrs.field(factory=dict)  # ccxt params of a stop's calls
    trades: TradeCase | None = None  # the end-to-end trade scenarios run on the venue
    imports: ImportCase | None = None  # the history import scenarios run on the venue

    def amount(self, quantity: str) -> float:
        """A base-unit quantity as the ccxt amount of this venue (contracts on OKX)."""
        return float(D(quantity) / self.contract_size)


def api_key_body(exchange: str, account: SimAccount) -> dict[str, str]:
    """The body linking a simulator account by API key (with the key's passphrase where the
    exchange has one)."""
    body = {"exchange_name": exchange, "api_key": account.api_key, "secret": account.secret}
    if exchange == "okx":
        body["passphrase"] = account.passphrase
    return body


async def link_api_key(
    exchange: str, http: httpx.AsyncClient, sim: SimClient, clock: Now
) -> Trader:
    """A fresh user with a fresh simulator account linked by API key (and the key's
    passphrase where the exchange has one)."""
    session = await sign_in(http, Wallet(), clock.now())
    account = await sim.create_account("10000")
    response = await http.post(
        "/api/v1/exchanges/accounts",
        headers=session.bearer(),
        json=api_key_body(exchange, account),
    )
    assert response.status_code == 201, response.text
    return Trader(http, session, account, response.json()["id"])


link_binance = functools.partial(link_api_key, "binance")
link_bybit = functools.partial(link_api_key, "bybit")
link_okx = functools.partial(link_api_key, "okx")
link_woo = functools.partial(link_api_key, "woo")


async def link_hyperliquid(http: httpx.AsyncClient, sim: SimClient, clock: Now) -> Trader:
    session = await sign_in(http, Wallet(), clock.now())
    account = await sim.create_account("10000")
    account_id = await approved_account(http, session, account)
    return Trader(http, session, account, account_id)


BINANCE = VenueCase(
    id="binance",
    prefix="binanceusdm",
    engine="binance",
    symbol="BTC/USDT:USDT",
    stop_endpoint="POST /fapi/v1/algoOrder",
    target_endpoint="POST /fapi/v1/order",
    close_endpoint="POST /fapi/v1/order",
    target_skip=0,
    stop_refused=Reject("-2021", "Order would immediately trigger."),
    target_refused=Reject("-1111", "Precision is over the maximum defined for this asset."),
    close_refused=Reject(
        "-4131", "The counterparty's best price does not meet the PERCENT_PRICE filter limit."
    ),
    stop_slots=Reject("-4045", "Reach max stop order limit."),
    link=link_binance,
    client=lambda sim, account: sim.binance(account),
    trigger_params={"trigger": True},
)
HYPERLIQUID = VenueCase(
    id="hyperliquid",
    prefix="hyperliquid",
    engine="hyperliquid",
    symbol="BTC/USDC:USDC",
    stop_endpoint="/exchange:order",
    target_endpoint="/exchange:order",
    close_endpoint="/exchange:order",
    target_skip=1,
    stop_refused=Reject("tpsl", "Invalid TP/SL price. asset=0"),
    target_refused=Reject("tick", "Price must be divisible by tick size. asset=0"),
    close_refused=Reject(
        "band", "Order price cannot be more than 80% away from the reference price"
    ),
    stop_slots=None,
    link=link_hyperliquid,
    client=lambda sim, account: sim.hyperliquid(
        account, builderFee=False, fetchMarkets={"types": ["swap"]}
    ),
)
# Bybit: stops, targets and closes all go to /v5/order/create (the stop first, then the
# targets); refusals are HTTP 200 with Bybit's retCode. The would-trigger message is ccxt's
# form of it (Bybit appends "??LastPrice", which the error sanitiser reads as a query string).
BYBIT = VenueCase(
    id="bybit",
    prefix="bybit",
    engine="bybit",
    symbol="BTC/USDT:USDT",
    stop_endpoint="/v5/order/create",
    target_endpoint="/v5/order/create",
    close_endpoint="/v5/order/create",
    target_skip=1,
    stop_refused=Reject(
        "110093", "expect Falling, but trigger_price[4850000000] >= current[4940000000]"
    ),
    target_refused=Reject("110094", "Order does not meet minimum order value 5USDT"),
    close_refused=Reject("110003", "Order price is out of permissible range"),
    stop_slots=Reject("110009", "The number of stop orders exceeds maximum limit allowed"),
    link=link_bybit,
    client=lambda sim, account: sim.bybit(account),
    # a rate limit is retCode 10006; the entry goes to the stop's endpoint before it
    trades=TradeCase(
        entry_endpoint="/v5/order/create",
        wallet=reads.bybit_wallet,
        fees=reads.bybit_fees,
        is_ours=reads.bybit_id,
        ghosts=reads.bybit_ghosts,
    ),
    # 100 executions a page, 7-day windows; 90 days are 13 windows, read account-wide once,
    # then BTC's own (every market's would be 3 x 13 here, hundreds on Bybit itself); then
    # the trade's funding (its span is within one window: one request)
    imports=ImportCase(fail_after=12, min_pages=16, discovery={"/v5/execution/list": 13 + 13 + 1}),
)
# OKX: entries, targets and closes go to batch-orders (ccxt's route for one order), stops to
# order-algo; refusals are HTTP 200, code 1, with the order's sCode / sMsg.
OKX = VenueCase(
    id="okx",
    prefix="okx",
    engine="okx",
    symbol="BTC/USDT:USDT",
    stop_endpoint="/api/v5/trade/order-algo",
    target_endpoint="/api/v5/trade/batch-orders",
    close_endpoint="/api/v5/trade/batch-orders",
    target_skip=0,
    stop_refused=Reject("51280", "SL trigger price cannot be higher than the last price"),
    target_refused=Reject("51121", "Order count should be the integer multiples of the lot size"),
    close_refused=Reject("51006", "Order price is not within the price limit"),
    stop_slots=Reject("51261", "Each user can hold up to 100 pending stop orders at the same time"),
    link=link_okx,
    client=lambda sim, account: sim.okx(account),
    contract_size=D("0.01"),  # BTC-USDT-SWAP: 0.01 BTC a contract
    trigger_params={"trigger": True},
    # a rate limit is code 50011
    trades=TradeCase(
        entry_endpoint="/api/v5/trade/batch-orders",
        wallet=reads.okx_wallet,
        fees=reads.okx_fees,
        is_ours=reads.okx_id,
        ghosts=reads.okx_ghosts,
        checks=reads.OkxChecks(),
    ),
    # 100 fills a page, 7-day windows; 90 days are 13 windows of the archive and one of the
    # last three days: read account-wide once, then BTC's own (every swap's would be 3 x 14)
    imports=ImportCase(
        fail_after=12,
        min_pages=16,
        discovery={"/api/v5/trade/fills-history": 13 + 13, "/api/v5/trade/fills": 1 + 1},
    ),
)
# WOO X: the stop goes to the algo endpoint, limit targets and closes to the order endpoint
# (after the entry, which the fault is armed behind). Refusals are WOO's code and message.
WOO = VenueCase(
    id="woo",
    prefix="woo",
    engine="woo",
    symbol="BTC/USDT:USDT",
    stop_endpoint="POST /v3/trade/algoOrder",
    target_endpoint="POST /v3/trade/order",
    close_endpoint="POST /v3/trade/order",
    target_skip=0,
    stop_refused=Reject("317151", "trigger price must be less than 49400"),
    target_refused=Reject(
        "-1103", "The order price is not following the tick size rule for the symbol."
    ),
    close_refused=Reject("-1105", "Price is 5% too high or 5% too low from the mid price."),
    stop_slots=None,
    link=link_woo,
    client=lambda sim, account: sim.woo(account),
    trigger_params={"trigger": True},
    # a rate limit is code -1003
    trades=TradeCase(
        entry_endpoint="POST /v3/trade/order",
        wallet=reads.woo_wallet,
        fees=reads.woo_fees,
        is_ours=reads.woo_id,
        ghosts=reads.woo_ghosts,
    ),
    # 500 executions a page, by fill id: one page account-wide to find the traded symbols,
    # then BTC's own (every market's would be one request a market, and WOO X lists hundreds)
    imports=ImportCase(fail_after=4, min_pages=3, discovery={"/v3/trade/transactionHistory": 2}),
)
VENUES = [BINANCE, HYPERLIQUID, BYBIT, OKX, WOO]


def pending_long(**extra: Any) -> dict[str, Any]:
    """A limit long below the market (it fills when the test moves the price)."""
    return {
        "symbol": "BTC_USDT",
        "side": "buy",
        "entry_price": "49500",
        "quantity": "0.02",
        "stop_loss_price": "48500",
        "take_profit": [{"price": "52000"}],
        "leverage": 2,
        **extra,
    }


async def fill_entry(sim: SimClient) -> None:
    await sim.set_price("BTC_USDT", "49400", freeze=True)


async def venue_orders(sim: SimClient, trader: Trader, venue: VenueCase) -> list[dict[str, Any]]:
    state = await sim.state(trader.account)
    return list(state["venues"][venue.engine]["open_orders"])


async def venue_position(sim: SimClient, trader: Trader, venue: VenueCase) -> D:
    state = await sim.state(trader.account)
    sizes = [
        D(p["size"])
        for p in state["venues"][venue.engine]["positions"]
        if p["symbol"] == "BTC_USDT"
    ]
    return sum(sizes, D(0))


async def assert_protected_or_flat(
    sim: SimClient, trader: Trader, venue: VenueCase, group_id: str
) -> dict[str, Any]:
    """The promise, checked on the exchange itself and against what the group says."""
    body = await trader.group(group_id)
    size = await venue_position(sim, trader, venue)
    orders = await venue_orders(sim, trader, venue)
    stops = [o for o in orders if o["reduce_only"] and o["trigger_kind"] == "sl"]
    if size == 0:
        assert stops == [], f"a flat position keeps a stop: {stops}"
        assert body["protection"]["state"] == "flat", body["protection"]
        return body
    assert len(stops) == 1, f"position {size} needs exactly one stop, has {stops}"
    assert D(stops[0]["qty"]) >= abs(size)
    assert body["protection"]["state"] == "protected", body["protection"]
    assert D(body["position_quantity"]) == abs(size)
    return body


async def wait_protected_or_flat(
    sim: SimClient, trader: Trader, venue: VenueCase, group_id: str, timeout: float = 30
) -> dict[str, Any]:
    """Wait until the invariant holds (the group acts in its own time), then return."""
    failure: AssertionError | None = None
    with trio.move_on_after(timeout):
        while True:
            try:
                return await assert_protected_or_flat(sim, trader, venue, group_id)
            except AssertionError as error:
                failure = error
            await trio.sleep(0.2)
    raise AssertionError(f"never protected or flat: {failure}")
