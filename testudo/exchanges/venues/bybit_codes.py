"""Bybit v5 error codes and what each one means for the next step (pure).

Bybit answers business errors with HTTP 200 and a ``retCode`` (ccxt keeps the whole body in
the exception's text, so :func:`~testudo.exchanges.failures.venue_code` reads it back). ccxt's
own classes are too coarse to act on: ``110092``/``110093`` (the trigger is already passed)
and ``110072`` (a duplicate ``orderLinkId``) are all ``InvalidOrder``, ``110043`` ("leverage
not modified") is a ``BadRequest``, and ``10001`` is Bybit's catch-all parameter error, whose
message says what was wrong (a hedge-mode ``positionIdx``, a missing signature header, an
unknown symbol, ...). So: the message first for ``10001``, then the code table, then ccxt's
class.

Sources: Bybit's v5 error-code list (https://bybit-exchange.github.io/docs/v5/error), ccxt
4.5.90's ``bybit.exceptions`` table, and the simulator's Bybit dialect (every code it answers,
docs/simulator.md).
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
    "10002": (T, "clock"),  # timestamp outside recv_window (InvalidNonce)
    "10006": (T, "rate_limited"),  # "Too many visits!": the per-UID limit
    "10018": (T, "rate_limited"),  # the IP limit, as a code
    "429": (T, "overloaded"),  # "high server load, please retry" (a retCode on UTA)
    # Maybe done: look the order up by its orderLinkId before anything is sent again.
    "10000": (U, "timeout"),  # "Server Timeout"
    "10016": (U, "exchange_error"),  # "Server error" / "Request timeout"
    "110072": (U, "duplicate_client_id"),  # orderLinkId of an open order: a retry that landed
    # Credentials.
    "10003": (A, "invalid_credentials"),  # unknown API key
    "10004": (A, "invalid_signature"),
    "10005": (A, "permission_denied"),  # the key lacks the permission (read-only key)
    "10010": (A, "ip_not_allowed"),  # the key is bound to other IPs
    # Refusals.
    "110092": (R, "would_trigger"),  # expect Rising, but the price is already above
    "110093": (R, "would_trigger"),  # expect Falling, but the price is already below
    "110009": (R, "max_stop_orders"),  # too many conditional orders on the symbol
    "110017": (R, "reduce_only_rejected"),  # nothing to reduce, or the position's side
    "110004": (R, "insufficient_funds"),  # wallet balance insufficient
    "110007": (R, "insufficient_funds"),  # "ab not enough for new order"
    "110012": (R, "insufficient_funds"),  # available balance not enough
    "110003": (R, "price_band"),  # order price out of the permissible range
    "110094": (R, "min_notional"),  # below the minimum order value
    "110020": (R, "max_open_orders"),  # more than 500 active orders
    "110001": (R, "order_not_found"),  # unknown or finished (on cancel: already gone)
    # Only ever answered by set-leverage, which treats it as success (the leverage is
    # already what Testudo asked for); listed so it can never read as "unknown".
    "110043": (R, "leverage_not_modified"),
    "10017": (R, "bad_request"),  # route not found
    "10001": (R, "bad_request"),  # parameters (refined by message below)
}

# ``10001`` (Bybit's catch-all parameter error) refined by its message.
MESSAGES: tuple[tuple[str, FailureKind, str], ...] = (
    ("openapi sign params error", A, "invalid_credentials"),
    ("position idx not match position mode", R, "hedge_mode"),
    ("Not supported symbols", R, "bad_symbol"),
    ("symbol invalid", R, "bad_symbol"),
    ("orderLinkId invalid", R, "bad_client_id"),
    ("exceeds minimum limit", R, "quantity"),
    ("exceeds maximum limit", R, "quantity"),
    ("qty invalid", R, "lot_size"),
    ("price invalid", R, "tick_size"),
    ("PostOnly", R, "post_only"),
    ("leverage invalid", R, "leverage"),
    ("cannot exceed 7 days", R, "window"),
)

LEVERAGE_NOT_MODIFIED = "110043"
PARAMETER_ERROR = "10001"


def classify(exc: BaseException) -> Classified:
    """Transient, outcome unknown, refused or credentials lost, from Bybit's own code and
    message (ccxt's class when the body names neither)."""
    fallback = classify_ccxt(exc)
    code = venue_code(exc)
    if code == PARAMETER_ERROR:
        text = str(exc)
        for fragment, kind, reason in MESSAGES:
            if fragment in text:
                return Classified(kind, reason, code)
    return by_code(exc, CODES, fallback)


def leverage_not_modified(exc: BaseException) -> bool:
    """Bybit's answer to a leverage that is already in force (``110043``)."""
    return venue_code(exc) == LEVERAGE_NOT_MODIFIED
