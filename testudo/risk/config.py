"""The per-user risk configuration (docs/risk.md): fields, ranges, merge and storage.

Defaults: 2 % account risk per trade, no absolute caps, 5x maximum leverage, 5 % daily
drawdown, 5 open positions, a stop required, a minimum reward:risk of 1.5. Every value is
range-checked (the original only checked three of them):

| field                        | type            | range                        |
|------------------------------|-----------------|------------------------------|
| ``account_risk_percent``       | decimal         | 0 < x <= 100                 |
| ``max_risk_amount``            | decimal or null | 0 < x <= 1e15 when set       |
| ``max_position_size``          | decimal or null | 0 < x <= 1e15 when set       |
| ``max_leverage``               | decimal         | 1 <= x <= 125                |
| ``daily_max_drawdown_percent`` | decimal         | 0 < x <= 100                 |
| ``max_open_positions``         | integer         | 1 <= n <= 1000               |
| ``require_stop_loss``          | boolean         | true / false (no coercion)   |
| ``min_risk_reward_ratio``      | decimal         | 0 <= x <= 100 (0 disables)   |

Numbers are accepted as JSON numbers or strings (at most 18 decimal places) and always leave
as canonical strings. A PUT is a partial update: absent fields keep their value, and an explicit
``null`` on one of the two optional caps clears it (the original treated ``null`` as absent, so
a cap once set could never be removed). ``null`` on any other field is an error, as is an
unknown field name (a typo must not be a silent no-op); ``default_stop_atr_multiplier``, which
the original accepted but never used for decisions, is tolerated and ignored.

Storage is the durable table ``risk_configs`` (migration 0005), one row per user; the original
kept the config in an UNLOGGED cache row that expired after 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import psycopg
from psycopg.rows import DictRow

from testudo.db import Database
from testudo.money import text, to_decimal
from testudo.numbers import parse_plain_decimal

FieldError = dict[str, str]

MAX_CAP = Decimal("1e15")
IGNORED_FIELDS = frozenset({"default_stop_atr_multiplier"})


class RiskConfigError(Exception):
    """Invalid configuration values: ``errors`` is a list of ``{"field", "message"}``."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _decimal(value: Any) -> Decimal:
    number = to_decimal(value)
    if number is None:
        raise TypeError(f"not a number: {value!r}")
    return number


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


@attrs.frozen
class RiskConfig:
    """One user's risk limits. Constructing an out-of-range config raises RiskConfigError."""

    account_risk_percent: Decimal = attrs.field(default=Decimal(2), converter=_decimal)
    max_risk_amount: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    max_position_size: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    max_leverage: Decimal = attrs.field(default=Decimal(5), converter=_decimal)
    daily_max_drawdown_percent: Decimal = attrs.field(default=Decimal(5), converter=_decimal)
    max_open_positions: int = 5
    require_stop_loss: bool = True
    min_risk_reward_ratio: Decimal = attrs.field(default=Decimal("1.5"), converter=_decimal)

    def __attrs_post_init__(self) -> None:
        errors = range_errors(attrs.asdict(self, recurse=False))
        if errors:
            raise RiskConfigError(errors)

    def to_json(self) -> dict[str, Any]:
        """The wire form: decimals as canonical strings, unset caps as null."""
        return {
            "account_risk_percent": text(self.account_risk_percent),
            "max_risk_amount": _maybe_text(self.max_risk_amount),
            "max_position_size": _maybe_text(self.max_position_size),
            "max_leverage": text(self.max_leverage),
            "daily_max_drawdown_percent": text(self.daily_max_drawdown_percent),
            "max_open_positions": self.max_open_positions,
            "require_stop_loss": self.require_stop_loss,
            "min_risk_reward_ratio": text(self.min_risk_reward_ratio),
        }

    @property
    def is_default(self) -> bool:
        """True when every field has its default value (onboarding's "configure risk" step)."""
        return self == DEFAULT_CONFIG


def _maybe_text(value: Decimal | None) -> str | None:
    return None if value is None else text(value)


# --- validation --------------------------------------------------------------------------------

Check = Callable[[Any], str | None]


def _between(low: Decimal, high: Decimal, *, low_open: bool) -> Check:
    def check(value: Decimal) -> str | None:
        too_low = value <= low if low_open else value < low
        if too_low or value > high:
            lower = f"greater than {text(low)}" if low_open else f"at least {text(low)}"
            return f"must be {lower} and at most {text(high)}"
        return None

    return check


@attrs.frozen
class _Field:
    kind: str  # "decimal" | "integer" | "boolean"
    check: Check | None
    nullable: bool = False


FIELDS: dict[str, _Field] = {
    "account_risk_percent": _Field("decimal", _between(Decimal(0), Decimal(100), low_open=True)),
    "max_risk_amount": _Field("decimal", _between(Decimal(0), MAX_CAP, low_open=True), True),
    "max_position_size": _Field("decimal", _between(Decimal(0), MAX_CAP, low_open=True), True),
    "max_leverage": _Field("decimal", _between(Decimal(1), Decimal(125), low_open=False)),
    "daily_max_drawdown_percent": _Field(
        "decimal", _between(Decimal(0), Decimal(100), low_open=True)
    ),
    "max_open_positions": _Field("integer", _between(Decimal(1), Decimal(1000), low_open=False)),
    "require_stop_loss": _Field("boolean", None),
    "min_risk_reward_ratio": _Field("decimal", _between(Decimal(0), Decimal(100), low_open=False)),
}


