"""Assembling the actor system: the root supervisor, the services that own actors, and the
:class:`~actors.system.System` the API sees.

The process (:mod:`api.process`) binds its ports, opens the database and then calls these in
order: :func:`build_root`, :func:`build_system`, :func:`start_children`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from actors.auth.revocation_router import RevocationRouter
from actors.auth.service import AuthService
from actors.cluster.keeper import LeaseKeeper
from actors.cluster.leases import ClusterLeases
from actors.exchanges.agent_wallets import AgentWallets
from actors.exchanges.service import AccountsService
from actors.journal.wiring import start_journal
from actors.realtime.pg_listener import PgListener
from actors.realtime.wiring import start_realtime
from actors.runtime.registry import Registry
from actors.runtime.supervisor import ChildSpec, Supervisor
from actors.system import System
from actors.trading.service import TradesService
from testudo.auth.settings import AuthSettings
from testudo.clock import Clock
from testudo.cluster.settings import ClusterSettings
from testudo.config import Settings
from testudo.db import Database
from testudo.exchanges.agent_wallets import Network
from testudo.exchanges.clients import ClientFactory
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.vault import Vault


@attrs.define
class Adoption:
    """What a restarted ``trades`` supervisor runs to bring its live groups back; set once the
    trading service exists (the first start, at boot, has nothing to adopt yet)."""

    target: Callable[[Supervisor], Awaitable[None]] | None = None

    async def __call__(self, supervisor: Supervisor) -> None:
        if self.target is not None:
            await self.target(supervisor)


def build_root(
    database_url: str, adopt_trades: Adoption, leases: ClusterLeases, cluster: ClusterSettings
) -> Supervisor:
    """The root supervisor (the top: it parks a failing child, never gives up) and its static
    children. Per-user actors are isolated children of ``exchanges``, ``sessions`` and
    ``trades`` (each user's subtree), so none of these ever escalates because of one user.
    The lease keeper starts first and stops last: users' actors save under their leases."""
    return Supervisor(
        "root",
        children=(
            ChildSpec(
                "cluster",
                lambda: LeaseKeeper(leases, cluster.renew_interval, cluster.scan_interval),
                grace=30.0,
            ),
            ChildSpec("pg-listener", lambda: PgListener(database_url)),
            ChildSpec("exchanges", lambda: Supervisor("exchanges", intensity=20, period=60)),
            ChildSpec("sessions", lambda: Supervisor("sessions", intensity=20, period=60)),
            ChildSpec(
                "trades",
                lambda: Supervisor("trades", intensity=50, period=60, adopt=adopt_trades),
            ),
        ),
        intensity=10,
        period=60,
        top=True,
    )


@attrs.frozen
class Parts:
    """What :func:`build_system` needs that the process prepared."""

    settings: Settings
    auth: AuthSettings
    vault: Vault
    clock: Clock
    db: Database
    exchange_base: str | None  # where exchange requests go (None: the exchanges themselves)


def build_system(
    parts: Parts, root: Supervisor, adoption: Adoption, leases: ClusterLeases
) -> System:
    """The services over the root's supervisors, as one :class:`System`."""
    settings, db, clock = parts.settings, parts.db, parts.clock
    children: dict[str, Any] = root.children
    registry = Registry()
    clients = ClientFactory(
        base_url=parts.exchange_base,
        timeout_ms=settings.exchange_timeout_ms,
        rate_limit=settings.exchange_rate_limit,
    )
    health = HealthBoard()
    accounts = AccountsService(
        db,
        registry,
        children["exchanges"],
        parts.vault,
        clients,
        health,
        clock,
        offline_only=settings.simulated_exchanges,
        poll_interval=settings.trade_poll_interval,
        state_max_age=settings.account_state_max_age,
        price_max_age=settings.price_max_age,
        order_recheck=settings.order_recheck_interval,
        poll_budget_share=settings.poll_budget_share,
        leases=leases,
    )
    trades = TradesService(
        db,
        registry,
        children["trades"],
        accounts,
        clock,
        settings.trade_poll_interval,
        settings.close_slippage,
        leases,
    )
    adoption.target = trades.adopt
    leases.on_gained(trades.rehydrate_user)
    leases.on_lost(trades.release)
    leases.on_lost(accounts.release)
    return System(
        settings=settings,
        db=db,
        root=root,
        registry=registry,
        listener=children["pg-listener"],
        exchanges=children["exchanges"],
        sessions=children["sessions"],
        auth=AuthService(db, registry, children["sessions"], parts.auth, clock),
        clock=clock,
        accounts=accounts,
        agent_wallets=AgentWallets(accounts, Network(settings.hyperliquid_testnet)),
        trades=trades,
        clients=clients,
        health=health,
        leases=leases,
        cluster=children["cluster"],
    )


async def start_children(root: Supervisor, system: System) -> None:
    """The dynamic children of the root, in order: revocation routing, realtime, journal."""
    listener, auth = system.listener, system.auth
    await root.start_child(ChildSpec("revocation-router", lambda: RevocationRouter(listener, auth)))
    system.realtime = await start_realtime(root, system)
    leases = system.leases
    system.journal = await start_journal(
        root,
        system.db,
        system.accounts,
        system.clock,
        system.settings.resolved_uploads_dir,
        node=lambda: leases.node.id,
    )
