"""Exchange simulator throughput: ccxt round trips and orders vs a bare HTTP GET, and in-process
matching, all measured in the same run.

The simulator serves from the test's trio thread; the clients run in one worker thread of the
same process (the ``testudo serve --simulated-exchanges`` arrangement), so both share the GIL.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import trio
from eth_keys.datatypes import PrivateKey

from testudo.sim.accounts import Credentials
from testudo.sim.client import SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.dialects.binance import BinanceDialect
from testudo.sim.dialects.binance.auth import sign
from testudo.sim.dialects.bybit import BybitDialect
from testudo.sim.dialects.bybit.auth import sign as bybit_sign
from testudo.sim.dialects.hyperliquid import HyperliquidDialect
from testudo.sim.dialects.hyperliquid.signing import action_hash, l1_digest
from testudo.sim.dialects.okx import OkxDialect, auth as okx_auth
from testudo.sim.dialects.wire import WireRequest
from testudo.sim.dialects.woo import WooDialect
from testudo.sim.dialects.woo.auth import sign as woo_sign
from testudo.sim.engine import Engine, EngineSettings
from testudo.sim.history import generate_fills
from testudo.sim.instruments import BINANCE, DEFAULT_PRICES, binance_instruments
from testudo.sim.model import OrderKind, OrderRequest, Side, TriggerKind, trigger_for
from testudo.sim.prices import PriceFeed
from testudo.sim.pytest_plugin import sim
from testudo.sim.simulator import SimConfig, Simulator

from .harness import report

__all__ = ["sim", "sim_config"]

ROUND_TRIPS = int(os.environ.get("BENCH_SIM_ROUND_TRIPS", "400"))
MATCHES = int(os.environ.get("BENCH_SIM_MATCHES", "20000"))
HISTORY = int(os.environ.get("BENCH_SIM_HISTORY", "100000"))
WARM_UP = 20


@pytest.fixture
def sim_config() -> SimConfig:
    """The benchmark measures throughput: the venues' per-IP weight limits are off."""
    return SimConfig(
        port=0, walk_interval_s=None, binance_weight_limit=None, hyperliquid_weight_limit=None
    )


def _timed(count: int, op: Callable[[int], Any]) -> float:
    """Seconds per call of ``op`` over ``count`` calls (after 20 warm-up calls).

    ``op`` gets a running index: 0-19 for the warm-up, then 20 onwards.
    """
    for i in range(WARM_UP):
        op(i)
    started = time.perf_counter()
    for i in range(WARM_UP, WARM_UP + count):
        op(i)
    return (time.perf_counter() - started) / count


def _row(path: str, seconds: float, unit: str = "op") -> dict[str, Any]:
    return {
        "path": path,
        f"us_per_{unit}": round(seconds * 1e6, 1),
        f"{unit}s_per_s": round(1 / seconds),
    }


def _engine() -> Engine:
    feed = PriceFeed(DEFAULT_PRICES, seed=1)
    engine = Engine(
        BINANCE,
        binance_instruments(),
        feed,
        ManualClock(),
        EngineSettings(reject_immediate_trigger=True),
    )
    engine.open_account(1, Decimal("1000000000"))
    return engine


def _okx_order(sim: Simulator, creds: Credentials) -> Callable[[int], None]:
    """One signed OKX ``batch-orders`` market order straight into the dialect."""
    okx = OkxDialect(sim)
    path = "/api/v5/trade/batch-orders"

    def order(i: int) -> None:
        side = "buy" if i % 2 else "sell"
        item = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": side}
        body = json.dumps([{**item, "ordType": "market", "sz": "1"}])
        moment = datetime.fromtimestamp(sim.clock.now_ms() / 1000, UTC)
        stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        headers = {
            "OK-ACCESS-KEY": creds.api_key,
            "OK-ACCESS-PASSPHRASE": creds.passphrase,
            "OK-ACCESS-TIMESTAMP": stamp,
            "OK-ACCESS-SIGN": okx_auth.sign(creds.secret, stamp, "POST", path, body),
        }
        response = okx.handle(WireRequest("POST", path, body=body.encode(), headers=headers))
        assert b'"sCode":"0"' in response.body.encode(), response.body

    return order


