"""Run-time fault injection: latency, errors, rate limits, timeouts and outages.

Pure decision logic: the server asks ``Faults.plan`` what to do with a request and carries
the plan out (sleeping, answering early, or withholding the answer).
"""

from __future__ import annotations

import enum
import math
import random
from collections import deque
from collections.abc import Mapping, Sequence

import attrs


class FaultMode(enum.Enum):
    """Kinds of fault."""

    LATENCY = "latency"
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    OUTAGE = "outage"
    REJECT = "reject"
    OFF = "off"


class FaultError(ValueError):
    """A fault specification is invalid."""


@attrs.frozen
class FaultRule:
    """One active fault on an exchange prefix (``*`` = every exchange) and endpoint."""

    exchange: str
    mode: FaultMode
    endpoint: str | None = None
    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 1.0
    status: int = 503
    retry_after: int = 1
    limit: int | None = None
    window_ms: int = 1000
    timeout_ms: int = 30_000
    apply: bool = False
    body: str | None = None
    code: str | None = None
    message: str | None = None
    count: int | None = None
    skip: int = 0

    def matches(self, exchange: str, keys: Sequence[str]) -> bool:
        """Whether the rule covers a request to ``exchange`` described by ``keys``."""
        if self.exchange not in ("*", exchange):
            return False
        if self.endpoint is None:
            return True
        if self.endpoint.endswith("*"):
            return any(key.startswith(self.endpoint[:-1]) for key in keys)
        return self.endpoint in keys

    def public(self) -> dict[str, object]:
        """JSON shape of the rule."""
        data = attrs.asdict(self)
        data["mode"] = self.mode.value
        return data


@attrs.frozen
class FaultResponse:
    """An answer the server gives instead of the exchange's."""

    status: int
    mode: FaultMode
    retry_after: int | None = None
    body: str | None = None
    code: str | None = None  # the venue's error code (mode ``reject``)
    message: str | None = None  # the venue's error message (mode ``reject``)


@attrs.frozen
class FaultPlan:
    """What to do with one request."""

    delay_s: float = 0.0
    response: FaultResponse | None = None
    hang_s: float | None = None
    apply_first: bool = False


NO_FAULT = FaultPlan()
# The modes that answer instead of the exchange, in order of precedence.
ANSWERING_MODES = (
    FaultMode.OUTAGE,
    FaultMode.REJECT,
    FaultMode.RATE_LIMIT,
    FaultMode.ERROR,
    FaultMode.TIMEOUT,
)


def rule_from_json(data: Mapping[str, object]) -> FaultRule:
    """Build a rule from the control API's JSON (raise ``FaultError``)."""
    try:
        mode = FaultMode(str(data["mode"]))
        exchange = str(data.get("exchange", "*"))
    except (KeyError, ValueError) as exc:
        raise FaultError(f"bad fault: {exc}") from exc
    endpoint = data.get("endpoint")
    default_status = {
        FaultMode.RATE_LIMIT: 429,
        FaultMode.TIMEOUT: 504,
        FaultMode.REJECT: 400,
    }.get(mode, 503)
    try:
        rule = FaultRule(
            exchange=exchange,
            mode=mode,
            endpoint=None if endpoint is None else str(endpoint),
            latency_ms=int(_num(data, "latency_ms", 0)),
            jitter_ms=int(_num(data, "jitter_ms", 0)),
            error_rate=float(_num(data, "error_rate", 1.0)),
            status=int(_num(data, "status", default_status)),
            retry_after=int(_num(data, "retry_after", 1)),
            limit=None if data.get("limit") is None else int(_num(data, "limit", 0)),
            window_ms=int(_num(data, "window_ms", 1000)),
            timeout_ms=int(_num(data, "timeout_ms", 30_000)),
            apply=bool(data.get("apply", False)),
            body=None if data.get("body") is None else str(data["body"]),
            code=None if data.get("code") is None else str(data["code"]),
            message=None if data.get("message") is None else str(data["message"]),
            count=None if data.get("count") is None else int(_num(data, "count", 0)),
            skip=int(_num(data, "skip", 0)),
        )
    except (TypeError, ValueError) as exc:
        raise FaultError(f"bad fault parameter: {exc}") from exc
    if not 0.0 <= rule.error_rate <= 1.0:
        raise FaultError("error_rate must be within 0..1")
    if rule.latency_ms < 0 or rule.jitter_ms < 0 or rule.timeout_ms < 0:
        raise FaultError("durations must not be negative")
    if not 100 <= rule.status <= 599:
        raise FaultError("status must be an HTTP status")
    if rule.count is not None and rule.count < 1:
        raise FaultError("count must be at least 1")
    if rule.skip < 0:
        raise FaultError("skip must not be negative")
    if rule.mode is FaultMode.REJECT and rule.code is None:
        raise FaultError("a reject fault needs the venue's error code")
    return rule


