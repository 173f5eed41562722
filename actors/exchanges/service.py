"""Exchange accounts: add (validated live), list, test, balance, positions, delete.

Every call to an account's exchange goes to its
:class:`~actors.exchanges.exchange_account.ExchangeAccountActor` (spawned on demand under the
``exchanges`` supervisor, passivated when idle). Adding an account validates the credentials
with a throwaway client in a worker thread (the account has no actor yet), refuses keys that
can withdraw, then stores the secrets sealed by the vault and queues the 90-day history import
in the same transaction.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import trio

from actors import Ask, Registry, SupervisorRef
from actors.cluster.leases import ClusterLeases
from actors.exchanges.exchange_account import (
    AccountIdentity,
    Call,
    CheckMode,
    ExchangeAccountActor,
    FetchBalance,
    ReadBook,
    Refresh,
    Snapshot,
)
from actors.exchanges.plumbing import failure_of
from actors.runtime.errors import ActorError
from testudo.clock import Clock
from testudo.db import Database
from testudo.db.database import Conn
from testudo.exchanges import catalog
from testudo.exchanges.accounts import (
    ACCOUNT_ORDER_OWNERS,
    DELETE_ACCOUNT,
    INSERT_ACCOUNT,
    LIST_ACCOUNTS,
    QUEUE_IMPORT,
    SELECT_ACCOUNT,
    SELECT_SECRETS,
    TOUCH_ACCOUNT,
    AccountNotFound,
    AccountView,
    NewAccount,
    _is_uuid,
    _iso,
    _new_uuid,
    mask,
)
from testudo.exchanges.catalog import ExchangeInfo
from testudo.exchanges.clients import ClientFactory, Credentials
from testudo.exchanges.errors import ExchangeFailure, failure_from, retry_after_of
from testudo.exchanges.failures import FailureKind
from testudo.exchanges.governor import Governor
from testudo.exchanges.health import HealthBoard
from testudo.exchanges.models import Balance
from testudo.exchanges.positions_view import Owner, positions_json
from testudo.exchanges.vault import SealContext, Vault
from testudo.exchanges.venues import AccountSnapshot, venue_for

T = TypeVar("T")
R = TypeVar("R")
USER_ACCOUNT_IDS = "SELECT id::text AS id FROM exchange_accounts WHERE user_id = ANY(%s::uuid[])"


class AccountsService:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        supervisor: SupervisorRef,
        vault: Vault,
        clients: ClientFactory,
        health: HealthBoard,
        clock: Clock,
        *,
        offline_only: bool = False,
        idle_timeout: float = 900.0,
        poll_interval: float = 2.0,
        state_max_age: float = 5.0,
        price_max_age: float = 2.0,
        order_recheck: float = 10.0,
        poll_budget_share: float = 0.5,
        leases: ClusterLeases | None = None,
    ) -> None:
        self.db = db
        self.leases = leases
        self.registry = registry
        self.supervisor = supervisor
        self.vault = vault
        self.clients = clients
        self.health = health
        self.clock = clock
        self.offline_only = offline_only
        self.idle_timeout = idle_timeout
        self.poll_interval = poll_interval
        self.state_max_age = state_max_age
        self.price_max_age = price_max_age
        self.order_recheck = order_recheck
        # One request-weight budget per venue for the polling of every account of the process.
        self.governor = Governor(
            {
                info.id: max(1, int(venue_for(info).request_budget * poll_budget_share))
                for info in catalog.EXCHANGES
            }
        )

    # -- the catalog ------------------------------------------------------------------

    def available(self, info: ExchangeInfo) -> tuple[bool, str]:
        """Whether ``info`` can be used now, and why not."""
        if self.offline_only and info.id not in catalog.SIMULATED:
            return False, "not_simulated"
        unreachable = [
            h for h in self.health.by_exchange() if h.exchange == info.id and not h.reachable
        ]
        if unreachable:
            return True, "degraded"
        return True, "available"

    def catalog_json(self) -> builtins.list[dict[str, object]]:
        out = []
        for info in catalog.EXCHANGES:
            ok, status = self.available(info)
            out.append(info.to_json(available=ok, status=status))
        return out

    def supported(self) -> builtins.list[str]:
        return [info.id for info in catalog.EXCHANGES if self.available(info)[0]]

    # -- reading accounts ---------------------------------------------------------------

    async def list(self, user_id: str) -> list[AccountView]:
        rows = await self.db.fetch_all(LIST_ACCOUNTS, (user_id,))
        return [AccountView(**row) for row in rows]

    async def get(self, user_id: str, account_id: str) -> AccountView | None:
        if not _is_uuid(account_id):
            return None
        row = await self.db.fetch_one(SELECT_ACCOUNT, (account_id, user_id))
        return None if row is None else AccountView(**row)

    async def require(self, user_id: str, account_id: str) -> AccountView:
        account = await self.get(user_id, account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    # -- adding and deleting ---------------------------------------------------------------

    async def validate_credentials(
        self, info: ExchangeInfo, credentials: Credentials
    ) -> dict[str, Any]:
        """Fetch the balance with these credentials; refuse withdrawal-enabled keys.

        Returns the permissions found. Raises :class:`ExchangeFailure`.
        """
        client = self.clients.create(info, credentials)

        venue = venue_for(info)

        def check() -> dict[str, Any]:
            client.fetch_balance()
            return {**venue.read_permissions(client), "position_mode": venue.position_mode(client)}

        try:
            permissions = await trio.to_thread.run_sync(check, abandon_on_cancel=True)
        except Exception as exc:
            raise failure_from(exc, info.id, retry_after_of(client)) from None
        if permissions.get("position_mode") == "hedge":
            raise ExchangeFailure(
                "hedge_mode_unsupported",
                "This account is in hedge (dual-side) position mode. Testudo manages one-way "
                "positions: switch the account to one-way mode on the exchange, then add it.",
            )
        if permissions.get("withdrawals") is True:
            raise ExchangeFailure(
                "withdrawal_permission",
                "This API key can withdraw funds. Create a key without "
                "withdrawal rights: Testudo never needs them.",
            )
        return permissions

    async def add(self, user_id: str, new: NewAccount) -> tuple[AccountView, str]:
        """Validate live, then store (sealed) and queue the history import. Returns the job id."""
        info = catalog.get(new.exchange)
        assert info is not None
        credentials = Credentials(new.api_key, new.secret, new.passphrase)
        permissions = await self.validate_credentials(info, credentials)
        account_id = _new_uuid()

        def seal(field: str, value: str | None) -> bytes | None:
            if value is None:
                return None
            return self.vault.seal(value, SealContext(field, user_id, account_id, info.id))

        row = {
            "id": account_id,
            "user_id": user_id,
            "exchange": info.id,
            "account_name": new.account_name or f"{info.name} Account",
            "auth_mode": "api_key",
            "api_key_masked": mask(new.api_key),
            "wallet_address": None,
            "agent_address": None,
            "api_key_enc": seal("api_key", new.api_key),
            "secret_enc": seal("secret", new.secret),
            "passphrase_enc": seal("passphrase", new.passphrase),
            "key_id": self.vault.active,
            "status": "active",
            "permissions": json.dumps({"validated": True, **permissions}),
        }

        def insert(conn: Conn) -> str:
            conn.execute(INSERT_ACCOUNT, row)
            job = conn.execute(QUEUE_IMPORT, (user_id, account_id, "account_added")).fetchone()
            assert job is not None
            return str(job["id"])

        job_id = await self.db.run(insert)
        return await self.require(user_id, account_id), job_id

    async def delete(self, user_id: str, account_id: str) -> bool:
        if not _is_uuid(account_id):
            return False
        deleted = await self.db.fetch_one(DELETE_ACCOUNT, (account_id, user_id))
        if deleted is None:
            return False
        await self.stop_actor(account_id)
        return True

    async def stop_actor(self, account_id: str) -> None:
        key = ("exchange_account", account_id)
        if self.registry.lookup(key) is not None and self.supervisor.current is not None:
            await self.supervisor.current.stop_child(f"exchange_account-{account_id}")
        self.health.forget(account_id)

    # -- the account actor ----------------------------------------------------------------

    def _factory(self, account_id: str) -> Callable[[], ExchangeAccountActor]:
        async def load() -> AccountIdentity:
            return await self.db.run(lambda c: self._identity(c, account_id))

        return lambda: ExchangeAccountActor(
            load,
            self.clients,
            self.health,
            self.db,
            poll_interval=self.poll_interval,
            state_max_age=self.state_max_age,
            price_max_age=self.price_max_age,
            order_recheck=self.order_recheck,
            governor=self.governor,
        )

    def _identity(self, conn: Conn, account_id: str) -> AccountIdentity:
        row = conn.execute(SELECT_SECRETS, (account_id,)).fetchone()
        if row is None or row["status"] == "deleted":
            raise AccountNotFound(account_id)
        info = catalog.get(row["exchange"])
        assert info is not None

        def open_(field: str, blob: bytes | None) -> str | None:
            if blob is None:
                return None
            context = SealContext(field, row["user_id"], row["id"], info.id)
            return self.vault.open(bytes(blob), row["key_id"], context)

        if row["auth_mode"] == "agent_wallet":
            credentials = Credentials(
                wallet_address=row["wallet_address"], private_key=open_("secret", row["secret_enc"])
            )
        else:
            credentials = Credentials(
                open_("api_key", row["api_key_enc"]) or "",
                open_("secret", row["secret_enc"]) or "",
                open_("passphrase", row["passphrase_enc"]),
            )
        return AccountIdentity(row["id"], row["user_id"], info, credentials)

    async def ask(self, account: AccountView, message: Ask[R], timeout: float = 60.0) -> R:
        """Ask the account's actor, started on demand on the node holding the user's lease
        (elsewhere: the ``not_owner`` problem)."""
        key = ("exchange_account", account.id)
        if self.leases is not None:
            await self.leases.require(account.user_id)
        try:
            return await self.registry.ask(
                key,
                self.supervisor,
                self._factory(account.id),
                message,
                timeout=timeout,
                idle_timeout=self.idle_timeout,
            )
        except ActorError as error:  # the actor, not the exchange, failed to answer
            raise failure_of(error, write=_is_write(message)) from None
        except AccountNotFound:  # deleted since the caller looked it up
            raise ExchangeFailure("account_gone", "The exchange account was removed.") from None

    async def release(self, user_ids: builtins.list[str]) -> None:
        """The lease keeper's hook: this node lost these users; stop their accounts' actors
        (every running account actor when the database cannot say which are theirs)."""
        try:
            rows = await self.db.fetch_all(USER_ACCOUNT_IDS, (user_ids,))
            account_ids = [row["id"] for row in rows]
        except psycopg.Error:
            account_ids = [
                str(k[1])
                for k in self.registry.running()
                if isinstance(k, tuple) and len(k) == 2 and k[0] == "exchange_account"
            ]
        for account_id in account_ids:
            await self.stop_actor(account_id)

    def refresh_soon(self, account_id: str) -> None:
        """Have the account's actor refresh its funds, if it runs (sent, never waited for)."""
        ref = self.registry.lookup(("exchange_account", account_id))
        if ref is not None:
            with contextlib.suppress(ActorError):
                ref.send_nowait(Refresh())

    async def with_client(
        self,
        user_id: str,
        account_id: str,
        fn: Callable[[Any], T],
        *,
        read_only: bool = True,
        timeout: float = 120.0,
    ) -> T:
        """Run ``fn(client)`` in the account actor's worker thread; raise ExchangeFailure."""
        account = await self.require_active(user_id, account_id)
        return await self.call(account, fn, read_only=read_only, timeout=timeout)

    async def call(
        self,
        account: AccountView,
        fn: Callable[[Any], T],
        *,
        read_only: bool = True,
        timeout: float = 120.0,
    ) -> T:
        """:meth:`with_client` for an account the caller has already looked up. A write is
        fenced: checked against the user's lease in the worker thread, just before it is sent
        (a node that lost the lease sends nothing; the caller hears a transient failure)."""
        leases = None if read_only else self.leases
        if leases is not None:
            fn = _fenced(fn, leases, account.user_id)
        result = await self.ask(account, Call(fn, read_only), timeout=timeout)
        if isinstance(result, ExchangeFailure):
            if leases is not None and not leases.holds(account.user_id):
                raise LEASE_LOST
            raise result
        value: T = result.value
        return value

    async def snapshot(
        self, account: AccountView, symbol: str, *, need_price: bool = True
    ) -> AccountSnapshot:
        """What a decision on ``symbol`` needs from the exchange (the actor's kept funds when
        fresh, see :class:`~actors.exchanges.exchange_account.Snapshot`); raise ExchangeFailure."""
        result = await self.ask(account, Snapshot(symbol, need_price))
        if isinstance(result, ExchangeFailure):
            raise result
        return result

    async def test(self, user_id: str, account_id: str) -> dict[str, Any]:
        account = await self.require(user_id, account_id)
        started = time.perf_counter()
        now = self.clock.now()
        result = await self.ask(account, FetchBalance())
        latency = round((time.perf_counter() - started) * 1000, 1)
        body: dict[str, Any] = {
            "account_id": account.id,
            "exchange_name": account.exchange,
            "tested_at": _iso(now),
            "latency_ms": latency,
        }
        failure = result if isinstance(result, ExchangeFailure) else None
        if failure is None:
            failure = await self.ask(account, CheckMode())
        if failure is not None:
            return {**body, "status": "failed", "error": failure.error, "message": failure.detail}
        await self.db.execute(TOUCH_ACCOUNT, (now, account.id))
        return {**body, "status": "success", "message": "Connection OK"}

    async def require_active(self, user_id: str, account_id: str) -> AccountView:
        account = await self.require(user_id, account_id)
        if account.status != "active":
            raise ExchangeFailure("account_inactive", f"The account is {account.status}.")
        return account

    async def balances(self, user_id: str, account_id: str) -> builtins.list[Balance]:
        account = await self.require_active(user_id, account_id)
        result = await self.ask(account, FetchBalance())
        if isinstance(result, ExchangeFailure):
            raise result
        balances: builtins.list[Balance] = result.value
        return balances

    async def positions(self, user_id: str, account_id: str) -> dict[str, Any]:
        """Positions with their protective orders and owning groups, from the account
        actor's last poll when it is recent (else read now)."""
        account = await self.require_active(user_id, account_id)
        book = await self.ask(account, ReadBook(max_age=2 * self.poll_interval))
        if isinstance(book, ExchangeFailure):
            raise book
        rows = await self.db.fetch_all(ACCOUNT_ORDER_OWNERS, (account.id,))
        owners = {r["client_order_id"]: Owner(r["group_id"], r["role"], r["symbol"]) for r in rows}
        return positions_json(book, owners)


LEASE_LOST = ExchangeFailure(
    "lease_lost",
    "This node no longer owns the account's user; nothing was sent.",
    transient=True,
    kind=FailureKind.TRANSIENT,
    reason="lease_lost",
)


def _fenced(fn: Callable[[Any], T], leases: ClusterLeases, user_id: str) -> Callable[[Any], T]:
    def fenced(client: Any) -> T:
        leases.check_write(user_id)  # raises Fenced: the order is not sent
        return fn(client)

    return fenced


def _is_write(message: Any) -> bool:
    """Whether ``message`` may change the exchange's state (an order sent, cancelled)."""
    return isinstance(message, Call) and not message.read_only
