"""Service configuration: the settings table, one row per setting of :class:`Settings`.

Each row (:class:`~testudo.options.Option`) gives a setting's flag, its ``TESTUDO_*`` variable,
the parser that checks it, its default and its meaning; :data:`TABLE` drives the flags of
``testudo serve``, the variables every command reads and the table in docs/operations.md
(``python -m testudo.config docs/operations.md`` rewrites it; a test compares them).
Precedence: flag, then environment, then default. :func:`from_args` turns parsed arguments and
the environment into a frozen :class:`Settings`.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import attrs
import platformdirs

from testudo import option_parsers as p
from testudo.cluster import settings as cluster_settings
from testudo.cluster.settings import ClusterSettings
from testudo.net import Network
from testudo.options import ConfigError, Option, add_arguments, in_section, markdown_table, resolve
from testudo.realtime import settings as realtime_settings
from testudo.realtime.settings import RealtimeSettings

__all__ = ["TABLE", "ConfigError", "Settings", "from_args"]


def default_data_dir() -> Path:
    """Per-user data dir; ``/var/lib/testudo`` for root (docs/operations.md explains why)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/testudo")
    return Path(platformdirs.user_data_dir("testudo"))


def default_node_name() -> str:
    """This node's name in the cluster when none is configured: ``<hostname>-<pid>``."""
    return f"{socket.gethostname()}-{os.getpid()}"


@attrs.frozen
class Settings:
    """Everything ``testudo serve`` needs to know, resolved and validated."""

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    ws_host: str = "127.0.0.1"
    ws_port: int = 4000
    data_dir: Path = attrs.field(factory=default_data_dir)
    uploads_dir: Path | None = None  # journal images; default <data dir>/uploads
    database_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    max_body_bytes: int = 1024 * 1024
    shutdown_grace: float = 10.0
    workers: int = 1
    node_name: str = attrs.field(factory=default_node_name)
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
    cluster: ClusterSettings = attrs.Factory(ClusterSettings)

    @property
    def resolved_siwe_domain(self) -> str:
        return self.siwe_domain or f"localhost:{self.http_port}"

    @property
    def resolved_siwe_uri(self) -> str:
        return self.siwe_uri or f"http://{self.resolved_siwe_domain}"

    @property
    def resolved_uploads_dir(self) -> Path:
        return self.uploads_dir or self.data_dir / "uploads"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


NO_FLAG_SECRET = " (no flag: a command line is visible to every user of the machine)"

#: The database rows: also the flags of ``testudo migrate`` and ``testudo rotate-key``.
DATABASE_OPTIONS = (
    Option(
        "data_dir",
        "--data-dir",
        "DATA_DIR",
        p.path,
        "",
        "embedded database, generated keys, uploads",
        default_doc="`/var/lib/testudo` as root, else the per-user data dir "
        "(`~/.local/share/testudo`)",
    ),
    Option(
        "database_url",
        "--database-url",
        "DATABASE_URL",
        p.text,
        "",
        "use this PostgreSQL instead; Testudo then never starts its own",
        default_doc="none: the embedded server",
    ),
    Option(
        "db_pool_size",
        "--db-pool-size",
        "DB_POOL_SIZE",
        p.count,
        "8",
        "connections in the database pool",
    ),
)

