"""OKX v5 error codes and what each one means for the next step (pure).

OKX wraps every answer in ``{"code", "msg", "data"}``. A call acting on orders (place, cancel,
algo place and cancel) answers one item per order with its own ``sCode`` / ``sMsg``, and a
top-level ``code`` of ``1`` ("all operations failed") that says nothing about why. ccxt keeps
the whole body in the exception's text; the generic reader
(:func:`~testudo.exchanges.failures.venue_code`) would find that ``1`` first, so the order's
``sCode`` is read here before the top-level code. Then the code table, then ccxt's class.

``51000`` ("Parameter {name} error") is OKX's catch-all parameter error, refined by the
parameter it names (``posSide``: the account is in long/short mode).

Sources: OKX's v5 error-code list (REST API error codes 50000-59999), ccxt's ``okx.exceptions``
table, and the simulator's OKX dialect (every code it answers, docs/simulator.md).
"""

from __future__ import annotations

import re

from testudo.exchanges.failures import Classified, FailureKind, classify_ccxt

T, U, R, A = (
    FailureKind.TRANSIENT,
    FailureKind.UNKNOWN,
    FailureKind.REFUSED,
    FailureKind.AUTH_LOST,
)

CODES: dict[str, tuple[FailureKind, str]] = {
    # Nothing was done; retry after a backoff.
    "50011": (T, "rate_limited"),  # "Too Many Requests" (HTTP 429)
    "50061": (T, "rate_limited"),  # the sub-account's order rate limit
    "51113": (T, "rate_limited"),  # market-price close requests too frequent
    "50013": (T, "overloaded"),  # "Systems are busy. Please try again later."
    "50102": (T, "clock"),  # "Timestamp request expired"
    "50112": (T, "clock"),  # "Invalid OK-ACCESS-TIMESTAMP"
    # Maybe done: look the order up by its client id before anything is sent again.
    "50001": (U, "unavailable"),  # "Service temporarily unavailable"
    "50004": (U, "timeout"),  # "Endpoint request timeout" (the order's outcome is unknown)
    "50005": (U, "unavailable"),  # API offline
    "50026": (U, "exchange_error"),  # "System error. Try again later"
    "51149": (U, "timeout"),  # "Order timed out. Please try again."
    "51016": (U, "duplicate_client_id"),  # clOrdId of a live order: a retry that landed
    # Credentials.
    "50100": (A, "api_frozen"),  # "API frozen, please contact customer service"
    "50101": (A, "invalid_credentials"),  # the key belongs to another environment
    "50103": (A, "invalid_credentials"),  # OK-ACCESS-KEY missing
    "50104": (A, "invalid_passphrase"),  # OK-ACCESS-PASSPHRASE missing
    "50105": (A, "invalid_passphrase"),  # OK-ACCESS-PASSPHRASE incorrect
    "50106": (A, "invalid_signature"),  # OK-ACCESS-SIGN missing
    "50107": (A, "invalid_credentials"),  # OK-ACCESS-TIMESTAMP missing
    "50110": (A, "ip_not_allowed"),  # the key is bound to other IPs
    "50111": (A, "invalid_credentials"),  # unknown API key
    "50113": (A, "invalid_signature"),
    "50114": (A, "invalid_credentials"),  # "Invalid authorization"
    "50119": (A, "invalid_credentials"),  # "API key doesn't exist"
    "50120": (A, "permission_denied"),  # the key lacks the permission (read-only key)
    "50007": (A, "account_suspended"),
    "51009": (A, "account_suspended"),  # order placement blocked by the platform
    # Refusals.
    "51277": (R, "would_trigger"),  # TP trigger above the last price (a buy)
    "51278": (R, "would_trigger"),  # SL trigger below the last price (a buy)
    "51279": (R, "would_trigger"),  # TP trigger below the last price (a sell)
    "51280": (R, "would_trigger"),  # SL trigger above the last price (a sell)
    "51261": (R, "max_stop_orders"),  # too many pending stop orders
    "51169": (R, "reduce_only_rejected"),  # no position in this direction to reduce
    "51170": (R, "reduce_only_rejected"),  # reduce-only in the position's own direction
    "51205": (R, "reduce_only_rejected"),  # "Reduce-Only is not available"
    "51008": (R, "insufficient_funds"),  # insufficient margin
    "51119": (R, "insufficient_funds"),  # insufficient balance
    "51006": (R, "price_band"),  # order price outside the price limit
    "51121": (R, "lot_size"),  # not a multiple of the lot size
    "51020": (R, "quantity"),  # below the minimum amount
    "51202": (R, "quantity"),  # market order above the maximum amount
    "51203": (R, "quantity"),  # above the limit
    "51204": (R, "bad_request"),  # a limit order without a price
    "51019": (R, "post_only"),
    "51004": (R, "position_limit"),  # above the current tier's limit
    "51102": (R, "max_open_orders"),
    "51400": (R, "order_not_found"),  # cancel: filled, cancelled or unknown
    "51401": (R, "order_not_found"),  # already cancelled
    "51402": (R, "order_not_found"),  # already completed
    "51603": (R, "order_not_found"),  # "Order does not exist"
    "51001": (R, "bad_symbol"),
    "51010": (R, "account_mode"),  # the account mode does not support the call
    "59102": (R, "leverage"),  # above the instrument's maximum
    "50014": (R, "bad_request"),  # a required parameter is missing
    "50015": (R, "bad_request"),
    "51000": (R, "bad_request"),  # parameters (refined by the parameter below)
}

# ``51000`` ("Parameter {name} error") refined by the parameter it names.
PARAMETERS: dict[str, tuple[FailureKind, str]] = {
    "posSide": (R, "hedge_mode"),
    "sz": (R, "quantity"),
    "px": (R, "tick_size"),
    "instId": (R, "bad_symbol"),
    "clOrdId": (R, "bad_client_id"),
    "algoClOrdId": (R, "bad_client_id"),
    "lever": (R, "leverage"),
}

PARAMETER_ERROR = "51000"
# Generic outcomes of an order call: "all operations failed", "partially succeeded".
ENVELOPE_CODES = frozenset({"1", "2"})
_ITEM_CODE = re.compile(r'"sCode"\s*:\s*"([1-9]\d*)"')
_TOP = re.compile(r'"code"\s*:\s*"(\d+)"')
_PARAMETER = re.compile(r"Parameter (\w+) error")


def okx_code(text: str) -> str | None:
    """OKX's own code in an error text: the first failed item's ``sCode``, else the
    top-level ``code`` unless it is only the envelope's "all/some failed"."""
    item = _ITEM_CODE.search(text)
    if item is not None:
        return item[1]
    top = _TOP.search(text)
    if top is None or top[1] in ENVELOPE_CODES or top[1] == "0":
        return None
    return top[1]


def classify(exc: BaseException) -> Classified:
    """Transient, outcome unknown, refused or credentials lost, from OKX's ``sCode`` or
    ``code`` (ccxt's class when the body names neither)."""
    fallback = classify_ccxt(exc)
    text = str(exc)
    code = okx_code(text)
    if code is None:
        return Classified(fallback.kind, fallback.reason, None)
    if code == PARAMETER_ERROR:
        named = _PARAMETER.search(text)
        if named is not None and named[1] in PARAMETERS:
            kind, reason = PARAMETERS[named[1]]
            return Classified(kind, reason, code)
    if code in CODES:
        kind, reason = CODES[code]
        return Classified(kind, reason, code)
    return Classified(fallback.kind, fallback.reason, code)
