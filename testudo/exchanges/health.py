"""Health of the exchange gateway (the original's "sidecar" role), per exchange.

Exchange-account actors record the outcome of every call they make; ``/health/sidecar``
reads the aggregate. Each actor writes only its own entry (keyed by account id), so this
board is a metrics-like sink, not shared mutable state between actors.
"""

from __future__ import annotations

import time

import attrs


@attrs.frozen
class CallOutcome:
    """The last call one account made to its exchange."""

    exchange: str
    ok: bool
    latency_ms: float
    error: str | None
    at: float
    consecutive_failures: int


@attrs.frozen
class ExchangeHealth:
    """Aggregate over every account of one exchange."""

    exchange: str
    reachable: bool
    last_error: str | None
    latency_ms: float | None
    accounts: int
    checked_at: float

    def to_json(self) -> dict[str, object]:
        return {
            "exchange": self.exchange,
            "reachable": self.reachable,
            "last_error": self.last_error,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "accounts": self.accounts,
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.checked_at)),
        }


class HealthBoard:
    """Latest call outcome per account, aggregated per exchange on read."""

    def __init__(self) -> None:
        self._by_account: dict[str, CallOutcome] = {}

    def record(
        self, account_id: str, exchange: str, ok: bool, latency_ms: float, error: str | None = None
    ) -> CallOutcome:
        previous = self._by_account.get(account_id)
        failures = 0 if ok else (previous.consecutive_failures + 1 if previous else 1)
        outcome = CallOutcome(exchange, ok, latency_ms, error, time.time(), failures)
        self._by_account[account_id] = outcome
        return outcome

    def forget(self, account_id: str) -> None:
        self._by_account.pop(account_id, None)

    def get(self, account_id: str) -> CallOutcome | None:
        return self._by_account.get(account_id)

    def by_exchange(self) -> list[ExchangeHealth]:
        grouped: dict[str, list[CallOutcome]] = {}
        for outcome in self._by_account.values():
            grouped.setdefault(outcome.exchange, []).append(outcome)
        result = []
        for exchange, outcomes in sorted(grouped.items()):
            latest = max(outcomes, key=lambda o: o.at)
            errors = [o for o in outcomes if not o.ok]
            result.append(
                ExchangeHealth(
                    exchange=exchange,
                    reachable=any(o.ok for o in outcomes),
                    last_error=max(errors, key=lambda o: o.at).error if errors else None,
                    latency_ms=latest.latency_ms,
                    accounts=len(outcomes),
                    checked_at=latest.at,
                )
            )
        return result
