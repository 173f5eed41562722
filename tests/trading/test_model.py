"""The pure planning of a trade group: what must be on the exchange after each observation."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from testudo.trading.model import (
    Group,
    Order,
    Target,
    break_even_level,
    entry_order,
    pending_order,
    plan,
    wants_price,
)


def group(
    side: str = "buy",
    quantity: str = "0.2",
    stop: str | None = "49000",
    targets: tuple[tuple[str, str], ...] = (("51500", "0.1"), ("53000", "0.1")),
    break_even: bool = False,
) -> Group:
    g = Group(
        id=str(uuid.uuid4()),
        user_id="u",
        account_id="a",
        exchange="binance",
        symbol="BTC_USDT",
        side=side,
        entry_type="limit",
        entry_price=D("50000"),
        quantity=D(quantity),
        stop_loss_price=None if stop is None else D(stop),
        leverage=D(5),
        tick_size=D("0.1"),
        lot_size=D("0.001"),
        risk_amount=D(200),
        status="pending",
        targets=[Target(i, D(p), D(q), "limit") for i, (p, q) in enumerate(targets)],
        orders=[],
        break_even_enabled=break_even,
    )
    return g


def submit(
    g: Group,
    role: str,
    quantity: D,
    *,
    idx: int | None = None,
    price: D | None = None,
    trigger: D | None = None,
    status: str = "open",
    filled: D = D(0),
    average: D | None = None,
) -> Order:
    order = Order(
        str(uuid.uuid4()),
        role,
        idx,
        g.next_seq(role, idx),
        f"cid-{len(g.orders)}",
        f"x{len(g.orders)}",
        g.side if role == "entry" else g.exit_side,
        "limit",
        price,
        trigger,
        quantity,
        role != "entry",
        status,
        filled,
        average,
    )
    g.orders.append(order)
    return order


def apply(g: Group) -> tuple[list, list, str]:
    step = plan(g)
    for new in step.place:
        order = pending_order(new, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        order.id, order.exchange_order_id = str(uuid.uuid4()), f"x{len(g.orders)}"
        order.status = "open"
        g.orders.append(order)
    for order in step.cancel:
        order.status = "cancelled"
    g.status = step.status
    return list(step.place), list(step.cancel), step.status


def live(g: Group, role: str) -> list[Order]:
    return [o for o in g.orders if o.role == role and o.live]


def test_pending_until_the_entry_fills_then_stop_and_targets() -> None:
    g = group()
    new = entry_order(g)
    assert new.spec.side == "buy" and new.spec.price == D("50000") and not new.spec.reduce_only
    entry = submit(g, "entry", D("0.2"), price=D("50000"))
    assert apply(g) == ([], [], "pending")
    entry.filled, entry.status, entry.average_price = D("0.2"), "filled", D("50000")
    _placed, cancelled, status = apply(g)
    assert status == "active" and cancelled == []
    stop = live(g, "stop_loss")
    assert len(stop) == 1 and stop[0].trigger_price == D("49000") and stop[0].quantity == D("0.2")
    assert stop[0].side == "sell" and stop[0].reduce_only
    tps = live(g, "take_profit")
    assert [(o.price, o.quantity) for o in tps] == [(D("51500"), D("0.1")), (D("53000"), D("0.1"))]
    assert apply(g)[:2] == ([], [])  # stable: nothing more to do


def test_partial_entry_fill_protects_the_filled_part_and_grows_the_stop() -> None:
    g = group()
    entry = submit(g, "entry", D("0.2"), price=D("50000"))
    entry.filled, entry.average_price = D("0.05"), D("50000")
    apply(g)
    assert [o.quantity for o in live(g, "stop_loss")] == [D("0.05")]
    assert live(g, "take_profit") == []  # targets wait for the entry to finish
    entry.filled = D("0.2")
    entry.status = "filled"
    _placed, cancelled, _ = apply(g)
    assert [o.quantity for o in live(g, "stop_loss")] == [D("0.2")]
    assert [o.role for o in cancelled] == ["stop_loss"]  # the smaller stop, after the new one
    assert len(live(g, "take_profit")) == 2


def test_entry_ended_partially_scales_the_targets() -> None:
    g = group()
    entry = submit(g, "entry", D("0.2"), price=D("50000"))
    entry.filled, entry.status, entry.average_price = D("0.1"), "cancelled", D("50000")
    apply(g)
    assert [o.quantity for o in live(g, "take_profit")] == [D("0.05"), D("0.05")]
    assert [o.quantity for o in live(g, "stop_loss")] == [D("0.1")]


def test_ladder_first_target_shrinks_the_stop_and_keeps_the_others() -> None:
    g = group()
    entry = submit(
        g, "entry", D("0.2"), price=D("50000"), status="filled", filled=D("0.2"), average=D("50000")
    )
    del entry
    apply(g)
    tp1 = live(g, "take_profit")[0]
    tp1.status, tp1.filled, tp1.average_price = "filled", D("0.1"), D("51500")
    _, _, status = apply(g)
    assert status == "active"
    assert [o.quantity for o in live(g, "stop_loss")] == [D("0.1")]
    assert [(o.price, o.quantity) for o in live(g, "take_profit")] == [(D("53000"), D("0.1"))]
    stop = live(g, "stop_loss")[0]
    stop.status, stop.filled, stop.average_price = "filled", D("0.1"), D("49000")
    _placed, cancelled, status = apply(g)
    assert status == "stopped_out" and [o.role for o in cancelled] == ["take_profit"]
    assert g.realized_pnl == D("0.1") * 1500 - D("0.1") * 1000


def test_all_targets_filled_is_took_profit() -> None:
    g = group(targets=(("51500", "0.2"),))
    submit(g, "entry", D("0.2"), status="filled", filled=D("0.2"), average=D("50000"))
    apply(g)
    tp = live(g, "take_profit")[0]
    tp.status, tp.filled, tp.average_price = "filled", D("0.2"), D("51500")
    _, cancelled, status = apply(g)
    assert status == "took_profit" and [o.role for o in cancelled] == ["stop_loss"]


def test_break_even_moves_the_stop_after_the_first_target_side_aware() -> None:
    for side, entry_price, target, expected in (
        ("buy", "50000", "51500", "50050"),
        ("sell", "50000", "48500", "49950"),
    ):
        stop = "49000" if side == "buy" else "51000"
        g = group(side=side, stop=stop, targets=((target, "0.1"), (target, "0.1")), break_even=True)
        submit(g, "entry", D("0.2"), status="filled", filled=D("0.2"), average=D(entry_price))
        apply(g)
        tp1 = live(g, "take_profit")[0]
        tp1.status, tp1.filled, tp1.average_price = "filled", D("0.1"), D(target)
        step = plan(g)
        assert ("break_even_triggered", {"stop_price": expected}) in step.events
        apply(g)
        assert g.break_even_triggered
        assert [o.trigger_price for o in live(g, "stop_loss")] == [D(expected)]


def test_break_even_at_a_price_trigger_side_aware() -> None:
    for side, trigger, below, at, expected in (
        ("buy", "51000", "50990", "51000", "50050"),
        ("sell", "49000", "49010", "49000", "49950"),
    ):
        stop = "49000" if side == "buy" else "51000"
        far = "60000" if side == "buy" else "40000"
        g = group(side=side, stop=stop, targets=((far, "0.2"),), break_even=True)
        g.break_even_trigger = trigger
        submit(g, "entry", D("0.2"), status="filled", filled=D("0.2"), average=D("50000"))
        assert wants_price(g)
        apply(g)
        g.mark_price = D(below)
        assert not plan(g).events and not g.break_even_triggered  # not there yet
        g.mark_price = D(at)
        step = plan(g)
        assert ("break_even_triggered", {"stop_price": expected}) in step.events
        apply(g)
        assert [o.trigger_price for o in live(g, "stop_loss")] == [D(expected)]
        assert not wants_price(g)  # done: the price is no longer needed


def test_break_even_level_parses_prices_only() -> None:
    assert break_even_level("first_take_profit") is None
    assert break_even_level("52000.5") == D("52000.5")
    for bad in ("", "abc", "-1", "0", "NaN", "Infinity"):
        assert break_even_level(bad) is None


def test_cancel_while_pending_and_while_active() -> None:
    g = group()
    entry = submit(g, "entry", D("0.2"), price=D("50000"))
    g.closing = True
    _, cancelled, _ = apply(g)
    assert cancelled == [entry]
    assert apply(g)[2] == "cancelled"

    g = group()
    submit(g, "entry", D("0.2"), status="filled", filled=D("0.2"), average=D("50000"))
    apply(g)
    g.closing = True
    placed, cancelled, _status = apply(g)
    assert [n.role for n in placed] == ["close"] and placed[0].spec.reduce_only
    # A close never removes the stop before the position is flat.
    assert sorted(o.role for o in cancelled) == ["take_profit", "take_profit"]
    assert len(live(g, "stop_loss")) == 1
    close = live(g, "close")[0]
    close.status, close.filled, close.average_price = "filled", D("0.2"), D("50100")
    _, cancelled, status = apply(g)
    assert [o.role for o in cancelled] == ["stop_loss"] and status == "closed"


def test_unknown_order_fate_waits_for_reconciliation() -> None:
    g = group()
    submit(g, "entry", D("0.2"), status="pending_submit")
    assert apply(g)[2] == "awaiting_reconciliation"
    g.orders[0].status = "not_found"
    assert apply(g)[2] == "failed"


def test_client_order_ids_are_unique_and_tagged() -> None:
    from testudo.exchanges.venues import venue_for

    binance, hyperliquid = venue_for("binance"), venue_for("hyperliquid")
    gid = str(uuid.uuid4())
    ids = {
        binance.client_order_id(gid, role, seq, idx)
        for role in ("entry", "stop_loss", "take_profit", "close")
        for seq in (1, 2, 3)
        for idx in (None, 0, 1)
    }
    assert len(ids) == 4 * 3 * 3
    assert all(len(i) <= 36 and binance.is_testudo_order(i) for i in ids)
    hl = hyperliquid.client_order_id(gid, "entry", 1)
    assert len(hl) == 34 and hyperliquid.is_testudo_order(hl) and int(hl, 16) > 0
    assert not binance.is_testudo_order("my-own-order")


@settings(max_examples=200, deadline=None)
@given(
    fills=st.lists(st.sampled_from(["0.02", "0.05", "0.03"]), min_size=1, max_size=6),
    tp_first=st.booleans(),
)
def test_the_position_is_always_covered_by_exactly_one_stop(
    fills: list[str], tp_first: bool
) -> None:
    g = group(quantity="0.2")
    entry = submit(g, "entry", D("0.2"), price=D("50000"))
    for amount in fills:
        entry.filled = min(entry.filled + D(amount), D("0.2"))
        entry.average_price = D("50000")
        if entry.filled == D("0.2"):
            entry.status = "filled"
        apply(g)
        stops = live(g, "stop_loss")
        assert len(stops) == 1 and stops[0].quantity == g.position
        tps = live(g, "take_profit")
        assert sum((o.quantity for o in tps), D(0)) <= g.position
    if tp_first and entry.status == "filled":
        tp = live(g, "take_profit")[0]
        tp.status, tp.filled, tp.average_price = "filled", tp.quantity, tp.price
        apply(g)
        assert [o.quantity for o in live(g, "stop_loss")] == [g.position]
