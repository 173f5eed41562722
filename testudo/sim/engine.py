"""The matching engine of one venue: accounts, orders, positions and fills.

Pure and synchronous: no I/O, every timestamp comes from the injected clock and every
reference price from the shared ``PriceFeed``. Each public method runs to completion, so
calling it from one trio thread keeps the state consistent.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from testudo.sim import book
from testudo.sim.clock import Clock
from testudo.sim.fills import FillLog
from testudo.sim.funding import HOUR_MS, Payment, Schedule, amount
from testudo.sim.instruments import Instrument
from testudo.sim.model import (
    CancelReason,
    Fill,
    Order,
    OrderKind,
    OrderRequest,
    OrderStatus,
    Position,
    PublicTrade,
    Reason,
    Rejected,
    Side,
    TimeInForce,
)
from testudo.sim.money import ZERO, is_multiple, quantize
from testudo.sim.positions import apply_fill, exposure_increase, unrealized_pnl
from testudo.sim.prices import PriceFeed

PUBLIC_TAPE_LENGTH = 2000


@attrs.define(eq=False)
class Account:
    """One account's ledger on one venue."""

    id: int
    wallet_balance: Decimal
    settle: str
    created_ms: int
    leverage: dict[str, int] = attrs.Factory(dict)
    positions: dict[str, Position] = attrs.Factory(dict)
    open_orders: dict[int, Order] = attrs.Factory(dict)
    orders: dict[int, Order] = attrs.Factory(dict)
    fills: FillLog = attrs.Factory(FillLog)
    fees_paid: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    updated_ms: int = 0
    collateral: dict[str, Decimal] = attrs.Factory(dict)
    multi_assets: bool = False
    traded_notional: Decimal = ZERO
    funding: list[Payment] = attrs.Factory(list)

    @property
    def margin_collateral(self) -> Decimal:
        """Other assets backing the margin: all of them in Multi-Assets mode, else none."""
        return sum(self.collateral.values(), ZERO) if self.multi_assets else ZERO

    def position(self, symbol: str) -> Position:
        """The position in ``symbol`` (created flat on first use)."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position()
        return pos


@attrs.frozen
class MarginSummary:
    """Cross-margin figures of an account at the current marks.

    ``wallet_balance`` is the collateral backing the margin: the settlement asset's wallet,
    plus the other collateral assets in Multi-Assets mode.
    """

    wallet_balance: Decimal
    unrealized_pnl: Decimal
    position_margin: Decimal
    order_margin: Decimal
    notional: Decimal

    @property
    def margin_balance(self) -> Decimal:
        """Wallet balance plus unrealised profit (account value)."""
        return self.wallet_balance + self.unrealized_pnl

    @property
    def initial_margin(self) -> Decimal:
        """Margin held by positions and resting orders."""
        return self.position_margin + self.order_margin

    @property
    def available(self) -> Decimal:
        """What new orders may still use."""
        return self.margin_balance - self.initial_margin


@attrs.frozen
class PlaceResult:
    """An accepted order and the fills it produced at once."""

    order: Order
    fills: tuple[Fill, ...]


@attrs.frozen
class EngineSettings:
    """Venue behaviours that differ between exchanges."""

    reject_immediate_trigger: bool = False
    ioc_without_fill_is_error: bool = False
    order_id_start: int = 1
    trade_id_start: int = 1_000_000_000
    history_id_start: int = 100_000_000
    seed: int = 0
    funding_interval_ms: int = 8 * HOUR_MS
    scheduled_funding: bool = True


class Engine:
    """Matching engine of one venue."""

    def __init__(
        self,
        venue: str,
        instruments: Iterable[Instrument],
        feed: PriceFeed,
        clock: Clock,
        settings: EngineSettings | None = None,
    ) -> None:
        self.venue = venue
        self.settings = settings or EngineSettings()
        self.instruments: dict[str, Instrument] = {i.symbol: i for i in instruments}
        self.feed = feed
        self.clock = clock
        self.accounts: dict[int, Account] = {}
        self._orders_by_symbol: dict[str, dict[int, Order]] = {s: {} for s in self.instruments}
        self._last_mark: dict[str, Decimal] = {}
        self._tape: dict[str, deque[PublicTrade]] = {
            s: deque(maxlen=PUBLIC_TAPE_LENGTH) for s in self.instruments
        }
        self._next_order_id = self.settings.order_id_start
        self._next_trade_id = self.settings.trade_id_start
        self._next_history_id = self.settings.history_id_start
        self._next_public_id = 1
        self._rng = random.Random(f"{venue}:{self.settings.seed}")
        self._next_funding_id = 1
        self.funding = Schedule(
            interval_ms=self.settings.funding_interval_ms,
            last_ms=clock.now_ms(),
            scheduled=self.settings.scheduled_funding,
        )
        for symbol in self.instruments:
            self._last_mark[symbol] = self.mark(symbol)

    # ------------------------------------------------------------------ market data

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``; raise ``Rejected(UNKNOWN_SYMBOL)``."""
        try:
            return self.instruments[symbol]
        except KeyError:
            raise Rejected(Reason.UNKNOWN_SYMBOL, symbol) from None

    def mark(self, symbol: str) -> Decimal:
        """The venue's mark price (the reference price rounded to a valid price)."""
        instrument = self.instrument(symbol)
        return book.reference(instrument, self.feed.price(symbol))

    def depth(self, symbol: str, count: int) -> tuple[list[book.Level], list[book.Level]]:
        """Best ``count`` bid and ask levels of the synthetic book."""
        return book.depth(self.instrument(symbol), self.mark(symbol), count)

    def tape(self, symbol: str) -> Sequence[PublicTrade]:
        """Recent public trades, oldest first."""
        self.instrument(symbol)
        return tuple(self._tape[symbol])

    # ------------------------------------------------------------------ accounts

    def open_account(
        self,
        account_id: int,
        balance: Decimal,
        *,
        collateral: Mapping[str, Decimal] | None = None,
        multi_assets: bool = False,
    ) -> Account:
        """Create an account holding ``balance`` of the venue's settlement asset.

        ``collateral`` holds other assets (Binance USDC beside USDT); they back the margin,
        valued 1:1, only when ``multi_assets`` is set (Binance Multi-Assets mode).
        """
        settle = next(iter(self.instruments.values())).settle
        now = self.clock.now_ms()
        account = Account(
            id=account_id,
            wallet_balance=balance,
            settle=settle,
            created_ms=now,
            updated_ms=now,
            collateral={k: v for k, v in (collateral or {}).items() if k != settle},
            multi_assets=multi_assets,
        )
        self.accounts[account_id] = account
        return account

    def account(self, account_id: int) -> Account:
        """The account; raise ``Rejected(UNKNOWN_ACCOUNT)``."""
        try:
            return self.accounts[account_id]
        except KeyError:
            raise Rejected(Reason.UNKNOWN_ACCOUNT, str(account_id)) from None

    def leverage(self, account_id: int, symbol: str) -> int:
        """Leverage in force for ``symbol``."""
        account = self.account(account_id)
        return account.leverage.get(symbol, self.instrument(symbol).default_leverage)

    def set_leverage(self, account_id: int, symbol: str, leverage: int) -> int:
        """Change leverage (1..max) for ``symbol``."""
        account = self.account(account_id)
        instrument = self.instrument(symbol)
        if not 1 <= leverage <= instrument.max_leverage:
            raise Rejected(
                Reason.INVALID_LEVERAGE, f"leverage {leverage} not in 1..{instrument.max_leverage}"
            )
        account.leverage[symbol] = leverage
        return leverage

    def margin(self, account_id: int) -> MarginSummary:
        """Cross-margin summary at current marks."""
        account = self.account(account_id)
        unrealized = ZERO
        position_margin = ZERO
        notional = ZERO
        for symbol, pos in account.positions.items():
            if pos.size == 0:
                continue
            mark = self.mark(symbol)
            unrealized += unrealized_pnl(pos.size, pos.entry_price, mark)
            value = abs(pos.size) * mark
            notional += value
            position_margin += value / self.leverage(account_id, symbol)
        order_margin = ZERO
        for order in account.open_orders.values():
            if order.reduce_only or order.awaiting_trigger or order.price is None:
                continue
            order_margin += order.remaining * order.price / self.leverage(account_id, order.symbol)
        return MarginSummary(
            wallet_balance=account.wallet_balance + account.margin_collateral,
            unrealized_pnl=unrealized,
            position_margin=position_margin,
            order_margin=order_margin,
            notional=notional,
        )

    def position(self, account_id: int, symbol: str) -> Position:
        """The account's position in ``symbol`` (flat if none)."""
        account = self.account(account_id)
        self.instrument(symbol)
        return account.positions.get(symbol) or Position()

    # ------------------------------------------------------------------ funding

    def settle_funding(self) -> list[Payment]:
        """Pay every funding time that passed on the clock since the last one paid."""
        now = self.clock.now_ms()
        if not self.funding.scheduled:
            self.funding.last_ms = max(self.funding.last_ms, now)
            return []
        payments: list[Payment] = []
        while self.funding.next_ms() <= now:
            payments.extend(self.pay_funding(self.funding.next_ms()))
        return payments

    def pay_funding(self, time_ms: int | None = None) -> list[Payment]:
        """One funding time (now, unless ``time_ms``): each open position pays or receives
        ``size * mark * rate``, which moves its account's wallet balance."""
        at = self.clock.now_ms() if time_ms is None else time_ms
        self.funding.last_ms = max(self.funding.last_ms, at)
        payments: list[Payment] = []
        for account in self.accounts.values():
            for symbol, position in account.positions.items():
                if position.size != 0:
                    payments.append(self._pay(account, symbol, position.size, at))
        return payments

    def _pay(self, account: Account, symbol: str, size: Decimal, at: int) -> Payment:
        mark = self.mark(symbol)
        rate = self.funding.rate(symbol)
        paid = amount(size, mark, rate, self.instruments[symbol].fee_quantum)
        account.wallet_balance += paid
        payment = Payment(
            self._next_funding_id,
            account.id,
            symbol,
            rate,
            size,
            mark,
            paid,
            at,
            balance=account.wallet_balance,
        )
        self._next_funding_id += 1
        account.updated_ms = max(account.updated_ms, at)
        account.funding.append(payment)
        return payment

    # ------------------------------------------------------------------ orders

    def place(self, account_id: int, request: OrderRequest) -> PlaceResult:
        """Validate and accept an order; taker parts execute at once against the book."""
        account = self.account(account_id)
        instrument = self.instrument(request.symbol)
        self._validate(account, instrument, request)
        now = self.clock.now_ms()
        order = Order(
            id=self._new_order_id(),
            account_id=account_id,
            symbol=request.symbol,
            side=request.side,
            kind=request.kind,
            qty=request.qty,
            price=request.price,
            tif=request.tif,
            reduce_only=request.reduce_only or request.close_position,
            close_position=request.close_position,
            client_id=request.client_id,
            trigger=request.trigger,
            parent_id=request.parent_id,
            extra_fee_rate=request.extra_fee_rate,
            created_ms=now,
            updated_ms=now,
        )
        account.orders[order.id] = order
        fills: list[Fill] = []
        if order.trigger is not None:
            self._rest(account, order)
            if order.parent_id is None and order.trigger.hit(self.mark(order.symbol)):
                fills.extend(self._fire(account, order))
        else:
            fills.extend(self._activate(account, order))
        return PlaceResult(order=order, fills=tuple(fills))

    def cancel(
        self,
        account_id: int,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        """Cancel an open order by id or client id; raise ``Rejected(UNKNOWN_ORDER)``."""
        account = self.account(account_id)
        order = self._find_open(account, order_id=order_id, client_id=client_id, symbol=symbol)
        self._close(account, order, OrderStatus.CANCELED, CancelReason.USER)
        return order

    def cancel_all(self, account_id: int, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of ``symbol``, if given)."""
        account = self.account(account_id)
        canceled = []
        for order in list(account.open_orders.values()):
            if symbol is None or order.symbol == symbol:
                self._close(account, order, OrderStatus.CANCELED, CancelReason.USER)
                canceled.append(order)
        return canceled

    def order(
        self,
        account_id: int,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order:
        """Look an order up (open or finished); raise ``Rejected(UNKNOWN_ORDER)``."""
        account = self.account(account_id)
        if order_id is not None:
            found = account.orders.get(order_id)
            if found is not None and (symbol is None or found.symbol == symbol):
                return found
            raise Rejected(Reason.UNKNOWN_ORDER, str(order_id))
        if client_id is not None:
            for candidate in account.open_orders.values():
                if candidate.client_id == client_id and symbol in (None, candidate.symbol):
                    return candidate
            for candidate in reversed(account.orders.values()):
                if candidate.client_id == client_id and symbol in (None, candidate.symbol):
                    return candidate
        raise Rejected(Reason.UNKNOWN_ORDER, str(client_id))

    def fill_resting(
        self,
        account_id: int,
        qty: Decimal,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        price: Decimal | None = None,
    ) -> Fill:
        """Fill ``qty`` of a resting limit order, as a partial match by another trader would.

        The fill is a maker fill at the order's limit (or at ``price``: a valid price no
        worse than the limit) and takes the path of a crossed resting order: fee, position,
        balance, filled quantity, ``PARTIALLY_FILLED`` while some remains, ``FILLED`` (and
        off the book) when nothing does. ``qty`` must be a positive multiple of the lot
        size, at most what the order can fill now. Raise ``Rejected``: ``UNKNOWN_ORDER``,
        ``NOT_RESTING`` (finished, waiting for a trigger or parent), ``INVALID_QTY``,
        ``QTY_STEP``, ``QTY_TOO_LARGE`` or ``INVALID_PRICE``.
        """
        account = self.account(account_id)
        if order_id is None and client_id is None:
            raise Rejected(Reason.UNKNOWN_ORDER, "give an order id or a client order id")
        order = self.order(account_id, order_id=order_id, client_id=client_id)
        self._check_manual_fill(account, order, qty, price)
        (fill,) = self._fill_resting(account, order, qty, price)
        return fill

    def open_orders(self, account_id: int, symbol: str | None = None) -> list[Order]:
        """Open orders, oldest first."""
        account = self.account(account_id)
        return [o for o in account.open_orders.values() if symbol in (None, o.symbol)]

    # ------------------------------------------------------------------ prices

    def on_price(self, symbol: str) -> list[Fill]:
        """React to a new reference price: fire triggers and fill crossed limits.

        Orders are handled in the order the price path from the previous mark reaches
        them (nearest first), then by age.
        """
        instrument = self.instrument(symbol)
        mark = self.mark(symbol)
        previous = self._last_mark.get(symbol, mark)
        self._last_mark[symbol] = mark
        if mark != previous:
            self._print(
                symbol, mark, self._synthetic_qty(instrument), buyer_is_maker=mark < previous
            )
        fills: list[Fill] = []
        for _ in range(4):
            due = self._due_orders(instrument, mark)
            if not due:
                break
            due.sort(key=lambda item: (abs(item[0] - previous), item[1].id))
            for _, order in due:
                if not order.is_open:
                    continue
                account = self.accounts[order.account_id]
                if order.awaiting_trigger:
                    fills.extend(self._fire(account, order))
                else:
                    fills.extend(self._fill_resting(account, order))
        return fills

    # ------------------------------------------------------------------ history

    def add_history(self, account_id: int, fills: Iterable[Fill]) -> int:
        """Store past fills of an account (numbered with ``reserve_history_ids``)."""
        account = self.account(account_id)
        batch = list(fills)
        if any(fill.account_id != account_id for fill in batch):
            raise ValueError("history fills belong to another account")
        account.fills.extend(batch)
        account.traded_notional += sum((fill.notional for fill in batch), ZERO)
        return len(batch)

    def reserve_history_ids(self, count: int) -> tuple[range, range]:
        """Order ids and fill ids for ``count`` generated fills.

        Fill ids come from a range below live trade ids, so they increase with time as long
        as history is generated before live trading.
        """
        orders = range(self._next_order_id, self._next_order_id + count)
        fills = range(self._next_history_id, self._next_history_id + count)
        self._next_order_id += count
        self._next_history_id += count
        return orders, fills

    # ------------------------------------------------------------------ internals

    def _new_order_id(self) -> int:
        self._next_order_id += 1
        return self._next_order_id - 1

    def _validate(self, account: Account, instrument: Instrument, request: OrderRequest) -> None:
        rule = instrument.price_rule
        if not request.close_position:
            if request.qty <= 0:
                raise Rejected(Reason.INVALID_QTY, f"quantity {request.qty} must be positive")
            if not is_multiple(request.qty, instrument.lot_size):
                raise Rejected(Reason.QTY_STEP, f"quantity {request.qty}")
            if request.qty < instrument.min_qty:
                raise Rejected(Reason.QTY_TOO_SMALL, f"quantity {request.qty}")
            if request.qty > instrument.max_qty:
                raise Rejected(Reason.QTY_TOO_LARGE, f"quantity {request.qty}")
        if request.kind is OrderKind.LIMIT:
            if request.price is None:
                raise Rejected(Reason.PRICE_REQUIRED, "limit order without price")
            if not rule.is_valid(request.price):
                raise Rejected(Reason.INVALID_PRICE, f"price {request.price}")
        elif request.price is not None and not rule.is_valid(request.price):
            raise Rejected(Reason.INVALID_PRICE, f"price {request.price}")
        if request.trigger is not None and not rule.is_valid(request.trigger.price):
            raise Rejected(Reason.INVALID_PRICE, f"trigger price {request.trigger.price}")
        if request.client_id is not None and any(
            o.client_id == request.client_id for o in account.open_orders.values()
        ):
            raise Rejected(Reason.DUPLICATE_CLIENT_ID, request.client_id)
        mark = self.mark(request.symbol)
        if request.trigger is not None:
            if self.settings.reject_immediate_trigger and request.trigger.hit(mark):
                raise Rejected(Reason.WOULD_TRIGGER, f"mark {mark}")
            reference = request.trigger.price
        else:
            if request.kind is OrderKind.LIMIT:
                assert request.price is not None
                reference = request.price
            else:
                reference = mark
            if request.tif is TimeInForce.POST_ONLY and book.crosses(
                instrument, mark, buy=request.side is Side.BUY, limit=reference
            ):
                raise Rejected(Reason.POST_ONLY_WOULD_MATCH, f"price {reference}")
        reduce_only = request.reduce_only or request.close_position
        if not reduce_only and request.qty * reference < instrument.min_notional:
            raise Rejected(
                Reason.MIN_NOTIONAL,
                f"notional {request.qty * reference} < {instrument.min_notional}",
            )
        position = account.positions.get(request.symbol) or Position()
        if (
            reduce_only
            and request.trigger is None
            and (position.size == 0 or (position.size > 0) == (request.side is Side.BUY))
        ):
            raise Rejected(Reason.REDUCE_ONLY_REJECTED, "order would increase the position")
        if not reduce_only and request.trigger is None:
            self._check_margin(account, request.symbol, request.side, request.qty, reference)

    def _check_margin(
        self, account: Account, symbol: str, side: Side, qty: Decimal, price: Decimal
    ) -> None:
        position = account.positions.get(symbol) or Position()
        added = exposure_increase(position.size, qty * side.sign)
        if added == 0:
            return
        required = added * price / self.leverage(account.id, symbol)
        available = self.margin(account.id).available
        if required > available:
            raise Rejected(
                Reason.INSUFFICIENT_MARGIN,
                f"required {quantize(required, Decimal('0.01'))}, "
                f"available {quantize(available, Decimal('0.01'))}",
            )

    def _rest(self, account: Account, order: Order) -> None:
        account.open_orders[order.id] = order
        self._orders_by_symbol[order.symbol][order.id] = order

    def _close(
        self, account: Account, order: Order, status: OrderStatus, reason: CancelReason | None
    ) -> None:
        order.status = status
        order.cancel_reason = reason
        order.updated_ms = self.clock.now_ms()
        account.open_orders.pop(order.id, None)
        self._orders_by_symbol[order.symbol].pop(order.id, None)
        if status is not OrderStatus.FILLED and order.filled_qty == 0:
            for child in list(account.open_orders.values()):
                if child.parent_id == order.id:
                    self._close(account, child, OrderStatus.CANCELED, CancelReason.PARENT)

    def _find_open(
        self, account: Account, *, order_id: int | None, client_id: str | None, symbol: str | None
    ) -> Order:
        for order in account.open_orders.values():
            if symbol is not None and order.symbol != symbol:
                continue
            if order_id is not None and order.id == order_id:
                return order
            if order_id is None and client_id is not None and order.client_id == client_id:
                return order
        raise Rejected(Reason.UNKNOWN_ORDER, str(order_id if order_id is not None else client_id))

    def _executable_qty(self, account: Account, order: Order) -> Decimal:
        """Quantity the order may execute now (reduce-only orders never flip the position)."""
        position = account.positions.get(order.symbol) or Position()
        qty = abs(position.size) if order.close_position else order.remaining
        if order.parent_id is not None:
            parent = account.orders.get(order.parent_id)
            if parent is not None:
                qty = min(qty, parent.filled_qty - order.filled_qty)
        if order.reduce_only:
            if position.size == 0 or (position.size > 0) == (order.side is Side.BUY):
                return ZERO
            qty = min(qty, abs(position.size))
        return max(qty, ZERO)

    def _activate(self, account: Account, order: Order) -> list[Fill]:
        """Execute an active (untriggered or just triggered) order's taker part; rest the rest."""
        instrument = self.instrument(order.symbol)
        mark = self.mark(order.symbol)
        qty = self._executable_qty(account, order)
        if order.reduce_only and qty == 0:
            self._close(account, order, OrderStatus.EXPIRED, CancelReason.REDUCE_ONLY)
            return []
        if order.close_position:
            order.qty = order.filled_qty + qty
        clipped = qty < order.remaining
        limit = order.price  # a market order may carry a bound (Hyperliquid's trigger ``p``)
        buy = order.side is Side.BUY
        levels = book.sweep(instrument, mark, buy=buy, qty=qty, limit=limit)
        taken = sum((level.qty for level in levels), ZERO)
        if order.tif is TimeInForce.FOK and taken < qty:
            self._close(account, order, OrderStatus.EXPIRED, CancelReason.IOC)
            return []
        if self.settings.ioc_without_fill_is_error and order.tif is TimeInForce.IOC and not levels:
            self._close(account, order, OrderStatus.EXPIRED, CancelReason.IOC)
            raise Rejected(Reason.NO_LIQUIDITY, f"no liquidity at {order.price}")
        fills = [self._execute(account, order, lv.price, lv.qty, maker=False) for lv in levels]
        if order.remaining == 0 or (clipped and order.reduce_only and taken >= qty):
            self._close(account, order, OrderStatus.FILLED, None)
        elif (order.kind is OrderKind.MARKET and order.price is None) or order.tif in (
            TimeInForce.IOC,
            TimeInForce.FOK,
        ):
            self._close(account, order, OrderStatus.EXPIRED, CancelReason.IOC)
        else:
            self._rest(account, order)
        return fills

    def _fire(self, account: Account, order: Order) -> list[Fill]:
        """A trigger order's condition is met: turn it into an active order."""
        order.triggered_ms = self.clock.now_ms()
        order.updated_ms = order.triggered_ms
        account.open_orders.pop(order.id, None)
        self._orders_by_symbol[order.symbol].pop(order.id, None)
        if not order.reduce_only:
            try:
                self._check_margin(
                    account,
                    order.symbol,
                    order.side,
                    order.remaining,
                    order.price or self.mark(order.symbol),
                )
            except Rejected:
                self._close(account, order, OrderStatus.CANCELED, CancelReason.MARGIN)
                return []
        try:
            return self._activate(account, order)
        except Rejected:
            return []

    def _fill_resting(
        self,
        account: Account,
        order: Order,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> list[Fill]:
        """A resting limit order was crossed: it fills at its own price as maker.

        ``qty`` (checked by the caller) takes only part of what it could fill, ``price``
        fills at another price than the limit.
        """
        executable = self._executable_qty(account, order)
        if executable == 0:
            if order.reduce_only:
                self._close(account, order, OrderStatus.EXPIRED, CancelReason.REDUCE_ONLY)
            return []
        assert order.price is not None
        take = executable if qty is None else qty
        at = order.price if price is None else price
        fill = self._execute(account, order, at, take, maker=True)
        if order.remaining == 0 or (order.reduce_only and take == executable):
            self._close(account, order, OrderStatus.FILLED, None)
        return [fill]

    def _check_manual_fill(
        self, account: Account, order: Order, qty: Decimal, price: Decimal | None
    ) -> None:
        """Refuse a ``fill_resting`` that no real match of the resting order could produce."""
        if not order.is_open or order.awaiting_trigger or order.kind is not OrderKind.LIMIT:
            state = "waiting for its trigger" if order.awaiting_trigger else order.status.value
            raise Rejected(Reason.NOT_RESTING, f"order {order.id} is {state}, not a resting limit")
        executable = self._executable_qty(account, order)
        if executable == 0:
            raise Rejected(Reason.NOT_RESTING, f"order {order.id} cannot fill now")
        instrument = self.instruments[order.symbol]
        if qty <= 0:
            raise Rejected(Reason.INVALID_QTY, f"quantity {qty} must be positive")
        if qty > executable:
            raise Rejected(
                Reason.QTY_TOO_LARGE, f"quantity {qty} exceeds the {executable} left to fill"
            )
        if not is_multiple(qty, instrument.lot_size):
            raise Rejected(
                Reason.QTY_STEP, f"quantity {qty} is not a multiple of {instrument.lot_size}"
            )
        if price is not None:
            self._check_fill_price(instrument, order, price)

    @staticmethod
    def _check_fill_price(instrument: Instrument, order: Order, price: Decimal) -> None:
        """A maker fill is at a valid price no worse than the order's limit."""
        assert order.price is not None
        if not instrument.price_rule.is_valid(price):
            raise Rejected(Reason.INVALID_PRICE, f"price {price}")
        worse = price > order.price if order.side is Side.BUY else price < order.price
        if worse:
            raise Rejected(Reason.INVALID_PRICE, f"price {price} is beyond the limit {order.price}")

    def _due_orders(self, instrument: Instrument, mark: Decimal) -> list[tuple[Decimal, Order]]:
        bid, ask = book.best_bid_ask(instrument, mark)
        due: list[tuple[Decimal, Order]] = []
        for order in self._orders_by_symbol[instrument.symbol].values():
            if order.parent_id is not None and not self._parent_filled(order):
                continue
            if order.awaiting_trigger:
                assert order.trigger is not None
                if order.trigger.hit(mark):
                    due.append((order.trigger.price, order))
            elif order.price is not None and (
                ask <= order.price if order.side is Side.BUY else bid >= order.price
            ):
                due.append((order.price, order))
        return due

    def _parent_filled(self, order: Order) -> bool:
        account = self.accounts[order.account_id]
        parent = account.orders.get(order.parent_id) if order.parent_id is not None else None
        return parent is not None and parent.filled_qty > 0

    def _execute(
        self, account: Account, order: Order, price: Decimal, qty: Decimal, *, maker: bool
    ) -> Fill:
        instrument = self.instruments[order.symbol]
        now = self.clock.now_ms()
        position = account.position(order.symbol)
        start = position.size
        effect = apply_fill(position.size, position.entry_price, qty * order.side.sign, price)
        notional = price * qty
        rate = instrument.maker_fee if maker else instrument.taker_fee
        fee = quantize(notional * rate, instrument.fee_quantum)
        extra_fee = quantize(notional * order.extra_fee_rate, instrument.fee_quantum)
        position.size = effect.size
        position.entry_price = effect.entry_price
        position.realized_pnl += effect.realized_pnl
        position.updated_ms = now
        account.wallet_balance += effect.realized_pnl - fee - extra_fee
        account.fees_paid += fee + extra_fee
        account.realized_pnl += effect.realized_pnl
        account.traded_notional += notional
        account.updated_ms = now
        order.filled_qty += qty
        order.filled_notional += notional
        order.fees += fee + extra_fee
        order.realized_pnl += effect.realized_pnl
        order.updated_ms = now
        if order.is_open and order.remaining > 0:
            order.status = OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            id=self._next_trade_id,
            order_id=order.id,
            account_id=account.id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            extra_fee=extra_fee,
            fee_asset=instrument.settle,
            realized_pnl=effect.realized_pnl,
            is_maker=maker,
            time_ms=now,
            start_position=start,
            client_id=order.client_id,
        )
        self._next_trade_id += 1
        order.last_fill = fill
        account.fills.append(fill)
        if effect.size == 0 and start != 0:
            self._cancel_position_orders(account, order)
        buyer_is_maker = maker == (order.side is Side.BUY)
        self._print(order.symbol, price, qty, buyer_is_maker=buyer_is_maker)
        return fill

    def _cancel_position_orders(self, account: Account, closer: Order) -> None:
        """A flat position takes its close-position (position TP/SL) orders with it."""
        for other in list(account.open_orders.values()):
            if other is not closer and other.symbol == closer.symbol and other.close_position:
                self._close(account, other, OrderStatus.CANCELED, CancelReason.POSITION_CLOSED)

    def _print(self, symbol: str, price: Decimal, qty: Decimal, *, buyer_is_maker: bool) -> None:
        self._tape[symbol].append(
            PublicTrade(
                id=self._next_public_id,
                price=price,
                qty=qty,
                time_ms=self.clock.now_ms(),
                buyer_is_maker=buyer_is_maker,
            )
        )
        self._next_public_id += 1

    def _synthetic_qty(self, instrument: Instrument) -> Decimal:
        lots = self._rng.randint(1, 50)
        return max(instrument.min_qty, instrument.lot_size * lots)