def _dialects_without_http() -> list[dict[str, Any]]:
    """Server-side cost of one signed order per dialect: authentication, matching, JSON."""
    sim = Simulator(SimConfig(walk_interval_s=None))
    creds = sim.create_account(Decimal("1000000000"))
    binance = BinanceDialect(sim)

    def binance_order(i: int) -> None:
        side = "BUY" if i % 2 else "SELL"
        query = urlencode(
            {
                "symbol": "BTCUSDT",
                "side": side,
                "type": "MARKET",
                "quantity": "0.010",
                "newOrderRespType": "RESULT",
                "timestamp": sim.clock.now_ms(),
            }
        )
        body = f"{query}&signature={sign(query, creds.secret)}".encode()
        response = binance.handle(
            WireRequest(
                "POST",
                "/fapi/v1/order",
                body=body,
                headers={"X-MBX-APIKEY": creds.api_key},
            )
        )
        assert response.status == 200, response.body

    hyperliquid = HyperliquidDialect(sim)
    key = PrivateKey(bytes.fromhex(creds.wallet_private_key[2:]))
    start = sim.clock.now_ms()
    signed = []
    for i in range(ROUND_TRIPS + WARM_UP):
        action = {
            "type": "order",
            "orders": [
                {
                    "a": 0,
                    "b": bool(i % 2),
                    "p": "52000" if i % 2 else "48000",
                    "s": "0.01",
                    "r": False,
                    "t": {"limit": {"tif": "Ioc"}},
                }
            ],
            "grouping": "na",
        }
        digest = l1_digest(action_hash(action, None, start + i), mainnet=True)
        signature = key.sign_msg_hash(digest)
        signed.append(
            json.dumps(
                {
                    "action": action,
                    "nonce": start + i,
                    "signature": {
                        "r": hex(signature.r),
                        "s": hex(signature.s),
                        "v": signature.v + 27,
                    },
                }
            ).encode()
        )

    def hyperliquid_order(i: int) -> None:
        response = hyperliquid.handle(WireRequest("POST", "/exchange", body=signed[i]))
        assert b'"filled"' in response.body.encode(), response.body

    okx_order = _okx_order(sim, creds)

    woo = WooDialect(sim)

    def woo_order(i: int) -> None:
        side = "BUY" if i % 2 else "SELL"
        body = json.dumps(
            {"symbol": "PERP_BTC_USDT", "side": side, "type": "MARKET", "quantity": "0.01"}
        )
        timestamp = str(sim.clock.now_ms())
        signature = woo_sign(f"{timestamp}POST/v3/trade/order{body}", creds.secret)
        headers = {
            "x-api-key": creds.api_key,
            "x-api-timestamp": timestamp,
            "x-api-signature": signature,
        }
        response = woo.handle(
            WireRequest("POST", "/v3/trade/order", body=body.encode(), headers=headers)
        )
        assert response.status == 200, response.body

    return [
        _row(
            "binance dialect: HMAC check + market order (no HTTP)",
            _timed(ROUND_TRIPS, binance_order),
        ),
        _row(
            "okx dialect: passphrase + HMAC check + market order (no HTTP)",
            _timed(ROUND_TRIPS, okx_order),
        ),
        _row(
            "woo dialect: v3 HMAC check + market order (no HTTP)",
            _timed(ROUND_TRIPS, woo_order),
        ),
        _row(
            "hyperliquid dialect: EIP-712 recover + order (no HTTP)",
            _timed(ROUND_TRIPS, hyperliquid_order),
        ),
    ]


