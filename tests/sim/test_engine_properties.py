"""Properties of the engine and position arithmetic, checked with hypothesis."""

from __future__ import annotations

import contextlib
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from testudo.sim.clock import ManualClock
from testudo.sim.engine import Engine, EngineSettings
from testudo.sim.instruments import BINANCE, DEFAULT_PRICES, binance_instruments
from testudo.sim.model import (
    OrderKind,
    OrderRequest,
    Rejected,
    Side,
    TimeInForce,
    TriggerKind,
    trigger_for,
)
from testudo.sim.money import ZERO
from testudo.sim.positions import apply_fill
from testudo.sim.prices import PriceFeed

SYMBOLS = ["BTC_USDT", "ETH_USDT", "SOL_USDT"]
QTY = {"BTC_USDT": D("0.001"), "ETH_USDT": D("0.01"), "SOL_USDT": D("1")}
STEP = {"BTC_USDT": D("0.10"), "ETH_USDT": D("0.01"), "SOL_USDT": D("0.01")}

orders = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(SYMBOLS),
        "side": st.sampled_from([Side.BUY, Side.SELL]),
        "lots": st.integers(min_value=1, max_value=400),
        "kind": st.sampled_from(["market", "limit", "ioc", "stop", "take_profit", "reduce"]),
        "offset": st.integers(min_value=-300, max_value=300),
    }
)
moves = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(SYMBOLS),
        "permille": st.integers(min_value=-80, max_value=80),
    }
)
actions = st.lists(st.one_of(orders, moves), min_size=1, max_size=40)


def _request(engine: Engine, spec: dict[str, object]) -> OrderRequest:
    symbol = str(spec["symbol"])
    side = spec["side"]
    assert isinstance(side, Side)
    qty = QTY[symbol] * int(str(spec["lots"]))
    mark = engine.mark(symbol)
    price = max(STEP[symbol], mark + STEP[symbol] * int(str(spec["offset"])) * 10)
    kind = spec["kind"]
    if kind == "market":
        return OrderRequest(symbol, side, OrderKind.MARKET, qty)
    if kind == "reduce":
        return OrderRequest(symbol, side, OrderKind.MARKET, qty, reduce_only=True)
    if kind in ("limit", "ioc"):
        tif = TimeInForce.IOC if kind == "ioc" else TimeInForce.GTC
        return OrderRequest(symbol, side, OrderKind.LIMIT, qty, price, tif=tif)
    trigger_kind = TriggerKind.STOP if kind == "stop" else TriggerKind.TAKE_PROFIT
    return OrderRequest(
        symbol,
        side,
        OrderKind.MARKET,
        qty,
        reduce_only=bool(int(str(spec["lots"])) % 2),
        trigger=trigger_for(trigger_kind, side, price),
    )


def _run(script: list[dict[str, object]]) -> Engine:
    feed = PriceFeed(DEFAULT_PRICES, seed=1)
    engine = Engine(
        BINANCE,
        binance_instruments(),
        feed,
        ManualClock(),
        EngineSettings(reject_immediate_trigger=True),
    )
    engine.open_account(1, D("100000"))
    for step in script:
        if "permille" in step:
            symbol = str(step["symbol"])
            feed.set(symbol, feed.price(symbol) * (1 + D(int(str(step["permille"]))) / 1000))
            engine.on_price(symbol)
        else:
            with contextlib.suppress(Rejected):
                engine.place(1, _request(engine, step))
    return engine


@settings(max_examples=150, deadline=None)
@given(actions)
def test_balance_is_initial_plus_realised_pnl_minus_fees(script: list[dict[str, object]]) -> None:
    engine = _run(script)
    fills = engine.account(1).fills.all()
    realised = sum((f.realized_pnl for f in fills), ZERO)
    fees = sum((f.fee + f.extra_fee for f in fills), ZERO)
    assert engine.account(1).wallet_balance == D("100000") + realised - fees


@settings(max_examples=150, deadline=None)
@given(actions)
def test_position_is_the_sum_of_signed_fills(script: list[dict[str, object]]) -> None:
    engine = _run(script)
    account = engine.account(1)
    for symbol in SYMBOLS:
        signed = sum((f.qty * f.side.sign for f in account.fills.all() if f.symbol == symbol), ZERO)
        assert engine.position(1, symbol).size == signed


@settings(max_examples=150, deadline=None)
@given(actions)
def test_orders_never_overfill_and_fill_ids_are_unique(script: list[dict[str, object]]) -> None:
    engine = _run(script)
    account = engine.account(1)
    ids = [f.id for f in account.fills.all()]
    assert len(ids) == len(set(ids))
    for order in account.orders.values():
        assert ZERO <= order.filled_qty <= order.qty
        executed = sum((f.qty for f in account.fills.all() if f.order_id == order.id), ZERO)
        assert executed == order.filled_qty
    for order in account.open_orders.values():
        assert order.is_open


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-50, 50).filter(bool), st.integers(1, 2000)), min_size=1, max_size=30
    )
)
def test_round_trip_pnl_equals_cash_flow(trades: list[tuple[int, int]]) -> None:
    """Closing everything realises exactly the cash that went in and out (up to rounding)."""
    size, entry, realised, cash = ZERO, ZERO, ZERO, ZERO
    for lots, price_units in trades:
        qty, price = D(lots) / 10, D(price_units)
        effect = apply_fill(size, entry, qty, price)
        size, entry = effect.size, effect.entry_price
        realised += effect.realized_pnl
        cash -= qty * price
    effect = apply_fill(size, entry, -size, D(1000))
    realised += effect.realized_pnl
    cash += size * D(1000)
    assert abs(realised - cash) <= D("0.00000001") * (len(trades) + 1)
