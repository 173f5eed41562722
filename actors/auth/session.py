"""The session actor: one per sign-in (web) or pairing (extension).

It owns the session's refresh-token family and serialises rotation, answers "is this session
still valid?" for every authenticated request, tracks last use (written through at most once a
minute) and is passivated when idle, then rehydrated from the database on demand. Revocation
is recorded in the database first; live actors learn of it through :class:`MarkRevoked`.
"""

from __future__ import annotations

import datetime as dt

import attrs

from actors.runtime.actor import Actor, ActorContext, Ask
from testudo.auth import store
from testudo.auth.settings import AuthSettings
from testudo.auth.tokens import IssuedTokens, issue_access, token_hash
from testudo.clock import Clock
from testudo.db import Database
from testudo.problems import Problem

TOUCH_EVERY = dt.timedelta(seconds=60)


@attrs.frozen
class SessionView:
    session_id: str
    user_id: str
    wallet_address: str
    kind: str
    active: bool
    reason: str | None = None


@attrs.frozen
class Rotated:
    tokens: IssuedTokens
    user_id: str
    wallet_address: str
    kind: str


@attrs.frozen
class Authenticate(Ask[SessionView | Problem]):
    """Is the session valid now? Replies a :class:`SessionView`."""


@attrs.frozen
class Rotate(Ask[Rotated | Problem]):
    """Rotate ``token``. Replies :class:`Rotated` or :class:`Problem`."""

    token: str


@attrs.frozen
class Revoke(Ask[bool]):
    """Revoke this session (logout). Replies True if it was live."""

    reason: str


@attrs.frozen
class MarkRevoked(Ask[bool]):
    """The session was revoked elsewhere (revoke-all, another node): forget it is live."""

    reason: str


SessionMessage = Authenticate | Rotate | Revoke | MarkRevoked


class SessionActor(Actor[SessionMessage]):
    kind = "session"

    def __init__(self, session_id: str, db: Database, settings: AuthSettings, clock: Clock) -> None:
        self.session_id = session_id
        self._db = db
        self._settings = settings
        self._clock = clock
        self._row: store.SessionRow | None = None
        self._revoked_reason: str | None = None
        self._last_touch: dt.datetime | None = None
        self._recent: dict[bytes, tuple[IssuedTokens, dt.datetime]] = {}
        self._ctx: ActorContext[SessionMessage] | None = None

    async def started(self, ctx: ActorContext[SessionMessage]) -> None:
        self._ctx = ctx
        self._row = await self._db.run(lambda c: store.load_session_tx(c, self.session_id))
        if self._row is not None:
            self._revoked_reason = self._row.revoke_reason if self._row.revoked_at else None
            self._last_touch = self._row.last_used_at

    async def handle(self, message: SessionMessage) -> object:
        match message:
            case Authenticate():
                return message.reply(await self._authenticate())
            case Rotate(token):
                return message.reply(await self._rotate(token))
            case Revoke(reason):
                return message.reply(await self._revoke(reason))
            case MarkRevoked(reason):
                self._revoked_reason = self._revoked_reason or reason
                return message.reply(True)
        self.unhandled(message)

    def _view(self, active: bool, reason: str | None = None) -> SessionView:
        row = self._row
        assert row is not None
        return SessionView(row.id, row.user_id, row.wallet_address, row.kind, active, reason)

    def _missing(self) -> Problem:
        if self._ctx is not None:
            self._ctx.stop("unknown session")
        return Problem("invalid_token", "The session does not exist.")

    async def _authenticate(self) -> SessionView | Problem:
        if self._row is None:
            return self._missing()
        if self._revoked_reason is not None:
            return self._view(False, self._revoked_reason)
        now = self._clock.now()
        if self._row.expires_at <= now:
            return self._view(False, "session_expired")
        if self._last_touch is None or now - self._last_touch >= TOUCH_EVERY:
            self._last_touch = now
            await self._db.run(lambda c: store.touch_session_tx(c, self.session_id, now))
        return self._view(True)

    async def _rotate(self, token: str) -> Rotated | Problem:
        if self._row is None:
            return self._missing()
        row = self._row
        now = self._clock.now()
        settings = self._settings
        outcome = await self._db.run(
            lambda c: store.rotate_tx(
                c, self.session_id, token, now, settings.refresh_ttl, settings.refresh_grace
            )
        )
        self._forget_old_grace(now)
        match outcome.kind:
            case "rotated":
                assert outcome.child_token is not None and outcome.expires_at is not None
                access = issue_access(settings, row.user_id, row.id, row.wallet_address, now)
                tokens = IssuedTokens(access, outcome.child_token, settings.access_ttl)
                self._recent[token_hash(token)] = (tokens, now)
                self._row = attrs.evolve(row, expires_at=outcome.expires_at, last_used_at=now)
                self._last_touch = now
                return Rotated(tokens, row.user_id, row.wallet_address, row.kind)
            case "grace":
                recent = self._recent.get(token_hash(token))
                if recent is not None:
                    return Rotated(recent[0], row.user_id, row.wallet_address, row.kind)
                return Problem(
                    "refresh_in_progress",
                    "This refresh token was just rotated; use its successor.",
                )
            case "revoked":
                self._revoked_reason = self._revoked_reason or "revoked"
                return Problem("session_revoked", "The session has been revoked.")
            case "reused":
                self._revoked_reason = "refresh_token_reused"
                return Problem(
                    "refresh_token_reused",
                    "This refresh token was already used; the session is revoked.",
                )
            case "expired":
                return Problem("invalid_token", "The refresh token has expired.")
        return Problem("invalid_token", "The refresh token is not valid.")

    async def _revoke(self, reason: str) -> bool:
        if self._row is None:
            return False
        now = self._clock.now()
        was_live = await self._db.run(lambda c: store.revoke_tx(c, self.session_id, reason, now))
        self._revoked_reason = self._revoked_reason or reason
        return was_live

    def _forget_old_grace(self, now: dt.datetime) -> None:
        limit = dt.timedelta(seconds=self._settings.refresh_grace)
        for key, (_, at) in list(self._recent.items()):
            if now - at > limit:
                del self._recent[key]
