"""Service configuration: command-line flags, each also an environment variable ``TESTUDO_*``.

Precedence: flag, then environment, then default. Every option is documented in
``docs/operations.md``; :func:`from_args` turns parsed arguments into a frozen :class:`Settings`.
"""

from __future__ import annotations

import argparse
import os
from decimal import Decimal
from pathlib import Path

import attrs
import platformdirs

from testudo.net import InvalidNetwork, Network, parse_networks
from testudo.realtime.settings import RealtimeSettings, add_realtime_arguments, realtime_from_args


class ConfigError(Exception):
    """A configuration problem the operator must fix; printed as one line, exit code 2."""


def default_data_dir() -> Path:
    """Per-user data dir; ``/var/lib/testudo`` for root (docs/operations.md explains why)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/testudo")
    return Path(platformdirs.user_data_dir("testudo"))


@attrs.frozen
class Settings:
    """Everything ``testudo serve`` needs to know, resolved and validated."""

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    ws_host: str = "127.0.0.1"
    ws_port: int = 4000
    data_dir: Path = attrs.field(factory=default_data_dir)
    database_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    shutdown_grace: float = 10.0
    db_pool_size: int = 8
    siwe_domain: str | None = None
    siwe_uri: str | None = None
    siwe_chain_ids: tuple[int, ...] = (1,)
    jwt_secret: str | None = attrs.field(default=None, repr=False)
    cookie_samesite: str = "Strict"
    cookie_secure: bool = True
    exchange_base_url: str | None = None
    simulated_exchanges: bool = False
    sim_url: str | None = None
    sim_port: int = 8090
    master_key: str | None = attrs.field(default=None, repr=False)
    hyperliquid_testnet: bool = False
    exchange_timeout_ms: int = 10_000
    trade_poll_interval: float = 2.0
    account_state_max_age: float = 5.0  # seconds a decision may use kept balance/positions
    price_max_age: float = 2.0  # seconds a decision may use a kept last price
    order_recheck_interval: float = 10.0  # open orders re-read at least this often
    poll_budget_share: float = 0.5  # share of each venue's request budget polling may use
    close_slippage: Decimal = Decimal("0.05")  # bound of a close's price around the mark
    exchange_rate_limit: bool = True
    trusted_proxies: tuple[Network, ...] = ()  # peers whose X-Forwarded-For is believed
    signin_per_client_per_minute: int = 10
    signin_per_second: int = 20
    realtime: RealtimeSettings = attrs.Factory(RealtimeSettings)

    @property
    def resolved_siwe_domain(self) -> str:
        return self.siwe_domain or f"localhost:{self.http_port}"

    @property
    def resolved_siwe_uri(self) -> str:
        return self.siwe_uri or f"http://{self.resolved_siwe_domain}"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"TESTUDO_{name}")
    return value if value not in (None, "") else default


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return value


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``testudo serve`` (and the database ones of ``testudo migrate``)."""
    parser.add_argument("--http-host", default=_env("HTTP_HOST", "127.0.0.1"))
    parser.add_argument("--http-port", type=_port, default=_env("HTTP_PORT", "8080"))
    parser.add_argument("--ws-host", default=_env("WS_HOST", "127.0.0.1"))
    parser.add_argument("--ws-port", type=_port, default=_env("WS_PORT", "4000"))
    add_database_arguments(parser)
    parser.add_argument(
        "--cors-origins",
        default=_env("CORS_ORIGINS", ""),
        help="comma-separated list of allowed origins (credentials allowed)",
    )
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--siwe-domain",
        default=_env("SIWE_DOMAIN"),
        help="the domain SIWE messages must name (default localhost:<http port>)",
    )
    parser.add_argument(
        "--siwe-uri",
        default=_env("SIWE_URI"),
        help="the URI SIWE messages must name (default http://<domain>)",
    )
    parser.add_argument(
        "--siwe-chain-ids",
        default=_env("SIWE_CHAIN_IDS", "1"),
        help="comma-separated chain ids accepted in SIWE messages",
    )
    parser.add_argument(
        "--cookie-samesite",
        choices=["Strict", "Lax", "None"],
        default=_env("COOKIE_SAMESITE", "Strict"),
    )
    parser.add_argument(
        "--cookie-secure", choices=["true", "false"], default=_env("COOKIE_SECURE", "true")
    )
    parser.add_argument(
        "--exchange-base-url",
        default=_env("EXCHANGE_BASE_URL"),
        help="send every exchange request to <url>/<ccxt id>/... (a gateway or proxy)",
    )
    parser.add_argument(
        "--simulated-exchanges",
        action="store_true",
        default=_env("SIMULATED_EXCHANGES", "") in ("1", "true", "yes"),
        help="trade against the built-in exchange simulator (offline demo and tests)",
    )
    parser.add_argument(
        "--sim-url",
        default=_env("SIM_URL"),
        help="with --simulated-exchanges: use this running `testudo sim` instead",
    )
    parser.add_argument(
        "--sim-port",
        type=_port,
        default=_env("SIM_PORT", "8090"),
        help="with --simulated-exchanges: port of the in-process simulator",
    )
    parser.add_argument(
        "--trusted-proxies",
        default=_env("TRUSTED_PROXIES", ""),
        help="comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For "
        "names the client (default: none, the peer address is the client)",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=_env("SHUTDOWN_GRACE", "10"),
        help="seconds in-flight requests get to finish on SIGINT/SIGTERM",
    )
    add_realtime_arguments(parser, _env)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=_env("DATA_DIR"),
        help="where the embedded database, keys and uploads live",
    )
    parser.add_argument(
        "--database-url",
        default=_env("DATABASE_URL"),
        help="use this PostgreSQL server instead of the embedded one",
    )


