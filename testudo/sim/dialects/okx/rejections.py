"""The engine's refusals in OKX's words: ``sCode`` / ``sMsg`` (or top-level code / msg)."""

from __future__ import annotations

from decimal import Decimal

from testudo.sim.dialects.okx.common import LOT_SZ, MAX_LMT_SZ, Contract, Refusal, bad
from testudo.sim.model import Position, Reason, Rejected, Side, TriggerKind
from testudo.sim.money import is_multiple, plain

NO_POSITION = (
    "51169",
    "Order failed because you don't have any positions in this direction for this contract "
    "to reduce or close.",
)
SAME_DIRECTION = (
    "51170",
    "Failed to place order. A reduce-only order can't be the same direction as your "
    "existing position.",
)
CANCEL_FAILED = (
    "51400",
    "Order cancellation failed as the order has been filled, canceled or does not exist",
)
NOT_FOUND = ("51603", "Order does not exist")
MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_SYMBOL: ("51001", "Instrument ID or Spread ID doesn't exist."),
    Reason.INVALID_QTY: ("51000", "Parameter sz error"),
    Reason.QTY_STEP: ("51121", "Order count should be the integer multiples of the lot size"),
    Reason.QTY_TOO_SMALL: (
        "51020",
        "Order amount should be greater than the min available amount",
    ),
    Reason.QTY_TOO_LARGE: ("51203", f"Order amount exceeds the limit {plain(MAX_LMT_SZ)}"),
    Reason.INVALID_PRICE: ("51000", "Parameter px error"),
    Reason.PRICE_REQUIRED: ("51204", "The price for the limit order can not be empty"),
    Reason.MIN_NOTIONAL: ("51020", "Order amount should be greater than the min available amount"),
    Reason.INSUFFICIENT_MARGIN: ("51008", "Order failed. Insufficient USDT margin in account"),
    Reason.DUPLICATE_CLIENT_ID: ("51016", "Duplicated clOrdId"),
    Reason.POST_ONLY_WOULD_MATCH: ("51019", "Post only order can not be filled as maker"),
    Reason.UNKNOWN_ORDER: NOT_FOUND,
    Reason.INVALID_LEVERAGE: (
        "59102",
        "Leverage exceeds the maximum leverage. Please adjust the leverage",
    ),
}
# A stop or take-profit that the last price has already reached (OKX checks the trigger
# against the last price when the algo order is placed).
TRIGGER_RULES: dict[tuple[TriggerKind, Side], tuple[str, str]] = {
    (TriggerKind.TAKE_PROFIT, Side.BUY): (
        "51277",
        "TP trigger price cannot be higher than the last price",
    ),
    (TriggerKind.STOP, Side.BUY): ("51278", "SL trigger price cannot be lower than the last price"),
    (TriggerKind.TAKE_PROFIT, Side.SELL): (
        "51279",
        "TP trigger price cannot be lower than the last price",
    ),
    (TriggerKind.STOP, Side.SELL): (
        "51280",
        "SL trigger price cannot be higher than the last price",
    ),
}


def refusal(
    exc: Rejected,
    *,
    side: Side,
    position: Position,
    trigger_kind: TriggerKind | None = None,
) -> Refusal:
    """OKX's code and message for an engine refusal of an order on ``side``."""
    if exc.reason is Reason.REDUCE_ONLY_REJECTED:
        code, msg = NO_POSITION if position.size == 0 else SAME_DIRECTION
    elif exc.reason is Reason.WOULD_TRIGGER and trigger_kind is not None:
        code, msg = TRIGGER_RULES[(trigger_kind, side)]
    else:
        code, msg = MESSAGES.get(exc.reason, ("51000", "Parameter error"))
    return Refusal(code, msg)


def check_size(contract: Contract, sz: Decimal, *, market: bool) -> None:
    """OKX's size rules, in contracts: positive, a multiple of ``lotSz``, at least
    ``minSz``, at most ``maxMktSz`` (market) or ``maxLmtSz``."""
    if sz <= 0:
        raise bad("sz")
    if not is_multiple(sz, LOT_SZ):
        raise Refusal(*MESSAGES[Reason.QTY_STEP])
    if market and sz > contract.max_mkt_sz:
        raise Refusal("51202", "Market - order amount exceeds the max amount")
    if sz > MAX_LMT_SZ:
        raise Refusal(*MESSAGES[Reason.QTY_TOO_LARGE])


def check_price(contract: Contract, price: Decimal, name: str) -> None:
    """A price must be a positive multiple of ``tickSz``."""
    if not contract.instrument.price_rule.is_valid(price):
        raise bad(name)