SERVER_OPTIONS = (
    Option("http_host", "--http-host", "HTTP_HOST", p.text, "127.0.0.1", "REST API address"),
    Option(
        "http_port",
        "--http-port",
        "HTTP_PORT",
        p.port,
        "8080",
        "REST API port (`0`: any free port)",
    ),
    Option("ws_host", "--ws-host", "WS_HOST", p.text, "127.0.0.1", "WebSocket server address"),
    Option(
        "ws_port",
        "--ws-port",
        "WS_PORT",
        p.port,
        "4000",
        "WebSocket server port (`0`: any free port)",
    ),
    Option(
        "cors_origins",
        "--cors-origins",
        "CORS_ORIGINS",
        p.words,
        "",
        "comma-separated allowed origins (credentials allowed)",
        default_doc="none",
    ),
    Option(
        "trusted_proxies",
        "--trusted-proxies",
        "TRUSTED_PROXIES",
        p.networks,
        "",
        "comma-separated addresses or CIDRs (`10.0.0.0/8, ::1`) of reverse proxies whose "
        '`X-Forwarded-For` names the client (see "Client addresses")',
        default_doc="none",
    ),
    Option(
        "log_level",
        "--log-level",
        "LOG_LEVEL",
        p.log_level,
        "INFO",
        "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`",
    ),
    Option(
        "max_body_bytes",
        "--max-body-bytes",
        "MAX_BODY_BYTES",
        p.count,
        "1048576",
        "largest request body (bytes) except the journal upload's (413 above it)",
    ),
    Option(
        "shutdown_grace",
        "--shutdown-grace",
        "SHUTDOWN_GRACE",
        p.seconds,
        "10",
        "seconds in-flight requests get on SIGINT/SIGTERM",
    ),
    Option(
        "uploads_dir",
        "--uploads-dir",
        "UPLOADS_DIR",
        p.path,
        "",
        "journal images; nodes on several machines share one (a network filesystem)",
        default_doc="`<data dir>/uploads`",
    ),
    Option(
        "workers",
        "--workers",
        "WORKERS",
        p.count,
        "1",
        "processes serving the same ports (`SO_REUSEPORT`) under one supervising parent "
        '(see "Running several nodes")',
    ),
    Option(
        "node_name",
        "--node-name",
        "NODE_NAME",
        p.text,
        "",
        "this node's name in the cluster (unique per node; workers get `<name>-w<i>`)",
        default_doc="`<hostname>-<pid>`",
    ),
)

AUTH_OPTIONS = (
    Option(
        "siwe_domain",
        "--siwe-domain",
        "SIWE_DOMAIN",
        p.text,
        "",
        "the domain SIWE messages must name (docs/auth.md)",
        default_doc="`localhost:<http port>`",
    ),
    Option(
        "siwe_uri",
        "--siwe-uri",
        "SIWE_URI",
        p.text,
        "",
        "the URI SIWE messages must name",
        default_doc="`http://<domain>`",
    ),
    Option(
        "siwe_chain_ids",
        "--siwe-chain-ids",
        "SIWE_CHAIN_IDS",
        p.chain_ids,
        "1",
        "comma-separated chain ids accepted in SIWE messages",
    ),
    Option(
        "jwt_secret",
        None,
        "JWT_SECRET",
        p.text,
        "",
        "secret signing access tokens, at least 32 bytes" + NO_FLAG_SECRET,
        default_doc="generated into `<data dir>/keys/jwt.key`",
    ),
    Option(
        "cookie_samesite",
        "--cookie-samesite",
        "COOKIE_SAMESITE",
        p.choice("Strict", "Lax", "None"),
        "Strict",
        "`SameSite` of the session cookies (`Lax`, `None` for a cross-site desk)",
    ),
    Option(
        "cookie_secure",
        "--cookie-secure",
        "COOKIE_SECURE",
        p.boolean,
        "true",
        "`true` or `false`: `Secure` cookies (`__Host-` names without a cookie domain)",
    ),
    Option(
        "signin_per_client_per_minute",
        "--signin-per-client-per-minute",
        "SIGNIN_PER_CLIENT_PER_MINUTE",
        p.count,
        "10",
        "`verify-siwe` attempts per client address per minute",
    ),
    Option(
        "signin_per_second",
        "--signin-per-second",
        "SIGNIN_PER_SECOND",
        p.count,
        "20",
        "`verify-siwe` attempts per second from everyone together",
    ),
)

EXCHANGE_OPTIONS = (
    Option(
        "exchange_base_url",
        "--exchange-base-url",
        "EXCHANGE_BASE_URL",
        p.text,
        "",
        "send every exchange request to `<url>/<ccxt id>/...` (a gateway or proxy)",
        default_doc="none: the exchanges",
    ),
    Option(
        "simulated_exchanges",
        "--simulated-exchanges",
        "SIMULATED_EXCHANGES",
        p.boolean,
        "false",
        "trade against the built-in exchange simulator (offline demo and tests)",
        switch=True,
    ),
    Option(
        "sim_url",
        "--sim-url",
        "SIM_URL",
        p.text,
        "",
        "with `--simulated-exchanges`: use this running `testudo sim` instead",
        default_doc="none: in-process",
    ),
    Option(
        "sim_port",
        "--sim-port",
        "SIM_PORT",
        p.port,
        "8090",
        "with `--simulated-exchanges`: port of the in-process simulator",
    ),
    Option(
        "master_key",
        None,
        "MASTER_KEY",
        p.text,
        "",
        "the active key encrypting exchange secrets, 64 hex characters" + NO_FLAG_SECRET,
        default_doc="a key ring in `<data dir>/keys/master-keys.json`",
    ),
    Option(
        "hyperliquid_testnet",
        "--hyperliquid-testnet",
        "HYPERLIQUID_TESTNET",
        p.boolean,
        "false",
        "sign Hyperliquid agent approvals for the testnet",
        switch=True,
    ),
    Option(
        "exchange_timeout_ms",
        "--exchange-timeout-ms",
        "EXCHANGE_TIMEOUT_MS",
        p.count,
        "10000",
        "milliseconds ccxt waits for one exchange request",
    ),
    Option(
        "exchange_rate_limit",
        "--exchange-rate-limit",
        "EXCHANGE_RATE_LIMIT",
        p.boolean,
        "true",
        "ccxt's client-side rate limiter",
        switch=True,
    ),
)