def from_args(args: argparse.Namespace) -> Settings:
    """Build :class:`Settings` from parsed arguments (missing attributes keep defaults)."""
    values = {
        key: getattr(args, key)
        for key in ("http_host", "http_port", "ws_host", "ws_port", "database_url", "log_level")
        if getattr(args, key, None) is not None
    }
    for key in ("http_port", "ws_port"):
        if key in values:
            values[key] = int(values[key])
    if getattr(args, "data_dir", None):
        values["data_dir"] = Path(args.data_dir).expanduser()
    if getattr(args, "cors_origins", None):
        values["cors_origins"] = tuple(
            origin.strip() for origin in args.cors_origins.split(",") if origin.strip()
        )
    if getattr(args, "shutdown_grace", None) is not None:
        values["shutdown_grace"] = float(args.shutdown_grace)
    for key in ("siwe_domain", "siwe_uri", "cookie_samesite"):
        if getattr(args, key, None):
            values[key] = getattr(args, key)
    if getattr(args, "siwe_chain_ids", None):
        try:
            values["siwe_chain_ids"] = tuple(
                int(part) for part in args.siwe_chain_ids.split(",") if part.strip()
            )
        except ValueError:
            raise ConfigError(f"invalid chain id list: {args.siwe_chain_ids!r}") from None
    if getattr(args, "cookie_secure", None):
        values["cookie_secure"] = args.cookie_secure == "true"
    values["jwt_secret"] = _env("JWT_SECRET")
    values["master_key"] = _env("MASTER_KEY")
    values["hyperliquid_testnet"] = _env("HYPERLIQUID_TESTNET", "") in ("1", "true", "yes")
    values["trade_poll_interval"] = _seconds_env("TRADE_POLL_INTERVAL", 2.0)
    values["account_state_max_age"] = _seconds_env("ACCOUNT_STATE_MAX_AGE", 5.0)
    values["price_max_age"] = _seconds_env("PRICE_MAX_AGE", 2.0)
    values["order_recheck_interval"] = _seconds_env("ORDER_RECHECK_INTERVAL", 10.0)
    values["poll_budget_share"] = float(_fraction_env("POLL_BUDGET_SHARE", Decimal("0.5"), 1))
    values["close_slippage"] = _fraction_env("CLOSE_SLIPPAGE", Decimal("0.05"))
    values["exchange_rate_limit"] = _env("EXCHANGE_RATE_LIMIT", "true") not in ("0", "false", "no")
    if getattr(args, "exchange_base_url", None):
        values["exchange_base_url"] = args.exchange_base_url
    if getattr(args, "simulated_exchanges", False):
        values["simulated_exchanges"] = True
    if getattr(args, "sim_url", None):
        values["sim_url"] = args.sim_url
    if getattr(args, "sim_port", None) is not None:
        values["sim_port"] = int(args.sim_port)
    if getattr(args, "trusted_proxies", None):
        try:
            values["trusted_proxies"] = parse_networks(args.trusted_proxies)
        except InvalidNetwork as exc:
            raise ConfigError(f"--trusted-proxies: {exc}") from None
    values["signin_per_client_per_minute"] = _count_env("SIGNIN_PER_CLIENT_PER_MINUTE", 10)
    values["signin_per_second"] = _count_env("SIGNIN_PER_SECOND", 20)
    values["realtime"] = realtime_from_args(args)
    return Settings(**values)


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir if needed and check it is writable, or raise :class:`ConfigError`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"data dir {path} is not writable: {exc.strerror or exc}") from None
    return path


def _fraction_env(name: str, default: Decimal, maximum: float = 0.5) -> Decimal:
    """A fraction in (0, ``maximum``] from ``TESTUDO_<name>`` (``0.05`` = 5 %)."""
    raw = _env(name)
    if not raw:
        return default
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise ConfigError(f"TESTUDO_{name} must be a fraction such as 0.05, not {raw!r}") from None
    if not (value.is_finite() and Decimal(0) < value <= Decimal(str(maximum))):
        raise ConfigError(f"TESTUDO_{name} must be a fraction in (0, {maximum:g}]")
    return value


def _seconds_env(name: str, default: float) -> float:
    """A non-negative number of seconds from ``TESTUDO_<name>``."""
    raw = _env(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"TESTUDO_{name} must be a number of seconds, not {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"TESTUDO_{name} must be a finite number of seconds >= 0")
    return value


def _count_env(name: str, default: int) -> int:
    """A positive whole number from ``TESTUDO_<name>``."""
    raw = _env(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"TESTUDO_{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ConfigError(f"TESTUDO_{name} must be at least 1")
    return value
