"""The matching engine, driven directly (no HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D

import pytest

from testudo.sim.clock import ManualClock
from testudo.sim.engine import Engine
from testudo.sim.model import (
    CancelReason,
    OrderKind,
    OrderRequest,
    OrderStatus,
    Reason,
    Rejected,
    Side,
    TimeInForce,
    TriggerKind,
    trigger_for,
)
from testudo.sim.prices import PriceFeed

BTC = "BTC_USDT"


def market(side: Side, qty: str, **kw: object) -> OrderRequest:
    return OrderRequest(BTC, side, OrderKind.MARKET, D(qty), **kw)  # type: ignore[arg-type]


def limit(side: Side, qty: str, price: str, **kw: object) -> OrderRequest:
    return OrderRequest(BTC, side, OrderKind.LIMIT, D(qty), D(price), **kw)  # type: ignore[arg-type]


def stop(
    side: Side, qty: str, trigger: str, kind: TriggerKind = TriggerKind.STOP, **kw: object
) -> OrderRequest:
    return OrderRequest(
        BTC,
        side,
        OrderKind.MARKET,
        D(qty),
        reduce_only=True,
        trigger=trigger_for(kind, side, D(trigger)),
        **kw,  # type: ignore[arg-type]
    )


def test_market_buy_takes_best_ask_and_pays_taker_fee(binance_engine: Engine) -> None:
    result = binance_engine.place(1, market(Side.BUY, "0.3"))
    assert result.order.status is OrderStatus.FILLED
    assert [(f.price, f.qty, f.is_maker) for f in result.fills] == [
        (D("50000.10"), D("0.3"), False)
    ]
    assert result.fills[0].fee == D("7.50001500")
    position = binance_engine.position(1, BTC)
    assert (position.size, position.entry_price) == (D("0.3"), D("50000.10"))
    assert binance_engine.account(1).wallet_balance == D("10000") - D("7.500015")


def test_large_market_order_sweeps_several_levels(binance_engine: Engine) -> None:
    result = binance_engine.place(1, market(Side.SELL, "1.2"))
    assert [(f.price, f.qty) for f in result.fills] == [
        (D("49999.90"), D("0.5")),
        (D("49999.80"), D("0.7")),
    ]
    assert result.order.average_price == (D("49999.90") * D("0.5") + D("49999.80") * D("0.7")) / D(
        "1.2"
    )
    assert len({f.id for f in result.fills}) == 2


def test_marketable_limit_fills_partially_and_rests(binance_engine: Engine) -> None:
    result = binance_engine.place(1, limit(Side.BUY, "1.0", "50000.20"))
    assert [(f.price, f.qty) for f in result.fills] == [
        (D("50000.10"), D("0.5")),
        (D("50000.20"), D("0.5")),
    ]
    assert result.order.status is OrderStatus.FILLED
    result = binance_engine.place(1, limit(Side.BUY, "2.0", "50000.20"))
    assert result.order.status is OrderStatus.PARTIALLY_FILLED
    assert result.order.filled_qty == D("1.5")
    assert binance_engine.open_orders(1) == [result.order]


def test_resting_limit_fills_at_its_price_as_maker(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    order = binance_engine.place(1, limit(Side.BUY, "0.1", "49500")).order
    assert order.status is OrderStatus.NEW
    reprice(BTC, "49700")
    assert order.status is OrderStatus.NEW
    reprice(BTC, "49400")
    assert binance_engine.order(1, order_id=order.id).status is OrderStatus.FILLED
    fill = binance_engine.account(1).fills.all()[-1]
    assert (fill.price, fill.is_maker, fill.fee) == (D("49500"), True, D("0.99000000"))


def test_ioc_and_fok(binance_engine: Engine) -> None:
    ioc = binance_engine.place(1, limit(Side.BUY, "2.0", "50000.20", tif=TimeInForce.IOC)).order
    assert (ioc.status, ioc.filled_qty, ioc.cancel_reason) == (
        OrderStatus.EXPIRED,
        D("1.5"),
        CancelReason.IOC,
    )
    fok = binance_engine.place(1, limit(Side.SELL, "3", "49999.90", tif=TimeInForce.FOK)).order
    assert (fok.status, fok.filled_qty) == (OrderStatus.EXPIRED, D("0"))


def test_post_only_that_would_take_is_rejected(binance_engine: Engine) -> None:
    with pytest.raises(Rejected) as caught:
        binance_engine.place(1, limit(Side.BUY, "0.1", "50000.10", tif=TimeInForce.POST_ONLY))
    assert caught.value.reason is Reason.POST_ONLY_WOULD_MATCH
    rested = binance_engine.place(1, limit(Side.BUY, "0.1", "50000", tif=TimeInForce.POST_ONLY))
    assert rested.order.status is OrderStatus.NEW


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (market(Side.BUY, "0"), Reason.INVALID_QTY),
        (market(Side.BUY, "0.0015"), Reason.QTY_STEP),
        (market(Side.BUY, "2000"), Reason.QTY_TOO_LARGE),
        (market(Side.BUY, "0.001"), Reason.MIN_NOTIONAL),
        (limit(Side.BUY, "0.01", "50000.05"), Reason.INVALID_PRICE),
        (market(Side.BUY, "5"), Reason.INSUFFICIENT_MARGIN),
        (market(Side.SELL, "0.01", reduce_only=True), Reason.REDUCE_ONLY_REJECTED),
        (OrderRequest("DOGE_USDT", Side.BUY, OrderKind.MARKET, D("1")), Reason.UNKNOWN_SYMBOL),
        (OrderRequest(BTC, Side.BUY, OrderKind.LIMIT, D("0.01")), Reason.PRICE_REQUIRED),
    ],
)
def test_rejections(binance_engine: Engine, request_: OrderRequest, reason: Reason) -> None:
    with pytest.raises(Rejected) as caught:
        binance_engine.place(1, request_)
    assert caught.value.reason is reason
    assert binance_engine.account(1).wallet_balance == D("10000")


def test_leverage_changes_margin_requirement(binance_engine: Engine) -> None:
    binance_engine.set_leverage(1, BTC, 2)
    with pytest.raises(Rejected):
        binance_engine.place(1, market(Side.BUY, "0.5"))
    binance_engine.set_leverage(1, BTC, 125)
    binance_engine.place(1, market(Side.BUY, "0.5"))
    with pytest.raises(Rejected) as caught:
        binance_engine.set_leverage(1, BTC, 126)
    assert caught.value.reason is Reason.INVALID_LEVERAGE


def test_client_ids_are_unique_among_open_orders_only(binance_engine: Engine) -> None:
    binance_engine.place(1, limit(Side.BUY, "0.01", "49000", client_id="abc"))
    with pytest.raises(Rejected) as caught:
        binance_engine.place(1, limit(Side.BUY, "0.01", "48000", client_id="abc"))
    assert caught.value.reason is Reason.DUPLICATE_CLIENT_ID
    canceled = binance_engine.cancel(1, client_id="abc")
    assert canceled.status is OrderStatus.CANCELED
    again = binance_engine.place(1, limit(Side.BUY, "0.01", "48000", client_id="abc")).order
    assert binance_engine.order(1, client_id="abc") is again


def test_cancel_unknown_or_finished_order(binance_engine: Engine) -> None:
    filled = binance_engine.place(1, market(Side.BUY, "0.01")).order
    for order_id in (filled.id, 424242):
        with pytest.raises(Rejected) as caught:
            binance_engine.cancel(1, order_id=order_id)
        assert caught.value.reason is Reason.UNKNOWN_ORDER


def test_stop_that_would_trigger_at_once_is_rejected_on_binance(binance_engine: Engine) -> None:
    binance_engine.place(1, market(Side.BUY, "0.01"))
    with pytest.raises(Rejected) as caught:
        binance_engine.place(1, stop(Side.SELL, "0.01", "50100"))
    assert caught.value.reason is Reason.WOULD_TRIGGER


def test_stop_fires_on_hyperliquid_when_already_crossed(hl_engine: Engine) -> None:
    hl_engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.MARKET, D("0.01")))
    result = hl_engine.place(1, stop(Side.SELL, "0.01", "50100"))
    assert result.order.status is OrderStatus.FILLED
    assert hl_engine.position(1, BTC).size == 0


def test_triggers_fire_nearest_first_and_reduce_only_never_flips(
    binance_engine: Engine, reprice: Callable[[str, str], None], clock: ManualClock
) -> None:
    binance_engine.place(1, market(Side.BUY, "0.3"))
    far = binance_engine.place(1, stop(Side.SELL, "0.3", "53000", TriggerKind.TAKE_PROFIT)).order
    near = binance_engine.place(1, stop(Side.SELL, "0.2", "51000", TriggerKind.TAKE_PROFIT)).order
    clock.advance(1000)
    reprice(BTC, "54000")
    assert near.triggered_ms is not None and far.triggered_ms is not None
    assert (near.status, near.filled_qty) == (OrderStatus.FILLED, D("0.2"))
    assert (far.status, far.filled_qty) == (OrderStatus.FILLED, D("0.1"))
    assert binance_engine.position(1, BTC).size == 0


def test_reduce_only_trigger_without_position_expires(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    binance_engine.place(1, market(Side.BUY, "0.01"))
    tp = binance_engine.place(1, stop(Side.SELL, "0.01", "52000", TriggerKind.TAKE_PROFIT)).order
    binance_engine.place(1, market(Side.SELL, "0.01", reduce_only=True))
    reprice(BTC, "52500")
    assert (tp.status, tp.cancel_reason, tp.filled_qty) == (
        OrderStatus.EXPIRED,
        CancelReason.REDUCE_ONLY,
        D("0"),
    )


def test_close_position_trigger_closes_whatever_is_open(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    binance_engine.place(1, market(Side.SELL, "0.05"))
    guard = binance_engine.place(
        1,
        OrderRequest(
            BTC,
            Side.BUY,
            OrderKind.MARKET,
            D("0"),
            close_position=True,
            trigger=trigger_for(TriggerKind.STOP, Side.BUY, D("51000")),
        ),
    ).order
    binance_engine.place(1, market(Side.SELL, "0.02"))
    reprice(BTC, "51500")
    assert (guard.status, guard.filled_qty) == (OrderStatus.FILLED, D("0.07"))
    assert binance_engine.position(1, BTC).size == 0


def test_close_position_orders_leave_with_the_position(hl_engine: Engine, feed: PriceFeed) -> None:
    hl_engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.MARKET, D("0.02")))
    guards = [
        hl_engine.place(
            1,
            OrderRequest(
                BTC,
                Side.SELL,
                OrderKind.MARKET,
                D("0"),
                close_position=True,
                trigger=trigger_for(kind, Side.SELL, D(price)),
            ),
        ).order
        for kind, price in ((TriggerKind.STOP, "48000"), (TriggerKind.TAKE_PROFIT, "52000"))
    ]
    feed.set(BTC, D("52500"))
    hl_engine.on_price(BTC)
    assert [(g.status, g.cancel_reason) for g in guards] == [
        (OrderStatus.CANCELED, CancelReason.POSITION_CLOSED),
        (OrderStatus.FILLED, None),
    ]
    assert hl_engine.open_orders(1) == []


def test_flip_realises_pnl_and_reopens_at_fill_price(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    binance_engine.place(1, market(Side.BUY, "0.1"))
    reprice(BTC, "51000")
    fill = binance_engine.place(1, market(Side.SELL, "0.3")).fills[0]
    assert fill.realized_pnl == (D("50999.90") - D("50000.10")) * D("0.1")
    position = binance_engine.position(1, BTC)
    assert (position.size, position.entry_price) == (D("-0.2"), D("50999.90"))
    assert fill.start_position == D("0.1")


def test_margin_summary_marks_to_market(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    binance_engine.set_leverage(1, BTC, 10)
    binance_engine.place(1, market(Side.BUY, "0.1"))
    binance_engine.place(1, limit(Side.BUY, "0.1", "45000"))
    reprice(BTC, "52000")
    summary = binance_engine.margin(1)
    assert summary.unrealized_pnl == (D("52000") - D("50000.10")) * D("0.1")
    assert summary.position_margin == D("520")
    assert summary.order_margin == D("450")
    assert summary.available == summary.margin_balance - D("970")


def test_parent_child_orders_wait_for_the_parent(hl_engine: Engine, feed: PriceFeed) -> None:
    parent = hl_engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.LIMIT, D("0.01"), D("49000")))
    child = hl_engine.place(
        1,
        OrderRequest(
            BTC,
            Side.SELL,
            OrderKind.MARKET,
            D("0.01"),
            reduce_only=True,
            parent_id=parent.order.id,
            trigger=trigger_for(TriggerKind.STOP, Side.SELL, D("48000")),
        ),
    ).order
    feed.set(BTC, D("47000"))
    hl_engine.on_price(BTC)
    assert parent.order.status is OrderStatus.FILLED
    assert child.status is OrderStatus.FILLED
    orphan_parent = hl_engine.place(
        1, OrderRequest(BTC, Side.BUY, OrderKind.LIMIT, D("0.01"), D("40000"))
    ).order
    orphan = hl_engine.place(
        1,
        OrderRequest(
            BTC,
            Side.SELL,
            OrderKind.MARKET,
            D("0.01"),
            reduce_only=True,
            parent_id=orphan_parent.id,
            trigger=trigger_for(TriggerKind.STOP, Side.SELL, D("39000")),
        ),
    ).order
    hl_engine.cancel(1, order_id=orphan_parent.id)
    assert (orphan.status, orphan.cancel_reason) == (OrderStatus.CANCELED, CancelReason.PARENT)


def test_ioc_without_liquidity_is_an_error_on_hyperliquid(hl_engine: Engine) -> None:
    with pytest.raises(Rejected) as caught:
        hl_engine.place(
            1,
            OrderRequest(
                BTC, Side.BUY, OrderKind.LIMIT, D("0.01"), D("49000"), tif=TimeInForce.IOC
            ),
        )
    assert caught.value.reason is Reason.NO_LIQUIDITY


def test_hyperliquid_prices_follow_significant_figures(hl_engine: Engine, feed: PriceFeed) -> None:
    feed.set("ETH_USDT", D("3000.123"))
    assert hl_engine.mark("ETH_USDT") == D("3000.1")
    with pytest.raises(Rejected):
        hl_engine.place(
            1, OrderRequest("ETH_USDT", Side.BUY, OrderKind.LIMIT, D("0.1"), D("2900.05"))
        )
    order = hl_engine.place(
        1, OrderRequest("ETH_USDT", Side.BUY, OrderKind.LIMIT, D("0.1"), D("2900.5"))
    ).order
    assert order.status is OrderStatus.NEW


def test_public_tape_records_fills_and_price_moves(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    binance_engine.place(1, market(Side.BUY, "0.01"))
    reprice(BTC, "50100")
    tape = binance_engine.tape(BTC)
    assert [t.price for t in tape] == [D("50000.10"), D("50100")]
    assert tape[0].buyer_is_maker is False
