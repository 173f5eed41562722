"""One connection's subscriptions: SUBSCRIBE / UNSUBSCRIBE against the realtime feed.

A SUBSCRIBE is all or nothing: every channel is checked (name, availability, stream limit,
ownership, resume point) before any is attached. Private streams are attached buffering, the
acknowledgement is queued, and only then does each stream replay ``(since, cursor]`` from the
events table (paced by the outbox) or go live, so the client sees: ack, replayed events, live
events, each sequence exactly once. Public streams are attached after the ack and their
market-data feeds started.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs
import psycopg
import trio
from psycopg_pool import PoolTimeout

from actors.auth.service import Principal
from actors.realtime.core import Realtime, ResyncRequired
from testudo.realtime import channels
from testudo.realtime.outbox import CLOSE_SLOW_CONSUMER, Outbox
from testudo.realtime.router import StreamSink

from .protocol import (
    MAX_STREAMS,
    Channel,
    ErrorCode,
    ProtocolError,
    Request,
    encode,
    parse_channel,
    result,
)

log = logging.getLogger("testudo.ws")

DB_ERRORS = (psycopg.Error, PoolTimeout, OSError)


@attrs.define(eq=False)
class Subscription:
    channel: Channel
    sink: StreamSink | None = None
    replay: trio.CancelScope | None = None


class Subscriptions:
    """The channels one connection is subscribed to."""

    def __init__(self, realtime: Realtime, outbox: Outbox, nursery: trio.Nursery) -> None:
        self.realtime = realtime
        self.outbox = outbox
        self.nursery = nursery
        self.active: dict[str, Subscription] = {}

    def names(self) -> list[str]:
        return sorted(self.active)

    async def subscribe(
        self, request: Request, principal: Principal | None, auth_problem: str | None
    ) -> None:
        """Apply a SUBSCRIBE; queues the answer (and then the replays) on the outbox."""
        wanted = self._parse(request)
        if isinstance(wanted, ProtocolError):
            self.outbox.put_text(wanted.to_json_text())
            return
        new = [c for c in wanted if c.name not in self.active]
        refusal = self._refusal(request, new, principal, auth_problem)
        if refusal is None:
            refusal = await self._resume_refusal(request, new)
        if refusal is not None:
            self.outbox.put_text(refusal.to_json_text())
            return
        private = [c for c in new if c.private]
        try:
            attached = await self._attach_private(private, request.since)
        except DB_ERRORS as exc:
            log.warning("subscribe failed: %s", exc)
            self.outbox.put_text(
                ProtocolError(
                    ErrorCode.INTERNAL_ERROR,
                    "Internal error: the event log is unavailable; try again",
                    request.id,
                ).to_json_text()
            )
            return
        self.outbox.put_text(encode(result(request.id)))
        for sub, since, cursor in attached:
            if since is not None and since < cursor:
                self._start_replay(sub, since, cursor, request)
            else:
                assert sub.sink is not None
                sub.sink.go_live()
        public = [c for c in new if not c.private]
        for channel in public:
            self.active[channel.name] = Subscription(channel)
            self.realtime.attach_public(channel, self.outbox)
        for channel in _one_per_feed(public, self.realtime.settings.market_data_exchange):
            await self.realtime.want_feed(channel)

    def unsubscribe(self, request: Request) -> None:
        for name in request.params:
            if parse_channel(name) is None:
                self.outbox.put_text(_invalid_channel(name, request).to_json_text())
                return
        for name in request.params:
            self._drop(name)
        self.outbox.put_text(encode(result(request.id)))

    def close(self) -> None:
        """The connection is ending: leave every stream."""
        for name in list(self.active):
            self._drop(name)

    # -- checks --------------------------------------------------------------------------------

    def _parse(self, request: Request) -> list[Channel] | ProtocolError:
        seen: dict[str, Channel] = {}
        default = self.realtime.settings.market_data_exchange
        for name in request.params:
            channel = parse_channel(name)
            if channel is None:
                return _invalid_channel(name, request)
            if not channel.private:
                problem = channels.unavailable(channel, default)
                if problem is not None:
                    return ProtocolError(
                        ErrorCode.INVALID_CHANNEL, f"Invalid channel: {problem}", request.id
                    )
            seen[channel.name] = channel
        return list(seen.values())

    def _refusal(
        self,
        request: Request,
        new: list[Channel],
        principal: Principal | None,
        auth_problem: str | None,
    ) -> ProtocolError | None:
        if len(self.active) + len(new) > MAX_STREAMS:
            return ProtocolError(
                ErrorCode.TOO_MANY_STREAMS,
                f"Too many streams: at most {MAX_STREAMS} per connection",
                request.id,
            )
        for channel in new:
            if not channel.private:
                continue
            if principal is None:
                why = f" ({auth_problem})" if auth_problem else ""
                return ProtocolError(
                    ErrorCode.UNAUTHORIZED,
                    f"Unauthorized: {channel.name} is a private channel; authenticate first{why}",
                    request.id,
                )
            if channel.user_id != principal.user_id:
                return ProtocolError(
                    ErrorCode.FORBIDDEN,
                    f"Forbidden: {channel.name} belongs to another user",
                    request.id,
                )
        return None

    async def _resume_refusal(self, request: Request, new: list[Channel]) -> ProtocolError | None:
        since = {
            c.name: request.since[c.name] for c in new if c.private and c.name in request.since
        }
        try:
            problems = await self.realtime.resume_problems(since)
        except DB_ERRORS:
            return ProtocolError(
                ErrorCode.INTERNAL_ERROR,
                "Internal error: the event log is unavailable; try again",
                request.id,
            )
        for stream in since:
            if stream in problems:
                return ProtocolError(ErrorCode.RESYNC_REQUIRED, problems[stream], request.id)
        return None

    # -- attaching -----------------------------------------------------------------------------

    async def _attach_private(
        self, private: list[Channel], since: dict[str, int]
    ) -> list[tuple[Subscription, int | None, int]]:
        attached: list[tuple[Subscription, int | None, int]] = []
        try:
            for channel in private:
                resume = since.get(channel.name)
                sink, cursor = await self.realtime.attach(channel.name, self.outbox, resume)
                sub = Subscription(channel, sink)
                self.active[channel.name] = sub
                attached.append((sub, resume, cursor))
        except BaseException:
            for sub, _, _ in attached:
                self._drop(sub.channel.name)
            raise
        return attached

    def _start_replay(self, sub: Subscription, since: int, cursor: int, request: Request) -> None:
        sub.replay = trio.CancelScope()
        self.nursery.start_soon(self._replay, sub, since, cursor, request)

    async def _replay(self, sub: Subscription, since: int, cursor: int, request: Request) -> None:
        assert sub.sink is not None and sub.replay is not None
        with sub.replay:
            try:
                await self.realtime.replay(sub.sink, since, cursor)
            except ResyncRequired as exc:
                self._drop(sub.channel.name)
                self.outbox.put_text(
                    ProtocolError(ErrorCode.RESYNC_REQUIRED, str(exc), request.id).to_json_text()
                )
            except DB_ERRORS as exc:
                log.warning("replay failed: %s", exc)
                self.outbox.close(CLOSE_SLOW_CONSUMER, "event log unavailable: resume later")

    def _drop(self, name: str) -> None:
        sub = self.active.pop(name, None)
        if sub is None:
            return
        if sub.replay is not None:
            sub.replay.cancel()
        if sub.sink is not None:
            self.realtime.detach(sub.sink)
        else:
            self.realtime.detach_public(name, self.outbox)


def _invalid_channel(name: Any, request: Request) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_CHANNEL, f"Invalid channel: {name!r}", request.id)


def _one_per_feed(public: list[Channel], default_exchange: str) -> list[Channel]:
    feeds: dict[tuple[str, str], Channel] = {}
    for channel in public:
        feeds.setdefault(channels.feed_key(channel, default_exchange), channel)
    return list(feeds.values())
