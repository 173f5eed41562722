"""The one place that touches trio-websocket's internals: a connection's byte stream and send lock.

The fast fan-out (:mod:`api.ws.frames`) writes ready-made frames straight to a connection's
stream instead of calling ``send_message`` (which would frame every message again for every
connection and cost a task switch per message). trio-websocket has no public API for that, so
this module reaches into ``WebSocketConnection`` for exactly three things of the pinned version
(0.12.2):

* ``_stream``: the ``trio.SocketStream`` under the connection (its socket's file descriptor
  takes the non-blocking direct writes);
* ``_stream_lock``: the lock trio-websocket's own sends (pings, pongs, close frames) hold, so
  our frames never interleave with theirs;
* ``_abort_web_socket()``: what trio-websocket itself calls when the stream breaks under a send,
  so the connection ends as ``ConnectionClosed`` (code 1006) for its reader too.

:func:`check_transport` proves at server start, on a real connection over a socket pair, that
these exist and behave as assumed; if not, start-up fails with one line (docs/realtime.md).
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import trio
import trio.lowlevel
import trio_websocket
from trio_websocket import ConnectionClosed, WebSocketConnection

from testudo.config import ConfigError

#: The version these internals were read from (pyproject.toml pins it).
PINNED_VERSION = "0.12.2"

# The private attributes used, named once (a test renames one to see the start-up check fail).
STREAM_ATTRIBUTE = "_stream"
LOCK_ATTRIBUTE = "_stream_lock"
ABORT_ATTRIBUTE = "_abort_web_socket"


class TransportMismatch(ConfigError):
    """The installed trio-websocket does not have the internals the fast fan-out relies on."""


class Transport:
    """Raw access to one connection's stream, serialised with trio-websocket's own sends."""

    def __init__(self, ws: WebSocketConnection) -> None:
        try:
            stream: Any = getattr(ws, STREAM_ATTRIBUTE)
            lock: Any = getattr(ws, LOCK_ATTRIBUTE)
            self._abort: Any = getattr(ws, ABORT_ATTRIBUTE)
            self._fd: int = stream.socket.fileno()
        except AttributeError as exc:
            raise TransportMismatch(_mismatch(f"WebSocketConnection has no {exc.name}")) from None
        self._ws = ws
        self._stream: trio.SocketStream = stream
        self._lock: trio.StrictFIFOLock = lock

    @property
    def closed(self) -> bool:
        """The connection is closing or closed (trio-websocket's public ``closed``)."""
        return self._ws.closed is not None

    @property
    def busy(self) -> bool:
        """A send holds the lock: trio-websocket's (ping, pong, close) or ours."""
        return self._lock.locked()

    def write_nowait(self, data: bytes) -> int | None:
        """One non-blocking write: bytes the socket took (0: full); None when it failed."""
        try:
            return os.write(self._fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            return None

    async def send_all(self, data: bytes) -> None:
        """Write ``data`` under the send lock; a broken stream ends the connection as 1006."""
        async with self._lock:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                await self._abort()
                raise ConnectionClosed(self._ws.closed) from None


def _mismatch(what: str) -> str:
    installed = getattr(trio_websocket, "__version__", "unknown")
    return (
        f"trio-websocket {installed} does not match what api/ws/transport.py needs "
        f"(version {PINNED_VERSION}): {what}"
    )


async def check_transport() -> None:
    """Prove the internals on a real connection, or raise :class:`TransportMismatch` (one line).

    Over a local socket pair, with trio-websocket's public handshake on both ends: a frame
    written through :class:`Transport` reaches the client; a ``send_message`` waits while the
    lock is held; an abort closes the connection with 1006. Takes a few milliseconds.
    """
    server_sock, client_sock = trio.socket.socketpair()
    server_stream, client_stream = trio.SocketStream(server_sock), trio.SocketStream(client_sock)
    try:
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await _probe(nursery, server_stream, client_stream)
                nursery.cancel_scope.cancel()
    except Exception as exc:
        error = _leaf(exc)
        if isinstance(error, TransportMismatch):
            raise error from None
        raise TransportMismatch(_mismatch(f"{type(error).__name__}: {error}")) from None
    finally:
        with trio.CancelScope(shield=True):
            await server_stream.aclose()
            await client_stream.aclose()


def _leaf(error: BaseException) -> BaseException:
    """The first exception inside ``error`` that is not a group."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def _probe(
    nursery: trio.Nursery, server_stream: trio.SocketStream, client_stream: trio.SocketStream
) -> None:
    """The checks of :func:`check_transport` on one freshly opened connection."""
    from testudo.realtime.events import ws_text

    clients: trio.MemorySendChannel[WebSocketConnection]
    clients, connected = trio.open_memory_channel[WebSocketConnection](1)

    async def connect() -> None:
        client = await trio_websocket.wrap_client_stream(nursery, client_stream, "localhost", "/")
        await clients.send(client)

    nursery.start_soon(connect)
    request = await trio_websocket.wrap_server_stream(nursery, server_stream)
    ws = await request.accept()
    transport = Transport(ws)
    if getattr(ws, STREAM_ATTRIBUTE) is not server_stream:
        raise TransportMismatch(_mismatch(f"{STREAM_ATTRIBUTE} is not the connection's stream"))
    if not inspect.iscoroutinefunction(getattr(ws, ABORT_ATTRIBUTE)):
        raise TransportMismatch(_mismatch(f"{ABORT_ATTRIBUTE} is not a coroutine method"))
    client = await connected.receive()
    direct = ws_text("direct")
    if transport.busy or transport.write_nowait(direct) != len(direct):
        raise TransportMismatch(_mismatch("a direct write did not go through"))
    await transport.send_all(ws_text("locked"))
    if [await client.get_message(), await client.get_message()] != ["direct", "locked"]:
        raise TransportMismatch(_mismatch("the client did not read the frames written"))
    await _check_lock_is_shared(nursery, ws, client)
    await getattr(ws, ABORT_ATTRIBUTE)()
    if ws.closed is None or ws.closed.code != 1006 or not transport.closed:
        raise TransportMismatch(_mismatch(f"{ABORT_ATTRIBUTE} did not close the connection"))


async def _check_lock_is_shared(
    nursery: trio.Nursery, ws: WebSocketConnection, client: WebSocketConnection
) -> None:
    """trio-websocket's own ``send_message`` waits while the transport's lock is held."""
    lock: trio.StrictFIFOLock = getattr(ws, LOCK_ATTRIBUTE)
    async with lock:
        nursery.start_soon(ws.send_message, "after")
        for _ in range(100):
            await trio.lowlevel.checkpoint()
            if lock.statistics().tasks_waiting:
                break
        else:
            raise TransportMismatch(_mismatch(f"send_message does not take {LOCK_ATTRIBUTE}"))
    if await client.get_message() != "after":
        raise TransportMismatch(_mismatch("a message sent after the lock was lost"))