TRADING_OPTIONS = (
    Option(
        "trade_poll_interval",
        "--trade-poll-interval",
        "TRADE_POLL_INTERVAL",
        p.seconds,
        "2",
        "seconds between two polls of a watched account (positions; 0.5 while a group waits "
        "for a fill or its stop)",
    ),
    Option(
        "order_recheck_interval",
        "--order-recheck-interval",
        "ORDER_RECHECK_INTERVAL",
        p.seconds,
        "10",
        "the open orders are read at least this often even when no position moved (a stop "
        "cancelled by hand is found within it)",
    ),
    Option(
        "poll_budget_share",
        "--poll-budget-share",
        "POLL_BUDGET_SHARE",
        p.share,
        "0.5",
        "share (0-1] of each venue's published request budget that polling may use, for every "
        "account together",
    ),
    Option(
        "close_slippage",
        "--close-slippage",
        "CLOSE_SLIPPAGE",
        p.fraction("0.5"),
        "0.05",
        "bound (0-0.5] of a close's or emergency exit's price around the market now, where "
        "the venue takes one (Hyperliquid)",
    ),
    Option(
        "account_state_max_age",
        "--account-state-max-age",
        "ACCOUNT_STATE_MAX_AGE",
        p.seconds,
        "5",
        "seconds a decision may use an account's kept balance and positions (`0`: always fetch)",
    ),
    Option(
        "price_max_age",
        "--price-max-age",
        "PRICE_MAX_AGE",
        p.seconds,
        "2",
        "seconds a market entry's decision may use a kept last price",
    ),
)

#: Every setting, in the order docs/operations.md lists them.
TABLE: tuple[Option, ...] = (
    *SERVER_OPTIONS,
    *DATABASE_OPTIONS,
    *AUTH_OPTIONS,
    *EXCHANGE_OPTIONS,
    *TRADING_OPTIONS,
    *in_section("realtime", realtime_settings.OPTIONS),
    *in_section("cluster", cluster_settings.OPTIONS),
)


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``testudo serve``: every row of the table that has one."""
    add_arguments(parser, TABLE)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``testudo migrate`` and ``rotate-key``: where the database is."""
    add_arguments(parser, DATABASE_OPTIONS)


def from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """:class:`Settings` from parsed flags, then ``TESTUDO_*`` variables, then defaults.

    Every command reads every variable (flags exist only where the command declares them).
    A value that does not parse raises :class:`ConfigError` naming the flag or variable.
    """
    values = resolve(TABLE, args, os.environ if environ is None else environ)
    realtime = RealtimeSettings(**values.get("realtime", {}))
    cluster = ClusterSettings(**values.get("cluster", {}))
    return attrs.evolve(Settings(realtime=realtime, cluster=cluster), **values.get("", {}))


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


def update_docs(document: str) -> str:
    """``document`` (docs/operations.md) with its settings table replaced by :data:`TABLE`'s."""
    begin, end = document.index(TABLE_BEGIN), document.index(TABLE_END)
    return document[: begin + len(TABLE_BEGIN)] + "\n" + markdown_table(TABLE) + document[end:]


TABLE_BEGIN = "<!-- settings table: generated from testudo/config.py -->"
TABLE_END = "<!-- end of the settings table -->"

if __name__ == "__main__":  # python -m testudo.config docs/operations.md
    target = Path(sys.argv[1])
    target.write_text(update_docs(target.read_text()))
