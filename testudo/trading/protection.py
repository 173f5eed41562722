"""The protection promise as plain functions: is a group's position covered, and what to do
when an order call fails.

Every position a group owns has a reduce-only stop resting on the exchange, or is flat, and
the group says why (:func:`protection_of`). When the exchange does not take an order, the
failure's class and reason (:mod:`testudo.exchanges.failures`) and the order's role decide the
next step (:func:`response_to`):

* transient (rate limit, overload): retry after a backoff, never a market exit;
* outcome unknown (timeout, 5xx): look the order up by its client order id first;
* credentials lost: wait for re-authorisation, never fire exits that could not be placed;
* refused: the documented alternative where there is one (free stop slots, a target as a
  plain limit order, a close re-priced from the current mark), otherwise an emergency exit.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from testudo.exchanges.failures import FailureKind

from .model import Group

BACKOFF_INITIAL = 0.5
BACKOFF_MAXIMUM = 30.0


class Response(enum.Enum):
    RETRY = "retry"  # not done: try again after a backoff
    LOOKUP = "lookup"  # maybe done: find it by client order id before anything else
    WAIT_FOR_AUTH = "wait_for_auth"  # credentials lost: wait, place nothing, exit nothing
    FAIL_GROUP = "fail_group"  # the entry was not taken: the group ends failed
    EMERGENCY_EXIT = "emergency_exit"  # no stop can rest: close the position at market
    FREE_STOP_SLOTS = "free_stop_slots"  # too many conditional orders: targets become limits
    TARGET_AS_LIMIT = "target_as_limit"  # the target's trigger was refused: rest it as a limit
    TARGET_REFUSED = "target_refused"  # the target stays unplaced; the stop still protects
    REPRICE = "reprice"  # a close was refused: price it again from the mark, retry (stop kept)
    CHECK_POSITION = "check_position"  # reduce-only refused: is the position still there?


def response_to(role: str, kind: FailureKind, reason: str, slots_freed: bool = False) -> Response:
    """What the group does after an order of ``role`` failed with (``kind``, ``reason``).

    ``slots_freed``: the targets were already turned into limit orders to make room for the
    stop, so a second "maximum stop orders" refusal leaves only the emergency exit.
    """
    if kind is FailureKind.UNKNOWN:
        return Response.LOOKUP
    if kind is FailureKind.AUTH_LOST:
        return Response.WAIT_FOR_AUTH
    if role == "entry":
        return Response.FAIL_GROUP  # a rate-limited entry is refused too: nothing is on
    if kind is FailureKind.TRANSIENT:
        return Response.RETRY
    if reason == "reduce_only_rejected":
        return Response.CHECK_POSITION
    if role == "stop_loss":
        if reason == "max_stop_orders" and not slots_freed:
            return Response.FREE_STOP_SLOTS
        return Response.EMERGENCY_EXIT
    if role == "take_profit":
        if reason in ("would_trigger", "invalid_trigger", "max_stop_orders"):
            return Response.TARGET_AS_LIMIT
        return Response.TARGET_REFUSED
    return Response.REPRICE  # a close


def backoff(attempt: int, retry_after: int | None = None) -> float:
    """Seconds before attempt ``attempt`` + 1: doubling from 0.5 s to 30 s, at least what the
    venue asked for (``Retry-After``)."""
    delay: float = min(BACKOFF_MAXIMUM, BACKOFF_INITIAL * 2.0 ** max(0, attempt - 1))
    return max(delay, float(retry_after or 0))


@attrs.frozen
class Protection:
    """Whether the group's position is covered on the exchange, and why (or why not).

    ``state``: ``flat`` (no position), ``protected`` (a reduce-only stop for the whole
    position rests on the exchange), ``unprotected`` (it does not, ``reason`` says why), or
    ``unguarded`` (the trader chose no stop).
    """

    state: str
    reason: str | None = None
    position: Decimal = Decimal(0)

    def to_json(self) -> dict[str, object]:
        return {"state": self.state, "reason": self.reason}


def protection_of(group: Group) -> Protection:
    position = group.position
    if position == 0:
        return Protection("flat", group.close_reason)
    if group.stop_price_now is None:
        return Protection("unguarded", "no stop-loss was requested", position)
    covering = [
        o
        for o in group.orders_of("stop_loss")
        if o.status == "open" and o.exchange_order_id is not None and o.quantity >= position
    ]
    if covering:
        return Protection("protected", None, position)
    return Protection("unprotected", group.waiting or group.error or "stop being placed", position)
