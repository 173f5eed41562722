"""What a failure to reach an account's actor means for the exchange call it carried.

The account's actor is restarted, passivated or stopped like any other; a trade group must
never read that as the exchange's answer. A request the actor never handled
(:class:`ActorStopped`) reached no exchange: it is *transient*, safe to send again. A request
cut off while being handled (interrupted, crashed, timed out) may have reached the exchange:
a write is then *outcome unknown* (looked up by client order id before anything is re-sent),
a read is transient. Neither is ever a refusal, which could fire an emergency exit.
"""

from __future__ import annotations

from actors.runtime.errors import ActorError, ActorStopped
from testudo.exchanges.errors import ExchangeFailure
from testudo.exchanges.failures import FailureKind

RESTARTING = "The account's connection is restarting; retry."
INTERRUPTED = "The account's connection was interrupted during the request; retry."


def failure_of(error: ActorError, *, write: bool) -> ExchangeFailure:
    """The exchange failure a caller sees when the account's actor did not answer."""
    if isinstance(error, ActorStopped):
        return ExchangeFailure(
            "account_unavailable",
            RESTARTING,
            transient=True,
            kind=FailureKind.TRANSIENT,
            reason="account_restarting",
        )
    return ExchangeFailure(
        "account_unavailable",
        INTERRUPTED,
        transient=True,
        kind=FailureKind.UNKNOWN if write else FailureKind.TRANSIENT,
        reason="account_interrupted",
    )
