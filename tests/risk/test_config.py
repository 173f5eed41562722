"""RiskConfig: defaults, ranges, parsing, partial merge, and durable storage."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import pytest

from testudo.db import Database
from testudo.risk.config import (
    DEFAULT_CONFIG,
    RiskConfig,
    RiskConfigError,
    load_risk_config,
    merge,
    save_risk_config,
    update_risk_config,
)


def errors_of(patch: dict[str, Any], current: RiskConfig = DEFAULT_CONFIG) -> dict[str, str]:
    with pytest.raises(RiskConfigError) as caught:
        merge(current, patch)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_defaults_are_the_issue_s() -> None:
    config = RiskConfig()
    assert config.account_risk_percent == Decimal(2)
    assert config.max_risk_amount is None and config.max_position_size is None
    assert config.max_leverage == Decimal(5)
    assert config.daily_max_drawdown_percent == Decimal(5)
    assert config.max_open_positions == 5
    assert config.require_stop_loss is True
    assert config.min_risk_reward_ratio == Decimal("1.5")
    assert config.is_default
    assert not merge(config, {"max_open_positions": 6}).is_default


def test_to_json_uses_strings_for_decimals_and_null_for_unset_caps() -> None:
    config = RiskConfig(max_risk_amount=Decimal("150.50"), max_leverage=Decimal("10.0"))
    assert config.to_json() == {
        "account_risk_percent": "2",
        "max_risk_amount": "150.5",
        "max_position_size": None,
        "max_leverage": "10",
        "daily_max_drawdown_percent": "5",
        "max_open_positions": 5,
        "require_stop_loss": True,
        "min_risk_reward_ratio": "1.5",
    }


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("account_risk_percent", ["0.0001", "100", 2, 2.5], ["0", "-1", "100.01", 0]),
        ("max_risk_amount", ["0.01", 150, "1" + "0" * 15], ["0", -1, "1" + "0" * 16, "1e15"]),
        ("max_position_size", ["0.001", 5], ["0", "-0.1"]),
        ("max_leverage", ["1", 125, "2.5"], ["0.99", "125.5", 0, 500]),
        ("daily_max_drawdown_percent", ["0.1", 100], ["0", "100.1"]),
        ("max_open_positions", [1, 1000, "7", 3.0], [0, 1001, -1, 2.5, "2.5"]),
        ("min_risk_reward_ratio", [0, "0", "1.5", 100], ["-0.1", "100.5"]),
    ],
)
def test_every_numeric_field_is_range_checked(field: str, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        merged = merge(DEFAULT_CONFIG, {field: value})
        assert getattr(merged, field) == (
            int(Decimal(str(value))) if field == "max_open_positions" else Decimal(str(value))
        )
    for value in bad:
        assert field in errors_of({field: value}), (field, value)


@pytest.mark.parametrize("value", [True, False, "yes", "true", None, [1], {"a": 1}])
def test_numbers_refuse_non_numbers(value: Any) -> None:
    for field in ("account_risk_percent", "max_leverage", "max_open_positions"):
        assert field in errors_of({field: value})


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "", "  ", "1,5", "0x10"])
def test_numeric_strings_must_be_finite_numbers(value: str) -> None:
    assert "max_leverage" in errors_of({"max_leverage": value})


def test_booleans_are_strict() -> None:
    for value in ("true", 1, 0, "false", None):
        assert errors_of({"require_stop_loss": value}) == {
            "require_stop_loss": "may not be null" if value is None else "must be true or false"
        }
    assert merge(DEFAULT_CONFIG, {"require_stop_loss": False}).require_stop_loss is False


def test_precision_is_bounded() -> None:
    assert merge(DEFAULT_CONFIG, {"max_position_size": "0.000000000000000001"})
    assert errors_of({"max_position_size": "0.0000000000000000001"}) == {
        "max_position_size": "must have at most 18 decimal places"
    }


def test_merge_is_partial_and_null_clears_only_caps() -> None:
    current = merge(DEFAULT_CONFIG, {"max_risk_amount": "150", "max_position_size": "1"})
    cleared = merge(current, {"max_risk_amount": None})
    assert cleared.max_risk_amount is None and cleared.max_position_size == Decimal(1)
    assert merge(current, {}) == current
    assert errors_of({"max_leverage": None}) == {"max_leverage": "may not be null"}


def test_unknown_fields_are_errors_but_the_legacy_atr_multiplier_is_ignored() -> None:
    assert errors_of({"max_leverge": 3}) == {"max_leverge": "unknown field"}
    assert merge(DEFAULT_CONFIG, {"default_stop_atr_multiplier": "2"}) == DEFAULT_CONFIG


def test_every_error_is_reported_at_once_in_field_order() -> None:
    with pytest.raises(RiskConfigError) as caught:
        merge(DEFAULT_CONFIG, {"zzz": 1, "max_leverage": 0, "account_risk_percent": 101})
    assert [e["field"] for e in caught.value.errors] == [
        "account_risk_percent",
        "max_leverage",
        "zzz",
    ]
    assert "account_risk_percent" in str(caught.value)


def test_the_constructor_refuses_out_of_range_values() -> None:
    with pytest.raises(RiskConfigError) as caught:
        RiskConfig(max_leverage=Decimal(0), max_open_positions=0)
    assert [e["field"] for e in caught.value.errors] == ["max_leverage", "max_open_positions"]
    with pytest.raises(RiskConfigError):
        RiskConfig(require_stop_loss=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RiskConfig(max_leverage="lots")


# --- storage ------------------------------------------------------------------------------------


async def new_user(db: Database) -> str:
    row = await db.fetch_one(
        "INSERT INTO users (wallet_address) VALUES (%s) RETURNING id::text AS id",
        ("0x" + secrets.token_hex(20),),
    )
    assert row is not None
    return str(row["id"])


async def test_defaults_until_saved_then_the_saved_config(db: Database) -> None:
    user = await new_user(db)
    assert await load_risk_config(db, user) == DEFAULT_CONFIG
    config = RiskConfig(
        account_risk_percent=Decimal("0.75"),
        max_risk_amount=Decimal("150"),
        max_position_size=Decimal("0.5"),
        max_leverage=Decimal(20),
        daily_max_drawdown_percent=Decimal(3),
        max_open_positions=2,
        require_stop_loss=False,
        min_risk_reward_ratio=Decimal(0),
    )
    await save_risk_config(db, user, config)
    assert await load_risk_config(db, user) == config
    await save_risk_config(db, user, DEFAULT_CONFIG)
    assert await load_risk_config(db, user) == DEFAULT_CONFIG


async def test_update_merges_into_the_stored_row_and_stores_nothing_on_error(
    db: Database,
) -> None:
    user, other = await new_user(db), await new_user(db)
    first = await update_risk_config(db, user, {"max_leverage": "3"})
    assert first == RiskConfig(max_leverage=Decimal(3))
    second = await update_risk_config(db, user, {"max_risk_amount": 40})
    assert second == RiskConfig(max_leverage=Decimal(3), max_risk_amount=Decimal(40))
    with pytest.raises(RiskConfigError):
        await update_risk_config(db, user, {"max_leverage": "2", "max_open_positions": 0})
    assert await load_risk_config(db, user) == second
    with pytest.raises(RiskConfigError):
        await update_risk_config(db, other, {"max_leverage": 0})
    rows = await db.fetch_all("SELECT user_id FROM risk_configs WHERE user_id = %s", (other,))
    assert rows == []
    assert await load_risk_config(db, other) == DEFAULT_CONFIG
