"""Exchange failures as clear, stable problems (never a secret in the text).

ccxt raises a class hierarchy; :func:`failure_from` maps it onto problem codes. Messages keep
the exchange's own words but lose URLs' query strings (signatures) and are truncated.
"""

from __future__ import annotations

import re

import attrs
import ccxt

from testudo.problems import Problem

from .failures import Classified, FailureKind, classify_ccxt

#: Codes that say the exchange (or our way to it) is at fault, not the request or the account.
EXCHANGE_SIDE = frozenset(
    {
        "exchange_unreachable",
        "exchange_error",
        "rate_limited",
        "account_unavailable",
        "approval_failed",
        "not_accepted",
    }
)
#: Codes of an exchange that answered, healthy, and refused this one request.
ANSWERED = frozenset({"order_not_found", "insufficient_funds", "bad_symbol", "invalid_order"})


@attrs.frozen
class ExchangeFailure(Problem):
    """A :class:`~testudo.problems.Problem` of an exchange call, with what it means for the
    next step: ``kind`` and ``reason`` (:mod:`testudo.exchanges.failures`), ``code`` (the
    venue's own error code), ``transient`` (a *read* may simply be retried).
    """

    transient: bool = False
    kind: FailureKind = FailureKind.REFUSED
    reason: str = ""
    code: str | None = None

    @property
    def about_request(self) -> bool:
        """The request or the account is at fault (trying again as is will not help)."""
        return self.error not in EXCHANGE_SIDE


_QUERY = re.compile(r"\?[^\s\"']*")
_HEX_SECRETS = re.compile(r"0x[0-9a-fA-F]{64}")
# Where the request went (the gateway's or simulator's URL, hosts, ports) is ours, not the
# exchange's words: never echoed.
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]*")
_HOST_PORT = re.compile(r"\b(?:host|port)=(?:'[^']*'|\"[^\"]*\"|[^\s,)]+)")
_URL_PATH = re.compile(r"(?<=url: )[^\s\"')]+")
# A bracketed IPv6 address has a colon: Bybit's messages bracket plain numbers
# ("trigger_price[4850000000] >= current[4940000000]"), which are the venue's words.
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\[[0-9a-fA-F]*:[0-9a-fA-F:]*\](?::\d+)?")


def sanitize(text: str, limit: int = 300) -> str:
    """Drop URLs, hosts, ports and addresses (where the request went), query strings
    (signatures, keys) and private-key-shaped hex; truncate."""
    text = _URL_PATH.sub("<path>", _URL.sub("<url>", text))
    text = _IP.sub("<address>", _HOST_PORT.sub("<address>", text))
    text = _HEX_SECRETS.sub("0x…", _QUERY.sub("?…", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_from(
    exc: BaseException,
    exchange: str,
    retry_after: int | None = None,
    classified: Classified | None = None,
) -> ExchangeFailure:
    """The problem a ccxt exception (or network error) stands for, with its class (the
    venue's classification when given, else the one ccxt's exception type implies)."""
    failure = _problem(exc, exchange, retry_after)
    found = classified or classify_ccxt(exc)
    if found.reason == "rate_limited" and failure.error != "rate_limited":
        failure = ExchangeFailure("rate_limited", failure.detail, retry_after=retry_after or 1)
    return attrs.evolve(
        failure,
        kind=found.kind,
        reason=found.reason,
        code=found.code,
        transient=found.kind in (FailureKind.TRANSIENT, FailureKind.UNKNOWN),
    )


def _problem(exc: BaseException, exchange: str, retry_after: int | None) -> ExchangeFailure:
    detail = f"{exchange}: {sanitize(str(exc)) or type(exc).__name__}"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return ExchangeFailure("rate_limited", detail, retry_after=retry_after or 1, transient=True)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountNotEnabled):
        return ExchangeFailure("invalid_credentials", detail)
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeFailure(
            "exchange_unreachable", f"{exchange}: request timed out", transient=True
        )
    if isinstance(exc, ccxt.InsufficientFunds):
        return ExchangeFailure("insufficient_funds", detail)
    if isinstance(exc, ccxt.OrderNotFound):
        return ExchangeFailure("order_not_found", detail)
    if isinstance(exc, ccxt.BadSymbol):
        return ExchangeFailure("bad_symbol", detail)
    if isinstance(exc, ccxt.InvalidOrder):
        return ExchangeFailure("invalid_order", detail)
    if isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.NetworkError | OSError):
        return ExchangeFailure("exchange_unreachable", detail, transient=True)
    if isinstance(exc, ccxt.ExchangeError):
        return ExchangeFailure("exchange_error", detail)
    return ExchangeFailure("exchange_error", f"{exchange}: {type(exc).__name__}")


def retry_after_of(client: object) -> int | None:
    """The ``Retry-After`` seconds of the client's last response, if it sent one."""
    headers = getattr(client, "last_response_headers", None) or {}
    for name, value in dict(headers).items():
        if str(name).lower() == "retry-after":
            try:
                return max(1, int(float(value)))
            except (TypeError, ValueError):
                return None
    return None
