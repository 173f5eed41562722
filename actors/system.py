"""The running system as the API layer sees it: database, actors, health, settings.

Built by :mod:`api.process` once the database and the root supervisor are up, and handed to
the HTTP and WebSocket layers. It holds references only; every piece of state it points to is
owned by its actor or by the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from actors import ActorRef, Registry, Supervisor, SupervisorRef
from actors.auth.service import AuthService
from actors.cluster.keeper import KeeperMessage
from actors.cluster.leases import ClusterLeases
from actors.exchanges.agent_wallets import AgentWallets
from actors.exchanges.service import AccountsService
from actors.realtime.pg_listener import ListenerMessage, ListenerStatus, Status
from actors.trading.service import TradesService
from testudo.clock import Clock
from testudo.config import Settings
from testudo.db import Database
from testudo.exchanges.clients import ClientFactory
from testudo.exchanges.health import HealthBoard

if TYPE_CHECKING:
    from actors.journal.wiring import Journal
    from actors.realtime.core import Realtime


@attrs.define(eq=False)
class System:
    settings: Settings
    db: Database
    root: Supervisor
    registry: Registry
    listener: ActorRef[ListenerMessage]
    exchanges: SupervisorRef
    sessions: SupervisorRef
    auth: AuthService
    clock: Clock
    accounts: AccountsService
    agent_wallets: AgentWallets
    trades: TradesService
    clients: ClientFactory
    health: HealthBoard
    leases: ClusterLeases
    cluster: ActorRef[KeeperMessage]
    realtime: Realtime | None = None  # set by actors.realtime.wiring.start_realtime
    journal: Journal | None = None  # set by actors.journal.wiring.start_journal

    async def listener_status(self) -> ListenerStatus | None:
        try:
            status: ListenerStatus = await self.listener.ask(Status(), timeout=2)
        except Exception:
            return None
        return status

    def gateway_running(self) -> bool:
        return self.exchanges.current is not None
