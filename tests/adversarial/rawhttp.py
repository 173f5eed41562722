"""A raw HTTP/1.1 client over one trio socket: exact control of what is sent and when."""

from __future__ import annotations

from urllib.parse import urlsplit

import attrs
import trio

HANG_GUARD = 30  # seconds: only to turn a hang into a failure, never a performance bound


@attrs.frozen
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: testudo.test",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RawConnection:
    """One TCP connection; reads responses with Content-Length bodies."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.closed = False

    @classmethod
    async def open(cls, base_url: str) -> RawConnection:
        parts = urlsplit(base_url)
        assert parts.hostname is not None and parts.port is not None
        return cls(await trio.open_tcp_stream(parts.hostname, parts.port))

    async def send(self, data: bytes) -> bool:
        """Send ``data``; False when the server already closed the connection."""
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        return True

    async def _fill(self) -> bool:
        try:
            chunk = await self.stream.receive_some(65536)
        except trio.BrokenResourceError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buffer.extend(chunk)
        return True

    async def response(self) -> RawResponse | None:
        """The next response, or None when the server closed the connection first."""
        with trio.fail_after(HANG_GUARD):
            while b"\r\n\r\n" not in self.buffer:
                if not await self._fill():
                    return None
            head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                if not await self._fill():
                    return None
                rest = bytes(self.buffer).partition(b"\r\n\r\n")[2]
            self.buffer = bytearray(rest[length:])
            return RawResponse(status, headers, rest[:length])

    async def at_eof(self) -> bool:
        """True when the server closes the connection (after anything still buffered)."""
        with trio.fail_after(HANG_GUARD):
            while await self._fill():
                pass
        return self.closed

    async def aclose(self) -> None:
        await self.stream.aclose()
