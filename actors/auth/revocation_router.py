"""Routes session revocations NOTIFYed by any node to this node's auth service.

It subscribes to the listener's revocation channel; a revoked session id is handed to
:meth:`AuthService.session_revoked` (live session actor told, WebSockets closed). After every
listener reconnect it asks the database which live sessions were revoked meanwhile.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Never

import trio

from actors.realtime.pg_listener import (
    Delivery,
    ListenerMessage,
    Notification,
    Reconnected,
    Subscribe,
)
from actors.runtime.actor import Actor, ActorContext, ActorRef
from testudo.auth.store import REVOCATION_CHANNEL

if TYPE_CHECKING:
    from actors.auth.service import AuthService


class RevocationRouter(Actor[Never]):
    kind = "revocation_router"

    def __init__(self, listener: ActorRef[ListenerMessage], auth: AuthService) -> None:
        self._listener = listener
        self._auth = auth

    async def started(self, ctx: ActorContext[Never]) -> None:
        send, receive = trio.open_memory_channel[Delivery](1024)
        await self._listener.ask(Subscribe(REVOCATION_CHANNEL, send))
        ctx.nursery.start_soon(self._route, receive, ctx)

    async def _route(
        self, receive: trio.MemoryReceiveChannel[Delivery], ctx: ActorContext[Never]
    ) -> None:
        async for item in receive:
            if isinstance(item, Reconnected):
                await self._auth.recheck_live_sessions()
            elif isinstance(item, Notification):
                try:
                    session_id = str(uuid.UUID(item.payload))
                except ValueError:
                    continue
                await self._auth.session_revoked(session_id)
        # The listener cut us off (we fell behind): crash, be restarted, resubscribe.
        raise RuntimeError("revocation subscription closed by the listener")
