"""Values the matching engine works with: orders, fills, positions and rejections."""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from testudo.sim.money import ZERO


class Side(enum.Enum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for buys, -1 for sells."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderKind(enum.Enum):
    """How an order executes once active."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(enum.Enum):
    """Lifetime of a limit order."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "POST_ONLY"


class TriggerKind(enum.Enum):
    """Stop-loss or take-profit trigger."""

    STOP = "sl"
    TAKE_PROFIT = "tp"


class OrderStatus(enum.Enum):
    """Lifecycle state of an order."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class CancelReason(enum.Enum):
    """Why an order left the book without filling completely."""

    USER = "user"
    IOC = "ioc"
    REDUCE_ONLY = "reduce_only"
    MARGIN = "margin"
    PARENT = "parent"
    POSITION_CLOSED = "position_closed"


class Reason(enum.Enum):
    """Why the engine refused a request."""

    UNKNOWN_SYMBOL = "unknown_symbol"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_ORDER = "unknown_order"
    INVALID_QTY = "invalid_qty"
    QTY_STEP = "qty_step"
    QTY_TOO_SMALL = "qty_too_small"
    QTY_TOO_LARGE = "qty_too_large"
    INVALID_PRICE = "invalid_price"
    PRICE_REQUIRED = "price_required"
    MIN_NOTIONAL = "min_notional"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    REDUCE_ONLY_REJECTED = "reduce_only_rejected"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    WOULD_TRIGGER = "would_trigger"
    POST_ONLY_WOULD_MATCH = "post_only_would_match"
    NO_LIQUIDITY = "no_liquidity"
    INVALID_LEVERAGE = "invalid_leverage"
    NOT_RESTING = "not_resting"


class Rejected(Exception):
    """The engine refused a request; ``reason`` says why, ``detail`` gives the figures."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@attrs.frozen
class Trigger:
    """Trigger condition: fire when the mark is at or above/below ``price``."""

    price: Decimal
    kind: TriggerKind
    above: bool

    def hit(self, mark: Decimal) -> bool:
        """Whether ``mark`` satisfies the condition."""
        return mark >= self.price if self.above else mark <= self.price


def trigger_for(kind: TriggerKind, side: Side, price: Decimal) -> Trigger:
    """A stop buys on the way up and sells on the way down; a take-profit the reverse."""
    above = (side is Side.BUY) == (kind is TriggerKind.STOP)
    return Trigger(price=price, kind=kind, above=above)


@attrs.frozen
class OrderRequest:
    """What a client asks the engine to place."""

    symbol: str
    side: Side
    kind: OrderKind
    qty: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    close_position: bool = False
    client_id: str | None = None
    trigger: Trigger | None = None
    parent_id: int | None = None
    extra_fee_rate: Decimal = ZERO


@attrs.define(eq=False)
class Order:
    """A live or finished order."""

    id: int
    account_id: int
    symbol: str
    side: Side
    kind: OrderKind
    qty: Decimal
    price: Decimal | None
    tif: TimeInForce
    reduce_only: bool
    close_position: bool
    client_id: str | None
    trigger: Trigger | None
    parent_id: int | None
    extra_fee_rate: Decimal
    created_ms: int
    updated_ms: int
    status: OrderStatus = OrderStatus.NEW
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO
    triggered_ms: int | None = None
    cancel_reason: CancelReason | None = None
    fees: Decimal = ZERO  # every fee its fills paid (venue fee plus any extra fee)
    realized_pnl: Decimal = ZERO  # profit its fills realised, before fees
    last_fill: Fill | None = None  # the latest execution (OKX and others report it per order)

    @property
    def is_open(self) -> bool:
        """Still working (resting or waiting for its trigger)."""
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @property
    def awaiting_trigger(self) -> bool:
        """A trigger order whose condition has not been met yet."""
        return self.trigger is not None and self.triggered_ms is None and self.is_open

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill (zero for a close-position order before it triggers)."""
        return max(ZERO, self.qty - self.filled_qty)

    @property
    def average_price(self) -> Decimal:
        """Volume-weighted fill price, zero before the first fill."""
        if self.filled_qty == 0:
            return ZERO
        return self.filled_notional / self.filled_qty


@attrs.frozen
class Fill:
    """One execution of one order (a user trade)."""

    id: int
    order_id: int
    account_id: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    extra_fee: Decimal
    fee_asset: str
    realized_pnl: Decimal
    is_maker: bool
    time_ms: int
    start_position: Decimal
    client_id: str | None = None

    @property
    def notional(self) -> Decimal:
        """Price times quantity."""
        return self.price * self.qty


@attrs.define
class Position:
    """One-way position in one symbol (``size`` > 0 long, < 0 short)."""

    size: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    updated_ms: int = 0


@attrs.frozen
class PublicTrade:
    """A trade on the public tape."""

    id: int
    price: Decimal
    qty: Decimal
    time_ms: int
    buyer_is_maker: bool
