"""WOO X error answers: ``{"success": false, "code": ..., "message": ...}`` and their HTTP status.

The codes are the ones WOO X returns and ccxt's ``woo`` error table knows, so ccxt raises the
same exception class it raises against the real venue. The gateway codes (``-1000``..``-1105``)
come with the HTTP status WOO's API family documents; the order-engine (``302xxx``) and
algo-service (``317xxx``) codes come with 400.
"""

from __future__ import annotations

from testudo.sim.dialects.wire import WireResponse, json_response
from testudo.sim.model import Reason, Rejected

UNKNOWN = -1000
BAD_KEY_FORMAT = -1001
UNAUTHORIZED = -1002
TOO_MANY_REQUESTS = -1003
INVALID_PARAM = -1005
NOT_FOUND = -1006
DUPLICATE = -1007
QUANTITY_TOO_HIGH = -1008
RPC_REJECT = -1012
RISK_TOO_HIGH = -1101
MIN_NOTIONAL = -1102
PRICE_FILTER = -1103
SIZE_FILTER = -1104
DUPLICATE_CLIENT_ID = 302117
REDUCE_ONLY_POSITION = 302138
POSITION_SIDE_MODE = 302186
LEVERAGE_MARGIN = 302305
INVALID_LEVERAGE = 302306
TRIGGER_ABOVE = 317150
TRIGGER_BELOW = 317151
ALGO_NOT_FOUND = 317152
UNSUPPORTED_SYMBOL = 317155
UNSUPPORTED_ALGO_TYPE = 317167
ALGO_GONE = 317184

HTTP_STATUS = {
    UNKNOWN: 500,
    BAD_KEY_FORMAT: 401,
    UNAUTHORIZED: 401,
    TOO_MANY_REQUESTS: 429,
    DUPLICATE: 409,
}

MESSAGES = {
    UNKNOWN: "An unknown error occurred while processing the request.",
    BAD_KEY_FORMAT: "The api key or secret is in wrong format.",
    UNAUTHORIZED: (
        "API key or secret is invalid, it may because key have insufficient permission or the "
        "key is expired/revoked."
    ),
    TOO_MANY_REQUESTS: "Rate limit exceed.",
    INVALID_PARAM: "Some parameters are in wrong format for api.",
    NOT_FOUND: "The data is not found in server.",
    QUANTITY_TOO_HIGH: "The quantity of settlement is too high than you can request.",
    RPC_REJECT: (
        "The place/cancel order request is rejected by internal module, it may because the "
        "account is in liquidation or other internal errors. Please try again in a few seconds."
    ),
    RISK_TOO_HIGH: (
        "The risk exposure for client is too high, it may cause by sending too big order or the "
        "leverage is too low. please refer to client info to check the current exposure."
    ),
    MIN_NOTIONAL: "The order value (price * size) is too small.",
    PRICE_FILTER: "The order price is not following the tick size rule for the symbol.",
    SIZE_FILTER: "The order quantity is not following the step size rule for the symbol.",
    DUPLICATE_CLIENT_ID: "The client_order_id is repeated.",
    REDUCE_ONLY_POSITION: "Insufficient position for reduce only order.",
    POSITION_SIDE_MODE: (
        "The position side you've used is not compatible with your current position mode."
    ),
    LEVERAGE_MARGIN: (
        "Failed to update cross margin leverages due to insufficient margin. Please top up or "
        "close your cross positions to proceed."
    ),
    INVALID_LEVERAGE: "Invalid leverage, please provide positive integer leverage",
    ALGO_GONE: "The order cannot be found, or it is already completed.",
}

# What each engine refusal is answered with.
REJECTIONS: dict[Reason, int] = {
    Reason.UNKNOWN_SYMBOL: UNSUPPORTED_SYMBOL,
    Reason.UNKNOWN_ACCOUNT: UNAUTHORIZED,
    Reason.UNKNOWN_ORDER: NOT_FOUND,
    Reason.INVALID_QTY: INVALID_PARAM,
    Reason.QTY_STEP: SIZE_FILTER,
    Reason.QTY_TOO_SMALL: SIZE_FILTER,
    Reason.QTY_TOO_LARGE: QUANTITY_TOO_HIGH,
    Reason.INVALID_PRICE: PRICE_FILTER,
    Reason.PRICE_REQUIRED: INVALID_PARAM,
    Reason.MIN_NOTIONAL: MIN_NOTIONAL,
    Reason.INSUFFICIENT_MARGIN: RISK_TOO_HIGH,
    Reason.REDUCE_ONLY_REJECTED: REDUCE_ONLY_POSITION,
    Reason.DUPLICATE_CLIENT_ID: DUPLICATE_CLIENT_ID,
    Reason.POST_ONLY_WOULD_MATCH: RPC_REJECT,
    Reason.INVALID_LEVERAGE: INVALID_LEVERAGE,
}


class WooError(Exception):
    """A refused request; ``message`` defaults to WOO's text for ``code``."""

    def __init__(self, code: int, message: str | None = None) -> None:
        text = message if message is not None else MESSAGES.get(code, "")
        super().__init__(f"{code} {text}")
        self.code = code
        self.message = text

    @property
    def status(self) -> int:
        """The HTTP status WOO answers this code with."""
        return HTTP_STATUS.get(self.code, 400)


def missing(name: str) -> WooError:
    """A mandatory parameter is absent (WOO: ``-1005 <name> must not be blank``)."""
    return WooError(INVALID_PARAM, f"{name} must not be blank")


def from_rejection(exc: Rejected) -> WooError:
    """The WOO error for an engine refusal."""
    code = REJECTIONS.get(exc.reason, UNKNOWN)
    if exc.reason is Reason.MIN_NOTIONAL:
        limit = exc.detail.rsplit("< ", 1)[-1]
        return WooError(code, f"The order value should be greater or equal to {limit}.")
    if exc.reason is Reason.UNKNOWN_SYMBOL:
        return WooError(code, f"unsupported symbol: {exc.detail}")
    return WooError(code)


def error_response(
    code: int | str, message: str, status: int, headers: dict[str, str] | None = None
) -> WireResponse:
    """WOO's error envelope."""
    return json_response({"success": False, "code": code, "message": message}, status, headers)