def _num(data: Mapping[str, object], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FaultError(f"{key} must be a number")
    return float(value)


class Faults:
    """The set of active fault rules."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._rng = random.Random(f"faults:{seed}")
        self._hits: dict[FaultRule, deque[int]] = {}
        self._left: dict[int, int] = {}  # id(rule) -> requests it still applies to (``count``)
        self._to_skip: dict[int, int] = {}  # id(rule) -> matching requests still let through

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """Active rules, oldest first."""
        return tuple(self._rules)

    def apply(self, rule: FaultRule) -> None:
        """Add a rule; mode ``off`` removes the exchange's (and endpoint's, if given) rules."""
        if rule.mode is FaultMode.OFF:
            self._rules = [
                r
                for r in self._rules
                if not (
                    (rule.exchange == "*" or r.exchange == rule.exchange)
                    and (rule.endpoint is None or r.endpoint == rule.endpoint)
                )
            ]
            self._forget_lapsed()
            return
        self._rules.append(rule)
        if rule.count is not None:
            self._left[id(rule)] = rule.count
        if rule.skip:
            self._to_skip[id(rule)] = rule.skip

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()
        self._hits.clear()
        self._left.clear()
        self._to_skip.clear()

    def _forget_lapsed(self) -> None:
        self._hits = {r: q for r, q in self._hits.items() if r in self._rules}
        alive = {id(r) for r in self._rules}
        self._left = {k: v for k, v in self._left.items() if k in alive}
        self._to_skip = {k: v for k, v in self._to_skip.items() if k in alive}

    def _skips(self, rule: FaultRule) -> bool:
        """Let this matching request through untouched while the rule's ``skip`` lasts."""
        left = self._to_skip.get(id(rule), 0)
        if left <= 0:
            return False
        self._to_skip[id(rule)] = left - 1
        return True

    def _spend(self, rule: FaultRule) -> None:
        """Count one request ``rule`` applied to; a rule with a ``count`` lapses at zero."""
        if rule.count is None:
            return
        left = self._left.get(id(rule), 0) - 1
        self._left[id(rule)] = left
        if left <= 0:
            self._rules = [r for r in self._rules if r is not rule]
            self._forget_lapsed()

    def plan(self, exchange: str, keys: Sequence[str], now_ms: int) -> FaultPlan:
        """Decide the fate of a request to ``exchange`` described by ``keys``."""
        matching = [r for r in self._rules if r.matches(exchange, keys) and not self._skips(r)]
        if not matching:
            return NO_FAULT
        delay_ms = 0
        for rule in matching:
            if rule.mode is FaultMode.LATENCY:
                jitter = self._rng.uniform(0, rule.jitter_ms) if rule.jitter_ms else 0.0
                delay_ms += int(rule.latency_ms + jitter)
                self._spend(rule)
        delay = delay_ms / 1000
        for mode in ANSWERING_MODES:
            for rule in (r for r in matching if r.mode is mode):
                plan = self._decide(rule, delay, now_ms)
                if plan is not None:
                    self._spend(rule)
                    return plan
        return FaultPlan(delay_s=delay)

    def _decide(self, rule: FaultRule, delay: float, now_ms: int) -> FaultPlan | None:
        if rule.mode is FaultMode.REJECT:
            if self._rng.random() >= rule.error_rate:
                return None
            response = FaultResponse(
                rule.status, rule.mode, body=rule.body, code=rule.code, message=rule.message
            )
            return FaultPlan(delay, response)
        if rule.mode is FaultMode.OUTAGE:
            return FaultPlan(delay, FaultResponse(rule.status, rule.mode, body=rule.body))
        if rule.mode is FaultMode.RATE_LIMIT and rule.limit is not None:
            hits = self._hits.setdefault(rule, deque())
            while hits and hits[0] <= now_ms - rule.window_ms:
                hits.popleft()
            if len(hits) < rule.limit:
                hits.append(now_ms)
                return None
            wait = max(1, math.ceil((hits[0] + rule.window_ms - now_ms) / 1000))
            return FaultPlan(delay, FaultResponse(rule.status, rule.mode, wait, rule.body))
        if self._rng.random() >= rule.error_rate:
            return None
        if rule.mode is FaultMode.RATE_LIMIT:
            response = FaultResponse(rule.status, rule.mode, rule.retry_after, rule.body)
            return FaultPlan(delay, response)
        if rule.mode is FaultMode.ERROR:
            return FaultPlan(delay, FaultResponse(rule.status, rule.mode, body=rule.body))
        return FaultPlan(
            delay,
            FaultResponse(rule.status, rule.mode, body=rule.body),
            hang_s=rule.timeout_ms / 1000,
            apply_first=rule.apply,
        )
