"""Trading settings read from the environment: numbers of seconds, refused clearly otherwise."""

from __future__ import annotations

import pytest

from testudo.cli import build_parser
from testudo.config import ConfigError, Settings, from_args


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(f"TESTUDO_{name}", value)
    return from_args(build_parser().parse_args(["serve"]))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACCOUNT_STATE_MAX_AGE", "PRICE_MAX_AGE", "TRADE_POLL_INTERVAL"):
        monkeypatch.delenv(f"TESTUDO_{name}", raising=False)
    settings = settings_with(monkeypatch)
    assert settings.account_state_max_age == 5.0
    assert settings.price_max_age == 2.0
    assert settings.trade_poll_interval == 2.0


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(
        monkeypatch, ACCOUNT_STATE_MAX_AGE="0", PRICE_MAX_AGE="0.5", TRADE_POLL_INTERVAL="1"
    )
    assert settings.account_state_max_age == 0.0
    assert settings.price_max_age == 0.5
    assert settings.trade_poll_interval == 1.0


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "inf"])
def test_bad_values_are_one_clear_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    with pytest.raises(ConfigError, match="TESTUDO_ACCOUNT_STATE_MAX_AGE"):
        settings_with(monkeypatch, ACCOUNT_STATE_MAX_AGE=bad)


def test_trusted_proxies_and_sign_in_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(
        monkeypatch,
        TRUSTED_PROXIES="10.0.0.0/8, ::1",
        SIGNIN_PER_CLIENT_PER_MINUTE="3",
        SIGNIN_PER_SECOND="7",
    )
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert (settings.signin_per_client_per_minute, settings.signin_per_second) == (3, 7)
    flag = from_args(build_parser().parse_args(["serve", "--trusted-proxies", "192.0.2.7"]))
    assert [str(n) for n in flag.trusted_proxies] == ["192.0.2.7/32"]
    with pytest.raises(ConfigError, match="--trusted-proxies"):
        settings_with(monkeypatch, TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")
    with pytest.raises(ConfigError, match="TESTUDO_SIGNIN_PER_SECOND"):
        settings_with(monkeypatch, TRUSTED_PROXIES="", SIGNIN_PER_SECOND="0")
