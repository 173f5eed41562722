"""Round trips from fills: hand-computed examples and hypothesis properties."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from testudo.exchanges.models import Fill
from testudo.journal.formulas import trade_figures, trip_figures
from testudo.journal.money import round_fee
from testudo.journal.roundtrips import LONG, SHORT, fill_order_key, reconstruct

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def fill(
    fid: int | str,
    side: str,
    qty: str | D,
    price: str | D,
    fee: str | D = "0",
    *,
    minutes: float = 0,
    symbol: str = "BTC_USDT",
    order: str | None = None,
) -> Fill:
    return Fill(
        exchange="binance",
        fill_id=str(fid),
        order_id=order or f"o{fid}",
        client_order_id=None,
        symbol=symbol,
        side=side,
        price=D(price),
        quantity=D(qty),
        fee=D(fee),
        fee_asset="USDT",
        realized_pnl=None,
        timestamp=T0 + dt.timedelta(minutes=minutes),
    )


def test_scale_in_and_partial_closes_each_at_their_own_price() -> None:
    fills = [
        fill(1, "buy", "1", "100", "0.1", minutes=0),
        fill(2, "buy", "1", "110", "0.1", minutes=5),
        fill(3, "sell", "0.5", "120", "0.05", minutes=10),
        fill(4, "sell", "1.5", "130", "0.15", minutes=30),
    ]
    result = reconstruct(fills)
    (trip,) = result.trips
    assert trip.side == LONG
    assert trip.quantity == D("2")
    assert trip.entry_price == D("105")
    assert trip.exit_price == D("127.5")  # (0.5 x 120 + 1.5 x 130) / 2
    assert trip.realized_pnl == D("45")  # 0.5 x (120-105) + 1.5 x (130-105)
    assert trip.fees == D("0.4")
    assert trip.opened_at == T0 and trip.closed_at == T0 + dt.timedelta(minutes=30)
    assert trip.closing_fill_id == "4"
    figures = trip_figures(trip)
    assert figures.net_pnl == D("44.6")
    assert figures.realized_pnl_pct == D("21.42857143")  # 45 / 210 x 100
    assert figures.r_multiple is None
    assert result.open_positions == {} and result.skipped_fills == 0


def test_flip_closes_one_round_trip_and_opens_the_next_with_a_pro_rata_fee() -> None:
    fills = [
        fill(1, "buy", "1", "100", "0.3", minutes=0),
        fill(2, "sell", "3", "90", "0.9", minutes=1),  # closes 1, opens a 2 short
        fill(3, "buy", "2", "80", "0.2", minutes=2),
    ]
    first, second = reconstruct(fills).trips
    assert (first.side, first.quantity, first.realized_pnl) == (LONG, D(1), D(-10))
    assert first.fees == D("0.6")  # 0.3 + 0.9 x 1/3
    assert first.fill_parts == ("1", "2:close")
    assert (second.side, second.quantity, second.realized_pnl) == (SHORT, D(2), D(20))
    assert second.fees == D("0.8")  # 0.9 x 2/3 + 0.2
    assert second.fill_parts == ("2:open", "3")
    assert second.opened_at == first.closed_at


def test_open_position_at_the_end_is_not_a_trade() -> None:
    result = reconstruct([fill(1, "sell", "2", "100"), fill(2, "buy", "0.5", "90", minutes=1)])
    assert result.trips == ()
    assert result.open_positions == {"BTC_USDT": D("-1.5")}


def test_history_starting_mid_position_skips_the_unseen_round_trip() -> None:
    fills = [
        fill(1, "sell", "1", "100", minutes=0),  # closes part of a 2 long opened before
        fill(2, "sell", "2", "110", minutes=1),  # closes the last 1, opens a 1 short
        fill(3, "buy", "1", "105", minutes=2),
    ]
    result = reconstruct(fills, {"BTC_USDT": D(2)})
    (trip,) = result.trips
    assert (trip.side, trip.quantity, trip.realized_pnl) == (SHORT, D(1), D(5))
    assert result.skipped_fills == 2


def test_r_multiple_from_risk_amount_or_stop() -> None:
    by_risk = trade_figures("LONG", D(100), D(110), D(2), D(1), risk_amount=D(10), stop_price=D(95))
    assert (by_risk.net_pnl, by_risk.r_multiple) == (D(19), D("1.9"))
    by_stop = trade_figures("short", D(100), D(110), D(2), D(1), stop_price=D(105))
    assert (by_stop.realized_pnl, by_stop.net_pnl) == (D(-20), D(-21))
    assert by_stop.effective_risk == D(10) and by_stop.r_multiple == D("-2.1")
    levered = trade_figures("LONG", D(100), D(101), D(1), D(0), leverage=D(10))
    assert levered.realized_pnl_pct == D(10)


def test_fill_ids_sort_numerically_within_one_timestamp() -> None:
    fills = [fill("10", "buy", "1", "1"), fill("9", "buy", "1", "1"), fill("x2", "buy", "1", "1")]
    assert [f.fill_id for f in sorted(fills, key=fill_order_key)] == ["9", "10", "x2"]


# --------------------------------------------------------------------------- properties

SYMBOLS = ("BTC_USDT", "ETH_USDT")


@st.composite
def histories(draw: st.DrawFn) -> list[Fill]:
    """Fills on up to two symbols that end flat: random moves plus one closing fill each."""
    fills: list[Fill] = []
    next_id = 10
    for symbol in SYMBOLS[: draw(st.integers(1, 2))]:
        moves = draw(st.lists(st.integers(-30, 30).filter(bool), min_size=1, max_size=25))
        net = sum(moves)
        if net:
            moves.append(-net)
        times = sorted(
            draw(st.lists(st.integers(0, 500), min_size=len(moves), max_size=len(moves)))
        )
        for move, minute in zip(moves, times, strict=True):
            price = D(draw(st.integers(1, 100_000))) / 100
            fee = D(draw(st.integers(-5, 500))) / 1000
            fills.append(
                fill(
                    next_id,
                    "buy" if move > 0 else "sell",
                    D(abs(move)) / 10,
                    price,
                    fee,
                    minutes=minute,
                    symbol=symbol,
                )
            )
            next_id += 10
    return fills


def _cash_flow(fills: list[Fill]) -> D:
    return sum((f.price * f.quantity * (1 if f.side == "sell" else -1) for f in fills), D(0))


@settings(max_examples=150, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_quantity_pnl_and_fees_are_conserved_in_any_input_order(
    fills: list[Fill], rnd: random.Random
) -> None:
    shuffled = list(fills)
    rnd.shuffle(shuffled)
    result = reconstruct(shuffled)
    assert result.open_positions == {} and result.skipped_fills == 0
    assert 2 * sum((t.quantity for t in result.trips), D(0)) == sum(f.quantity for f in fills)
    assert sum((t.realized_pnl for t in result.trips), D(0)) == _cash_flow(fills)
    assert sum((t.fees for t in result.trips), D(0)) == sum(f.fee for f in fills)
    assert result == reconstruct(fills)
    for trip in result.trips:
        assert trip.quantity > 0 and trip.opened_at <= trip.closed_at
    # every fill is in exactly one round trip, or two halves of a flip
    parts = Counter(p.split(":")[0] for t in result.trips for p in t.fill_parts)
    assert set(parts) == {f.fill_id for f in fills} and max(parts.values()) <= 2


@settings(max_examples=150, deadline=None)
@given(histories(), st.data())
def test_splitting_a_fill_changes_no_round_trip(fills: list[Fill], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(fills) - 1))
    original = fills[index]
    units = int(original.quantity * 10)
    if units < 2:
        return
    first_units = data.draw(st.integers(1, units - 1))
    q1 = D(first_units) / 10
    f1 = round_fee(original.fee * q1 / original.quantity)
    base = int(original.fill_id)
    halves = [
        fill(
            base + 1,
            original.side,
            q1,
            original.price,
            f1,
            minutes=(original.timestamp - T0).total_seconds() / 60,
            symbol=original.symbol,
        ),
        fill(
            base + 2,
            original.side,
            original.quantity - q1,
            original.price,
            original.fee - f1,
            minutes=(original.timestamp - T0).total_seconds() / 60,
            symbol=original.symbol,
        ),
    ]
    split = reconstruct([*fills[:index], *halves, *fills[index + 1 :]])
    whole = reconstruct(fills)
    assert [(t.symbol, t.side, t.quantity, t.realized_pnl) for t in split.trips] == [
        (t.symbol, t.side, t.quantity, t.realized_pnl) for t in whole.trips
    ]
    for a, b in zip(split.trips, whole.trips, strict=True):
        assert abs(a.fees - b.fees) <= D("1e-11")  # pro-rata shares round to 1e-12
    assert sum((t.fees for t in split.trips), D(0)) == sum((t.fees for t in whole.trips), D(0))


@settings(max_examples=100, deadline=None)
@given(histories(), st.data())
def test_a_history_cut_mid_position_yields_the_later_round_trips(
    fills: list[Fill], data: st.DataObject
) -> None:
    ordered = sorted((f for f in fills if f.symbol == "BTC_USDT"), key=fill_order_key)
    cut = data.draw(st.integers(0, len(ordered)))
    before, after = ordered[:cut], ordered[cut:]
    position = sum((f.quantity if f.side == "buy" else -f.quantity for f in before), D(0))
    whole = reconstruct(ordered).trips
    tail = reconstruct(after, {"BTC_USDT": position})
    # the round trips of the tail are exactly the whole history's trips that start in it
    started_late = (
        [
            t
            for t in whole
            if all(int(p.split(":")[0]) >= int(after[0].fill_id) for p in t.fill_parts)
        ]
        if after
        else []
    )
    assert [(t.quantity, t.realized_pnl) for t in tail.trips] == [
        (t.quantity, t.realized_pnl) for t in started_late
    ]
