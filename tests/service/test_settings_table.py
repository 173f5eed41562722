"""The settings table: every setting has one row, every row works from flag and environment."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from ipaddress import ip_network
from pathlib import Path

import attrs
import pytest

from testudo.cli import build_parser
from testudo.cluster.settings import ClusterSettings
from testudo.config import TABLE, ConfigError, Settings, from_args, update_docs
from testudo.options import Option
from testudo.realtime.settings import RealtimeSettings

ROOT = Path(__file__).resolve().parents[2]

#: A value other than the default for every row: its text and what it parses to.
SAMPLES: dict[str, tuple[str, object]] = {
    "http_host": ("0.0.0.0", "0.0.0.0"),
    "http_port": ("9000", 9000),
    "ws_host": ("::1", "::1"),
    "ws_port": ("0", 0),
    "cors_origins": (
        "https://a.example, ,https://b.example",
        ("https://a.example", "https://b.example"),
    ),
    "trusted_proxies": ("10.0.0.0/8, ::1", (ip_network("10.0.0.0/8"), ip_network("::1"))),
    "log_level": ("debug", "DEBUG"),
    "max_body_bytes": ("2048", 2048),
    "shutdown_grace": ("0.5", 0.5),
    "workers": ("2", 2),
    "node_name": ("eu-1", "eu-1"),
    "data_dir": ("/srv/testudo", Path("/srv/testudo")),
    "database_url": ("postgresql://db/x", "postgresql://db/x"),
    "db_pool_size": ("3", 3),
    "siwe_domain": ("desk.example", "desk.example"),
    "siwe_uri": ("https://desk.example", "https://desk.example"),
    "siwe_chain_ids": ("1,10", (1, 10)),
    "jwt_secret": ("s" * 32, "s" * 32),
    "cookie_samesite": ("Lax", "Lax"),
    "cookie_secure": ("false", False),
    "signin_per_client_per_minute": ("3", 3),
    "signin_per_second": ("7", 7),
    "exchange_base_url": ("http://gw", "http://gw"),
    "simulated_exchanges": ("true", True),
    "sim_url": ("http://127.0.0.1:8090", "http://127.0.0.1:8090"),
    "sim_port": ("8091", 8091),
    "master_key": ("ab" * 32, "ab" * 32),
    "hyperliquid_testnet": ("yes", True),
    "exchange_timeout_ms": ("2500", 2500),
    "exchange_rate_limit": ("false", False),
    "trade_poll_interval": ("1", 1.0),
    "order_recheck_interval": ("30", 30.0),
    "poll_budget_share": ("0.25", 0.25),
    "close_slippage": ("0.1", Decimal("0.1")),
    "account_state_max_age": ("0", 0.0),
    "price_max_age": ("0.5", 0.5),
    "retention_days": ("1.5", 1.5),
    "prune_interval": ("60", 60.0),
    "prune_batch": ("100", 100),
    "safety_poll_interval": ("0.5", 0.5),
    "page_size": ("50", 50),
    "market_data": ("false", False),
    "market_data_exchange": ("Hyperliquid", "hyperliquid"),
    "market_data_interval": ("2", 2.0),
    "market_data_linger": ("0.2", 0.2),
    "send_queue": ("64", 64),
    "replay_buffer": ("100", 100),
    "close_timeout": ("60", 60.0),
    "uploads_dir": ("/srv/shared/uploads", Path("/srv/shared/uploads")),
    "lease_ttl": ("3", 3.0),
    "scan_interval": ("0.5", 0.5),
    "peer_host": ("10.0.0.5", "10.0.0.5"),
    "peer_port": ("8081", 8081),
    "peer_url": ("http://node-a.internal:8081", "http://node-a.internal:8081"),
}

#: A refused value for every row whose parser checks something beyond "any text".
BAD: dict[str, str] = {
    "http_port": "70000",
    "ws_port": "http",
    "trusted_proxies": "10.0.0.0/8, proxy.internal",
    "log_level": "chatty",
    "max_body_bytes": "0",
    "shutdown_grace": "-1",
    "workers": "0",
    "db_pool_size": "many",
    "siwe_chain_ids": "1,x",
    "cookie_samesite": "strict",
    "cookie_secure": "maybe",
    "signin_per_client_per_minute": "0",
    "signin_per_second": "1.5",
    "simulated_exchanges": "2",
    "sim_port": "-1",
    "hyperliquid_testnet": "testnet",
    "exchange_timeout_ms": "0",
    "exchange_rate_limit": "sometimes",
    "trade_poll_interval": "soon",
    "order_recheck_interval": "inf",
    "poll_budget_share": "1.5",
    "close_slippage": "0.6",
    "account_state_max_age": "nan",
    "price_max_age": "-0.1",
    "retention_days": "a week",
    "prune_interval": "-5",
    "prune_batch": "0",
    "safety_poll_interval": "never",
    "page_size": "-1",
    "market_data": "on and off",
    "market_data_exchange": "mtgox",
    "market_data_interval": "inf",
    "market_data_linger": "-1",
    "send_queue": "0",
    "replay_buffer": "none",
    "close_timeout": "nan",
    "lease_ttl": "forever",
    "scan_interval": "-1",
    "peer_port": "65536",
}


def value_of(settings: Settings, option: Option) -> object:
    holder = getattr(settings, option.section) if option.section else settings
    return getattr(holder, option.field)


def from_flags(*argv: str) -> Settings:
    return from_args(build_parser().parse_args(["serve", *argv]), {})


def from_environment(**env: str) -> Settings:
    return from_args(build_parser().parse_args(["serve"]), env)


def test_every_field_has_exactly_one_row() -> None:
    fields = {f.name for f in attrs.fields(Settings)} - {"realtime", "cluster"}
    realtime = {f.name for f in attrs.fields(RealtimeSettings)}
    cluster = {f.name for f in attrs.fields(ClusterSettings)}
    rows = [(o.section, o.field) for o in TABLE]
    assert len(rows) == len(set(rows))
    assert {f for s, f in rows if s == ""} == fields
    assert {f for s, f in rows if s == "realtime"} == realtime
    assert {f for s, f in rows if s == "cluster"} == cluster
    assert set(SAMPLES) == fields | realtime | cluster


def test_every_row_has_a_flag_and_a_variable_or_says_why() -> None:
    flags = [o.flag for o in TABLE if o.flag]
    envs = [o.env for o in TABLE if o.env]
    assert len(flags) == len(set(flags)) and len(envs) == len(set(envs))
    for option in TABLE:
        assert option.env is not None, option.field
        assert option.flag is not None or "(no flag: " in option.doc, option.field
        assert option.doc and "\n" not in option.doc


def test_documented_defaults_are_the_class_defaults() -> None:
    defaults = Settings(data_dir=Path("/unused"))
    for option in TABLE:
        if option.default:
            assert option.parse(option.default) == value_of(defaults, option), option.field
        else:
            assert option.default_doc, option.field
            derived = option.field in ("data_dir", "node_name")
            assert derived or value_of(defaults, option) in (None, ()), option


@pytest.mark.parametrize("option", TABLE, ids=lambda o: o.field)
def test_every_row_parses_from_its_flag_and_its_variable(option: Option) -> None:
    raw, expected = SAMPLES[option.field]
    assert option.env is not None
    assert value_of(from_environment(**{f"TESTUDO_{option.env}": raw}), option) == expected
    if option.flag is None:
        return
    argv = [option.flag if expected else f"--no-{option.flag[2:]}"] if option.switch else []
    settings = from_flags(*(argv or [option.flag, raw]))
    assert value_of(settings, option) == expected


@pytest.mark.parametrize("field", sorted(BAD))
def test_a_bad_value_is_one_clear_error_naming_its_source(field: str) -> None:
    option = next(o for o in TABLE if o.field == field)
    variable = f"TESTUDO_{option.env}"
    with pytest.raises(ConfigError) as from_env:
        from_environment(**{variable: BAD[field]})
    message = str(from_env.value)
    assert message.startswith(variable) and "\n" not in message
    if option.flag and not option.switch:
        with pytest.raises(ConfigError) as from_flag:
            from_flags(option.flag, BAD[field])
        assert str(from_flag.value).startswith(f"{option.flag}: ")


def test_flag_wins_over_environment_and_empty_counts_as_unset() -> None:
    args = build_parser().parse_args(["serve", "--price-max-age", "1"])
    assert from_args(args, {"TESTUDO_PRICE_MAX_AGE": "3"}).price_max_age == 1.0
    assert from_environment(TESTUDO_HTTP_PORT="").http_port == 8080
    assert from_flags("--no-market-data").realtime.market_data is False


def test_migrate_takes_the_database_flags_and_reads_every_variable() -> None:
    args = build_parser().parse_args(["migrate", "--database-url", "postgresql://db/x"])
    settings = from_args(args, {"TESTUDO_MASTER_KEY": "cd" * 32, "TESTUDO_LOG_LEVEL": "ERROR"})
    assert settings.database_url == "postgresql://db/x"
    assert (settings.master_key, settings.log_level) == ("cd" * 32, "ERROR")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["migrate", "--http-port", "1"])


def test_operations_doc_holds_exactly_the_generated_table() -> None:
    document = (ROOT / "docs" / "operations.md").read_text()
    assert update_docs(document) == document, "run: python -m testudo.config docs/operations.md"


def test_a_bad_flag_stops_the_command_with_one_line_and_status_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "testudo.cli", "serve", "--market-data-linger", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "testudo: error: --market-data-linger: must be a finite number of seconds >= 0"
    ]