def _bybit_without_http() -> dict[str, Any]:
    """Server-side cost of one signed Bybit order: X-BAPI HMAC check, matching, envelope."""
    sim = Simulator(SimConfig(walk_interval_s=None))
    creds = sim.create_account(Decimal("1000000000"))
    bybit = BybitDialect(sim)

    def bybit_order(i: int) -> None:
        """One signed market order, alternately buying and selling."""
        body = json.dumps(
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy" if i % 2 else "Sell",
                "orderType": "Market",
                "qty": "0.010",
            }
        )
        timestamp = str(sim.clock.now_ms())
        headers = {
            "X-BAPI-API-KEY": creds.api_key,
            "X-BAPI-TIMESTAMP": timestamp,
            "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": bybit_sign(timestamp + creds.api_key + "5000" + body, creds.secret),
        }
        response = bybit.handle(
            WireRequest("POST", "/v5/order/create", body=body.encode(), headers=headers)
        )
        assert '"retCode":0' in response.body, response.body

    return _row(
        "bybit dialect: X-BAPI HMAC check + market order (no HTTP)",
        _timed(ROUND_TRIPS, bybit_order),
    )


def _in_process_matching() -> list[dict[str, Any]]:
    engine = _engine()
    buy = OrderRequest("BTC_USDT", Side.BUY, OrderKind.MARKET, Decimal("0.01"))
    sell = OrderRequest("BTC_USDT", Side.SELL, OrderKind.MARKET, Decimal("0.01"))
    market = _timed(MATCHES, lambda i: engine.place(1, buy if i % 2 else sell))

    engine = _engine()
    feed = engine.feed
    batch = 50

    def rest_and_cross(i: int) -> None:
        price = Decimal(49_000 + (i % batch))
        engine.place(
            1, OrderRequest("BTC_USDT", Side.BUY, OrderKind.LIMIT, Decimal("0.003"), price)
        )
        engine.place(
            1,
            OrderRequest(
                "BTC_USDT",
                Side.SELL,
                OrderKind.MARKET,
                Decimal("0.003"),
                reduce_only=True,
                trigger=trigger_for(TriggerKind.STOP, Side.SELL, Decimal(40_000)),
            ),
        )
        if i % batch == batch - 1:
            feed.set("BTC_USDT", Decimal(48_000))
            engine.on_price("BTC_USDT")
            feed.set("BTC_USDT", Decimal(50_000))
            engine.on_price("BTC_USDT")
            for order in engine.open_orders(1):
                engine.cancel(1, order_id=order.id)

    resting = _timed(MATCHES // 2, rest_and_cross) / 2
    started = time.perf_counter()
    generate_fills(
        binance_instruments(),
        dict(DEFAULT_PRICES),
        account_id=1,
        count=HISTORY,
        days=90,
        seed=1,
        end_ms=1_700_000_000_000,
        order_ids=range(HISTORY),
        fill_ids=range(HISTORY),
    )
    history = (time.perf_counter() - started) / HISTORY
    return [
        _row("engine: market order (fill + position + fee)", market),
        _row("engine: resting limit / stop placed, crossed or canceled", resting),
        _row(f"history: generate {HISTORY} fills (per fill)", history),
    ]


@pytest.mark.bench
async def test_simulator_throughput(sim: SimClient) -> None:
    account = await sim.create_account("1000000000")
    binance = sim.binance(account, fetchCurrencies=False)
    hyperliquid = sim.hyperliquid(account, builderFee=False)
    okx = sim.okx(account)
    woo = sim.woo(account)
    bybit = sim.bybit(account)
    bare_url = f"{sim.base_url}/binanceusdm/fapi/v1/time"

    def over_http() -> list[dict[str, Any]]:
        session = requests.Session()
        binance.load_markets()
        hyperliquid.load_markets()
        woo.load_markets()
        bybit.load_markets()
        symbol, hl_symbol = "BTC/USDT:USDT", "BTC/USDC:USDC"
        bare = _timed(ROUND_TRIPS, lambda i: session.get(bare_url).raise_for_status())
        unsigned = _timed(ROUND_TRIPS, lambda i: binance.fetch_time())
        signed = _timed(ROUND_TRIPS, lambda i: binance.fetch_balance())
        orders = _timed(
            ROUND_TRIPS,
            lambda i: binance.create_order(symbol, "market", "buy" if i % 2 else "sell", 0.01),
        )
        hl_orders = _timed(
            ROUND_TRIPS,
            lambda i: hyperliquid.create_order(
                hl_symbol, "market", "buy" if i % 2 else "sell", 0.01, 50_000
            ),
        )
        bybit_signed = _timed(ROUND_TRIPS, lambda i: bybit.fetch_balance())
        bybit_orders = _timed(
            ROUND_TRIPS,
            lambda i: bybit.create_order(symbol, "market", "buy" if i % 2 else "sell", 0.01),
        )
        okx.load_markets()
        okx_balance = _timed(ROUND_TRIPS, lambda i: okx.fetch_balance())
        okx_orders = _timed(
            ROUND_TRIPS,
            lambda i: okx.create_order(symbol, "market", "buy" if i % 2 else "sell", 1),
        )
        okx.create_order(symbol, "market", "buy", 1)  # a position for the reduce-only stops

        def okx_stop(i: int) -> None:
            stop = okx.create_order(
                symbol, "market", "sell", 1, None, {"stopLossPrice": 1000, "reduceOnly": True}
            )
            okx.cancel_order(stop["id"], symbol, {"trigger": True})

        okx_stops = _timed(ROUND_TRIPS, okx_stop)
        okx_lists = _timed(
            ROUND_TRIPS,
            lambda i: (
                okx.fetch_open_orders(symbol),
                okx.fetch_open_orders(symbol, None, None, {"ordType": "conditional"}),
            ),
        )
        woo_signed = _timed(ROUND_TRIPS, lambda i: woo.fetch_balance())
        woo_orders = _timed(
            ROUND_TRIPS,
            lambda i: woo.create_order(symbol, "market", "buy" if i % 2 else "sell", 0.01),
        )
        return [
            {**_row("bare HTTP GET (requests, keep-alive)", bare), "ratio_to_bare": 1.0},
            _row("ccxt binanceusdm fetch_time (unsigned)", unsigned),
            _row("ccxt binanceusdm fetch_balance (HMAC-signed)", signed),
            _row("ccxt binanceusdm create_order market", orders),
            _row("ccxt hyperliquid create_order market (EIP-712)", hl_orders),
            _row("ccxt okx fetch_balance (HMAC + passphrase)", okx_balance),
            _row("ccxt okx create_order market (batch-orders, 1 contract)", okx_orders),
            _row("ccxt okx market stop: order-algo (slOrdPx -1) + cancel-algos", okx_stops),
            _row("ccxt okx open orders: orders-pending + orders-algo-pending", okx_lists),
            _row("ccxt woo fetch_balance (v3 HMAC-signed)", woo_signed),
            _row("ccxt woo create_order market", woo_orders),
            _row("ccxt bybit fetch_balance (X-BAPI HMAC-signed)", bybit_signed),
            _row("ccxt bybit create_order market", bybit_orders),
        ]

    rows = await trio.to_thread.run_sync(over_http)
    baseline = rows[0]["us_per_op"]
    for row in rows[1:]:
        row["ratio_to_bare"] = round(row["us_per_op"] / baseline, 2)
    rows.extend(_dialects_without_http())
    rows.append(_bybit_without_http())
    rows.extend(_in_process_matching())
    fills = sim.simulator.engines["binance"].account(account.account_id).fills
    assert len(fills) >= ROUND_TRIPS
    report("sim", rows, ["path", "us_per_op", "ops_per_s", "ratio_to_bare"])