def _type_error(kind: str, value: Any) -> str | None:
    """Why ``value`` (already parsed) is not a ``kind``, or None."""
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "integer":
        return None if type(value) is int else "must be an integer"
    if not isinstance(value, Decimal) or not value.is_finite():
        return "must be a finite number"
    return None


def range_errors(values: dict[str, Any]) -> list[FieldError]:
    """Every type or range problem of a complete set of field values, in field order."""
    errors: list[FieldError] = []
    for name, spec in FIELDS.items():
        value = values[name]
        if value is None:
            if not spec.nullable:
                errors.append({"field": name, "message": "may not be null"})
            continue
        problem = _type_error(spec.kind, value)
        if problem is None and spec.check is not None:
            problem = spec.check(Decimal(value) if spec.kind == "integer" else value)
        if problem is not None:
            errors.append({"field": name, "message": problem})
    return errors


def _parse(kind: str, raw: Any) -> Any:
    """The value of a JSON ``raw`` for a field of ``kind``; ValueError with a message if not."""
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        raise ValueError("must be true or false")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ValueError("must be a number (a JSON number or a numeric string)")
    number = parse_plain_decimal(raw)  # NotPlainDecimal is a ValueError with the reason
    if kind == "integer":
        if number != number.to_integral_value():
            raise ValueError("must be an integer")
        return int(number)
    return number


def merge(current: RiskConfig, patch: dict[str, Any]) -> RiskConfig:
    """``current`` with the fields present in ``patch`` replaced (a partial update).

    An explicit ``None`` clears an optional cap. Raises :class:`RiskConfigError` listing every
    bad field (unknown names, wrong types, out-of-range values); nothing is applied then.
    """
    errors: list[FieldError] = []
    updates: dict[str, Any] = {}
    for name, raw in patch.items():
        spec = FIELDS.get(name)
        if spec is None:
            if name not in IGNORED_FIELDS:
                errors.append({"field": str(name), "message": "unknown field"})
            continue
        if raw is None:
            if spec.nullable:
                updates[name] = None
            else:
                errors.append({"field": name, "message": "may not be null"})
            continue
        try:
            updates[name] = _parse(spec.kind, raw)
        except ValueError as error:
            errors.append({"field": name, "message": str(error)})
    merged = {**attrs.asdict(current, recurse=False), **updates}
    bad = {e["field"] for e in errors}
    errors.extend(e for e in range_errors(merged) if e["field"] not in bad)
    if errors:
        order = list(FIELDS)
        errors.sort(key=lambda e: order.index(e["field"]) if e["field"] in FIELDS else len(order))
        raise RiskConfigError(errors)
    return RiskConfig(**merged)


DEFAULT_CONFIG = RiskConfig()


# --- storage -----------------------------------------------------------------------------------

COLUMNS = tuple(FIELDS)
SELECT_CONFIG = f"SELECT {', '.join(COLUMNS)} FROM risk_configs WHERE user_id = %s"
UPSERT_CONFIG = f"""
INSERT INTO risk_configs (user_id, {", ".join(COLUMNS)}, updated_at)
VALUES (%s, {", ".join("%s" for _ in COLUMNS)}, now())
ON CONFLICT (user_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)},
    updated_at = now()
"""
INSERT_DEFAULTS = f"""
INSERT INTO risk_configs (user_id, {", ".join(COLUMNS)})
VALUES (%s, {", ".join("%s" for _ in COLUMNS)})
ON CONFLICT (user_id) DO NOTHING
"""


def _from_row(row: dict[str, Any]) -> RiskConfig:
    values = {name: row[name] for name in COLUMNS}
    values["max_open_positions"] = int(values["max_open_positions"])
    return RiskConfig(**values)


def _params(user_id: str, config: RiskConfig) -> tuple[Any, ...]:
    return (user_id, *(getattr(config, name) for name in COLUMNS))


async def load_risk_config(db: Database, user_id: str) -> RiskConfig:
    """The user's saved configuration, or the defaults when they never saved one."""
    return await db.run(lambda conn: read_risk_config(conn, user_id))


def read_risk_config(conn: Any, user_id: str) -> RiskConfig:
    """:func:`load_risk_config` inside the caller's transaction."""
    return config_of(conn.execute(SELECT_CONFIG, (user_id,)).fetchone())


def config_of(row: dict[str, Any] | None) -> RiskConfig:
    """The configuration a ``SELECT_CONFIG`` row stands for (the defaults for no row)."""
    return DEFAULT_CONFIG if row is None else _from_row(row)


async def save_risk_config(db: Database, user_id: str, config: RiskConfig) -> None:
    """Store ``config`` as the user's configuration (replacing any previous one)."""
    await db.execute(UPSERT_CONFIG, _params(user_id, config))


async def update_risk_config(db: Database, user_id: str, patch: dict[str, Any]) -> RiskConfig:
    """Merge ``patch`` into the saved configuration atomically and store it; return the result.

    The row is locked for the read-merge-write, so concurrent partial updates of one user never
    lose each other's fields. Raises :class:`RiskConfigError` (nothing stored) on bad values.
    """

    def work(conn: psycopg.Connection[DictRow]) -> RiskConfig:
        conn.execute(INSERT_DEFAULTS, _params(user_id, DEFAULT_CONFIG))
        row = conn.execute(SELECT_CONFIG + " FOR UPDATE", (user_id,)).fetchone()
        if row is None:  # pragma: no cover - the row was just ensured in this transaction
            raise RuntimeError("risk config row vanished")
        merged = merge(_from_row(row), patch)
        conn.execute(UPSERT_CONFIG, _params(user_id, merged))
        return merged

    return await db.run(work)
