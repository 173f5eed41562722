"""Generated trade history."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal as D

import pytest

from testudo.sim.history import DAY_MS, HistoryError, generate_fills
from testudo.sim.instruments import DEFAULT_PRICES, binance_instruments, hyperliquid_instruments
from testudo.sim.money import ZERO, is_multiple
from testudo.sim.positions import apply_fill

END = 1_700_000_000_000


def _fills(count: int, *, seed: int = 1, days: int = 90, hl: bool = False) -> list:  # type: ignore[type-arg]
    instruments = hyperliquid_instruments() if hl else binance_instruments()
    return generate_fills(
        instruments,
        dict(DEFAULT_PRICES),
        account_id=7,
        count=count,
        days=days,
        seed=seed,
        end_ms=END,
        order_ids=range(1, count + 1),
        fill_ids=range(1, count + 1),
    )


def test_exact_count_within_window_and_flat_at_the_end() -> None:
    fills = _fills(5000)
    assert len(fills) == 5000
    assert all(END - 90 * DAY_MS <= f.time_ms < END for f in fills)
    assert [f.time_ms for f in fills] == sorted(f.time_ms for f in fills)
    net: dict[str, D] = {}
    for fill in fills:
        net[fill.symbol] = net.get(fill.symbol, D(0)) + fill.qty * fill.side.sign
    assert set(net.values()) == {0}


def test_history_is_realistic_round_trips_across_symbols() -> None:
    fills = _fills(5000)
    by_symbol = Counter(f.symbol for f in fills)
    assert set(by_symbol) == {"BTC_USDT", "ETH_USDT", "SOL_USDT"}
    assert by_symbol["BTC_USDT"] > by_symbol["SOL_USDT"]
    kinds = Counter()  # type: Counter[str]
    for fill in fills:
        start, after = fill.start_position, fill.start_position + fill.qty * fill.side.sign
        if start == 0:
            kinds["open"] += 1
        elif after == 0:
            kinds["close"] += 1
        elif (start > 0) != (after > 0):
            kinds["flip"] += 1
        elif abs(after) > abs(start):
            kinds["scale_in"] += 1
        else:
            kinds["partial"] += 1
    assert all(kinds[k] > 50 for k in ("open", "close", "flip", "scale_in", "partial"))
    assert 0.5 < sum(1 for f in fills if not f.is_maker) / len(fills) < 0.9


@pytest.mark.parametrize("hl", [False, True])
def test_prices_sizes_and_fees_respect_the_instruments(hl: bool) -> None:
    catalog = hyperliquid_instruments() if hl else binance_instruments()
    instruments = {i.symbol: i for i in catalog}
    for fill in _fills(3000, hl=hl):
        instrument = instruments[fill.symbol]
        assert instrument.price_rule.is_valid(fill.price)
        assert is_multiple(fill.qty, instrument.lot_size) and fill.qty > 0
        rate = instrument.maker_fee if fill.is_maker else instrument.taker_fee
        assert abs(fill.fee - fill.price * fill.qty * rate) <= instrument.fee_quantum


def test_realised_pnl_matches_replaying_the_fills() -> None:
    fills = _fills(3000, hl=True)
    state: dict[str, tuple[D, D]] = {}
    for fill in fills:
        size, entry = state.get(fill.symbol, (ZERO, ZERO))
        assert fill.start_position == size
        effect = apply_fill(size, entry, fill.qty * fill.side.sign, fill.price)
        assert effect.realized_pnl == fill.realized_pnl
        state[fill.symbol] = (effect.size, effect.entry_price)


def test_same_seed_same_history_and_prices_end_near_todays_mark() -> None:
    first, second, other = _fills(2000, seed=3), _fills(2000, seed=3), _fills(2000, seed=4)
    assert first == second
    assert first != other
    last_btc = [f for f in first if f.symbol == "BTC_USDT"][-1]
    assert abs(last_btc.price / DEFAULT_PRICES["BTC_USDT"] - 1) < D("0.05")


def test_one_hundred_thousand_fills() -> None:
    fills = _fills(100_000)
    assert len(fills) == 100_000
    assert len({f.order_id for f in fills}) == 100_000


@pytest.mark.parametrize(("count", "days"), [(1, 90), (2_000_000, 90), (10, 0)])
def test_bounds(count: int, days: int) -> None:
    with pytest.raises(HistoryError):
        _fills(count, days=days)
