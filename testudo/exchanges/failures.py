"""What a failed exchange call means for what Testudo does next (pure).

Every failure of an order call falls in exactly one class:

* ``transient``: the venue did not do the work and says so (rate limit, overload, a clock
  off by more than the receive window). Retried with backoff, never answered with a market
  exit.
* ``unknown``: the request may or may not have been carried out (timeout, 5xx, connection
  lost). The order is looked up by its client order id before anything is sent again.
* ``refused``: the venue definitively refused this order (would trigger at once, margin,
  maximum stop orders, position side...). A documented alternative or an emergency exit
  follows, with the venue's reason on the group and in an event.
* ``auth_lost``: the credentials (an API key, a Hyperliquid agent) no longer work. The account
  needs re-authorisation; groups wait instead of firing exits they could not place anyway.

ccxt's exception classes give the default; each venue module refines it from the venue's own
error code (:meth:`testudo.exchanges.venues.base.Venue.classify`).
"""

from __future__ import annotations

import enum
import re

import attrs
import ccxt


class FailureKind(enum.StrEnum):
    TRANSIENT = "transient"
    UNKNOWN = "unknown"
    REFUSED = "refused"
    AUTH_LOST = "auth_lost"


@attrs.frozen
class Classified:
    """A failure's class, a short stable reason (``rate_limited``, ``would_trigger``,
    ``max_stop_orders``...) and the venue's own error code when it gave one."""

    kind: FailureKind
    reason: str
    code: str | None = None


_CODE = re.compile(r'"(?:code|retCode|sCode)"\s*:\s*"?(-?\d+)')


def venue_code(exc: BaseException) -> str | None:
    """The numeric error code a venue put in its JSON error body, if ccxt kept it."""
    found = _CODE.search(str(exc))
    return None if found is None else found[1]


# ccxt's classes, most specific first: (class, kind, reason).
_BY_CLASS: tuple[tuple[type[BaseException], FailureKind, str], ...] = (
    (ccxt.RateLimitExceeded, FailureKind.TRANSIENT, "rate_limited"),
    (ccxt.DDoSProtection, FailureKind.TRANSIENT, "rate_limited"),
    (ccxt.InvalidNonce, FailureKind.TRANSIENT, "clock"),
    (ccxt.OnMaintenance, FailureKind.TRANSIENT, "maintenance"),
    (ccxt.RequestTimeout, FailureKind.UNKNOWN, "timeout"),
    (ccxt.ExchangeNotAvailable, FailureKind.UNKNOWN, "unavailable"),
    (ccxt.NetworkError, FailureKind.UNKNOWN, "network"),
    (ccxt.AuthenticationError, FailureKind.AUTH_LOST, "invalid_credentials"),
    (ccxt.PermissionDenied, FailureKind.AUTH_LOST, "permission_denied"),
    (ccxt.AccountNotEnabled, FailureKind.AUTH_LOST, "account_not_enabled"),
    (ccxt.AccountSuspended, FailureKind.AUTH_LOST, "account_suspended"),
    (ccxt.InsufficientFunds, FailureKind.REFUSED, "insufficient_funds"),
    (ccxt.OrderImmediatelyFillable, FailureKind.REFUSED, "would_trigger"),
    (ccxt.OrderNotFound, FailureKind.REFUSED, "order_not_found"),
    (ccxt.DuplicateOrderId, FailureKind.UNKNOWN, "duplicate_client_id"),
    (ccxt.BadSymbol, FailureKind.REFUSED, "bad_symbol"),
    (ccxt.InvalidOrder, FailureKind.REFUSED, "invalid_order"),
    (ccxt.BadRequest, FailureKind.REFUSED, "bad_request"),
    (ccxt.ArgumentsRequired, FailureKind.REFUSED, "bad_request"),
    (ccxt.NotSupported, FailureKind.REFUSED, "not_supported"),
    (ccxt.NoChange, FailureKind.REFUSED, "no_change"),
    (ccxt.ManualInteractionNeeded, FailureKind.REFUSED, "manual_interaction"),
    (ccxt.OperationRejected, FailureKind.REFUSED, "rejected"),
    (ccxt.ExchangeError, FailureKind.UNKNOWN, "exchange_error"),
    (OSError, FailureKind.UNKNOWN, "network"),
)


def classify_ccxt(exc: BaseException) -> Classified:
    """The class ccxt's exception type implies (a generic ExchangeError, or anything not
    from ccxt, is ``unknown``: looked up before anything is re-sent)."""
    code = venue_code(exc)
    for cls, kind, reason in _BY_CLASS:
        if isinstance(exc, cls):
            return Classified(kind, reason, code)
    return Classified(FailureKind.UNKNOWN, "exchange_error", code)


def by_code(
    exc: BaseException, table: dict[str, tuple[FailureKind, str]], fallback: Classified
) -> Classified:
    """``table[code]`` for the venue code in ``exc`` when listed, else ``fallback``."""
    code = venue_code(exc)
    if code is not None and code in table:
        kind, reason = table[code]
        return Classified(kind, reason, code)
    return fallback


def by_message(
    exc: BaseException, table: tuple[tuple[str, FailureKind, str], ...], fallback: Classified
) -> Classified:
    """The first ``(fragment, kind, reason)`` whose fragment the error message contains
    (venues such as Hyperliquid report errors as text only)."""
    text = str(exc)
    for fragment, kind, reason in table:
        if fragment in text:
            return Classified(kind, reason, fallback.code)
    return fallback
