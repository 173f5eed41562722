"""WOO X error codes and what each one means for the next step (pure).

WOO answers a refusal with ``{"success": false, "code": ..., "message": ...}`` (HTTP 400 for
most, 401 for credentials, 429 for the rate limit, 500 for ``-1000``); ccxt keeps the body in
the exception's text, so :func:`~testudo.exchanges.failures.venue_code` reads the code back.
ccxt's classes are too coarse to act on: ``-1006`` ("data not found", also the answer to
cancelling an order that is already gone) is a ``BadRequest``, ``317150`` / ``317151`` (the
trigger is on the wrong side of the price) are ``InvalidOrder`` like a tick-size error,
``-1012`` ("rejected by internal module ... try again in a few seconds") is a ``BadRequest``,
and the position-mode refusal ``302186`` is not in ccxt's table at all (a bare
``ExchangeError``, which would read as "outcome unknown").

Sources: WOO X's error-code list in its API documentation, ccxt's ``woo.exceptions`` table,
and the simulator's WOO dialect (every code it answers, docs/simulator.md).
"""

from __future__ import annotations

from testudo.exchanges.failures import Classified, FailureKind, by_code, classify_ccxt, venue_code

T, U, R, A = (
    FailureKind.TRANSIENT,
    FailureKind.UNKNOWN,
    FailureKind.REFUSED,
    FailureKind.AUTH_LOST,
)

CODES: dict[str, tuple[FailureKind, str]] = {
    # Nothing was done; retry after a backoff.
    "-1003": (T, "rate_limited"),  # "Rate limit exceed." (HTTP 429)
    "-1011": (T, "unavailable"),  # maintenance, or "Can not place/cancel orders ... try again"
    "-1012": (T, "rejected_retry"),  # rejected by an internal module: "try again in a few s"
    "317178": (T, "clock"),  # the receive window is invalid
    "317179": (T, "clock"),  # the receive window is exceeded from the API timestamp
    # Maybe done: look the order up by its client id before anything is sent again.
    "-1000": (U, "exchange_error"),  # "An unknown error occurred" (HTTP 500)
    "-1007": (U, "duplicate"),  # "already exists or your request is duplicated"
    "302117": (U, "duplicate_client_id"),  # the client id of an open order: a retry landed
    "317154": (U, "exchange_error"),  # "RPC failed"
    "317168": (U, "exchange_error"),  # "Order failed due to internal service error"
    # Credentials.
    "-1001": (A, "invalid_credentials"),  # key or secret in the wrong format
    "-1002": (A, "invalid_credentials"),  # unknown, revoked or unpermitted key; bad signature
    # Refusals.
    "317150": (R, "would_trigger"),  # a buy trigger must be above the price
    "317151": (R, "would_trigger"),  # a sell trigger must be below the price
    "302138": (R, "reduce_only_rejected"),  # insufficient position for reduce only
    "302137": (R, "reduce_only_rejected"),  # not enough position for a market close
    "302186": (R, "hedge_mode"),  # the position side does not fit the position mode
    "-1101": (R, "insufficient_funds"),  # the risk exposure would be too high
    "302102": (R, "insufficient_funds"),
    "302104": (R, "insufficient_funds"),
    "302170": (R, "insufficient_funds"),
    "302305": (R, "insufficient_funds"),  # the margin does not allow this leverage
    "-1102": (R, "min_notional"),  # the order value is too small
    "-1103": (R, "tick_size"),
    "-1104": (R, "lot_size"),
    "-1008": (R, "quantity"),  # the quantity is too high
    "-1105": (R, "price_band"),  # the price is too far from the mid price
    "302306": (R, "leverage"),  # invalid leverage
    "302111": (R, "liquidation"),  # the account is being liquidated
    "-1006": (R, "order_not_found"),  # no such data (an unknown or finished order)
    "302129": (R, "order_not_found"),
    "317149": (R, "order_not_found"),
    "317152": (R, "order_not_found"),  # no algo order with that id
    "317184": (R, "order_not_found"),  # the algo order is gone or completed
    "317155": (R, "bad_symbol"),
    "317156": (R, "bad_symbol"),
    "302101": (R, "bad_symbol"),
    "317167": (R, "not_supported"),  # unsupported algo type
    "317164": (R, "bad_client_id"),  # invalid client order id
    "-1004": (R, "bad_request"),  # an unknown parameter
    "-1005": (R, "bad_request"),  # parameters in the wrong format
}

NOT_FOUND = frozenset({"-1006", "302129", "317149", "317152", "317184"})


def classify(exc: BaseException) -> Classified:
    """Transient, outcome unknown, refused or credentials lost, from WOO's own code (ccxt's
    class when the body carries none)."""
    return by_code(exc, CODES, classify_ccxt(exc))


def not_found(exc: BaseException) -> bool:
    """WOO's answer for an order it does not have (or no longer has open)."""
    return venue_code(exc) in NOT_FOUND
