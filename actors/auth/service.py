"""What the API layer asks of authentication: sign in, authenticate, rotate, pair, revoke.

Commands that touch a session go to its :class:`~actors.auth.session.SessionActor` (found or
spawned through the registry); creating a session is one database transaction (nonce consumed,
user found or created, session and first refresh token inserted). Revocation is written to the
database, then pushed to live session actors and to revocation listeners (the WebSocket layer
closes that session's connections) on this node, and NOTIFYed to the other nodes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import trio

from actors import ActorStopped, Ask, Registry, SupervisorRef
from actors.auth.session import (
    Authenticate,
    MarkRevoked,
    Revoke,
    Rotate,
    Rotated,
    SessionActor,
    SessionView,
)
from testudo.auth import store
from testudo.auth.limits import FailedCredentials, SignInThrottle
from testudo.auth.settings import AuthSettings
from testudo.auth.siwe_check import check_siwe
from testudo.auth.tokens import (
    InvalidToken,
    IssuedTokens,
    issue_access,
    refresh_session_id,
    verify_access,
)
from testudo.clock import Clock
from testudo.db import Database
from testudo.problems import Problem

log = logging.getLogger("testudo.auth")

RevocationListener = Callable[[str], Awaitable[None]]
R = TypeVar("R")


@attrs.frozen
class Principal:
    """The authenticated caller of a request."""

    user_id: str
    wallet_address: str
    session_id: str
    session_kind: str


@attrs.frozen
class SignedIn:
    user: dict[str, Any]
    tokens: IssuedTokens
    session_id: str


class AuthService:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        sessions: SupervisorRef,
        settings: AuthSettings,
        clock: Clock,
    ) -> None:
        self.db = db
        self.registry = registry
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.limiter = FailedCredentials(
            settings.invalid_token_limit, settings.invalid_token_window
        )
        self.signin_throttle = SignInThrottle(
            settings.signin_per_client_per_minute, settings.signin_per_second
        )
        # EIP-4361 checks are CPU-bound Python: one thread at a time, the event loop keeps going
        self.siwe_threads = trio.CapacityLimiter(1)
        self._revocation_listeners: list[RevocationListener] = []

    # -- sessions as actors ------------------------------------------------------------

    def _factory(self, session_id: str) -> Callable[[], SessionActor]:
        return lambda: SessionActor(session_id, self.db, self.settings, self.clock)

    async def _ask_session(self, session_id: str, message: Ask[R]) -> R:
        return await self.registry.ask(
            ("session", session_id),
            self.sessions,
            self._factory(session_id),
            message,
            idle_timeout=self.settings.session_idle_timeout,
        )

    # -- sign-in -------------------------------------------------------------------------

    async def new_nonce(self) -> str:
        now = self.clock.now()
        return await self.db.run(lambda c: store.create_nonce_tx(c, now, self.settings.nonce_ttl))

    async def sign_in(
        self, message: str, signature: str, ip: str | None, user_agent: str | None
    ) -> SignedIn | Problem:
        now = self.clock.now()
        wait = self.signin_throttle.admit(ip or "unknown", now)
        if wait is not None:
            return Problem(
                "rate_limited", "Too many sign-in attempts; try again later.", retry_after=wait
            )
        checked = await trio.to_thread.run_sync(
            check_siwe, message, signature, self.settings, now, limiter=self.siwe_threads
        )
        if isinstance(checked, Problem):
            return checked
        try:
            created = await self.db.run(
                lambda c: store.sign_in_tx(
                    c,
                    checked.wallet_address,
                    checked.nonce,
                    now,
                    self.settings.refresh_ttl,
                    ip,
                    user_agent,
                )
            )
        except store.NonceRejected:
            return Problem("invalid_nonce", "The nonce is unknown, expired or was already used.")
        return self._signed_in(created, now)

    def _signed_in(self, created: store.NewSession, now: dt.datetime) -> SignedIn:
        access = issue_access(
            self.settings, created.user_id, created.session_id, created.wallet_address, now
        )
        tokens = IssuedTokens(access, created.refresh_token, self.settings.access_ttl)
        return SignedIn(
            store.user_json(created.user_id, created.wallet_address), tokens, created.session_id
        )

    # -- every authenticated request --------------------------------------------------

    async def authenticate(self, token: str) -> Principal | Problem:
        """The caller a token stands for. Invalid tokens are counted per token (its hash): the
        same bad token presented too often gets 429; a valid token is never refused."""
        now = self.clock.now()
        try:
            claims = verify_access(self.settings, token, now)
        except InvalidToken:
            invalid = Problem("invalid_token", "The access token is invalid or expired.")
            return self._failed(token, now, invalid)
        view = await self._ask_session(claims.session_id, Authenticate())
        if isinstance(view, Problem):
            return self._failed(token, now, view)
        assert isinstance(view, SessionView)
        if not view.active:
            return Problem(
                "session_revoked" if view.reason != "session_expired" else "invalid_token",
                "The session is no longer valid.",
            )
        if view.user_id != claims.user_id:
            return Problem("invalid_token", "The access token is invalid.")
        return Principal(view.user_id, view.wallet_address, view.session_id, view.kind)

    def _failed(self, token: str, now: dt.datetime, refused: Problem) -> Problem:
        blocked = self.limiter.blocked_for(token, now)
        if blocked is not None:
            return Problem(
                "rate_limited",
                "This token was refused too often; stop retrying it.",
                retry_after=blocked,
            )
        self.limiter.record(token, now)
        return refused

    # -- refresh ------------------------------------------------------------------------

    async def refresh(self, token: str, expected_kind: str) -> SignedIn | Problem:
        session_id = refresh_session_id(token)
        if session_id is None:
            return Problem("invalid_token", "The refresh token is not valid.")
        view = await self._ask_session(session_id, Authenticate())
        if isinstance(view, Problem):
            return attrs.evolve(view, detail="The refresh token is not valid.")
        if isinstance(view, SessionView) and view.kind != expected_kind:
            # Refused before rotating: consuming it here would make the real client's next
            # refresh look like reuse and revoke its session.
            return Problem("invalid_token", f"This refresh token belongs to a {view.kind} session.")
        reply = await self._ask_session(session_id, Rotate(token))
        if isinstance(reply, Problem):
            if reply.error == "refresh_token_reused":
                log.warning(
                    "refresh token reuse: session revoked",
                    extra={
                        "json_fields": {"event": "refresh_token_reused", "session_id": session_id}
                    },
                )
                await self._announce(session_id)
            return reply
        assert isinstance(reply, Rotated)
        if reply.kind != expected_kind:
            return Problem(
                "invalid_token", f"This refresh token belongs to a {reply.kind} session."
            )
        return SignedIn(
            store.user_json(reply.user_id, reply.wallet_address), reply.tokens, session_id
        )

    # -- revocation -----------------------------------------------------------------------

    def on_revoked(self, listener: RevocationListener) -> None:
        """Call ``listener(session_id)`` whenever a session is revoked (on any node)."""
        self._revocation_listeners.append(listener)

    async def logout(self, principal: Principal) -> None:
        await self._ask_session(principal.session_id, Revoke("logout"))
        await self._announce(principal.session_id)

    async def revoke_all(self, principal: Principal) -> int:
        now = self.clock.now()
        ids = await self.db.run(
            lambda c: store.revoke_user_tx(c, principal.user_id, "revoke_all", now)
        )
        for session_id in ids:
            await self.session_revoked(session_id, "revoke_all")
        return len(ids)

    async def session_revoked(self, session_id: str, reason: str = "revoked") -> None:
        """Tell this node's live actor and listeners that ``session_id`` is revoked."""
        ref = self.registry.lookup(("session", session_id))
        if ref is not None:
            with contextlib.suppress(ActorStopped):
                await ref.ask(MarkRevoked(reason), timeout=5)
        await self._announce(session_id)

    async def _announce(self, session_id: str) -> None:
        for listener in list(self._revocation_listeners):
            await listener(session_id)

    async def recheck_live_sessions(self) -> None:
        """After a listener reconnect: revocations may have been missed; ask the database."""
        live = [
            str(key[1])
            for key in self.registry.running()
            if isinstance(key, tuple) and key[0] == "session"
        ]
        if not live:
            return
        revoked = await self.db.run(lambda c: store.revoked_among_tx(c, live))
        for session_id in revoked:
            await self.session_revoked(session_id)

    # -- extension pairing ----------------------------------------------------------------

    async def pair_extension(self, principal: Principal) -> tuple[str, dt.datetime]:
        now = self.clock.now()
        ttl = self.settings.pairing_ttl
        code = await self.db.run(
            lambda c: store.create_pairing_code_tx(
                c, principal.user_id, principal.session_id, now, ttl
            )
        )
        return code, now + dt.timedelta(seconds=ttl)

    async def pair_status(self, principal: Principal) -> bool:
        since = self.clock.now() - dt.timedelta(seconds=self.settings.pairing_status_window)
        claimed = await self.db.run(lambda c: store.paired_recently_tx(c, principal.user_id, since))
        return claimed is not None

    async def claim_pairing(self, code: str, ip: str, user_agent: str | None) -> SignedIn | Problem:
        now = self.clock.now()
        s = self.settings
        outcome = await self.db.run(
            lambda c: store.claim_pairing_tx(
                c,
                code,
                now,
                ip,
                user_agent,
                s.refresh_ttl,
                store.PairingBudgets(
                    s.pairing_ip_failures_per_minute,
                    s.pairing_ip_failures_per_hour,
                    s.pairing_global_failures_per_minute,
                    s.pairing_max_failures_per_code,
                ),
            )
        )
        if outcome.throttled_for is not None:
            return Problem(
                "rate_limited",
                "Too many pairing attempts. Try again later.",
                retry_after=outcome.throttled_for,
            )
        if outcome.session is None:
            return Problem("invalid_pairing_code", "Invalid or expired pairing code.")
        return self._signed_in(outcome.session, now)
