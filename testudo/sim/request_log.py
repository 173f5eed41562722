"""A bounded log of the requests the dialects received, for tests to inspect.

Each entry names the request the way fault rules do (``/fapi/v1/order``,
``/exchange:setReferrer``, ``/info:openOrders``), so a test can assert that an action was
never sent, count a client's requests per minute, or see which key signed a Hyperliquid
action. Memory is bounded: a ring buffer keeps the newest ``capacity`` entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import attrs

DEFAULT_CAPACITY = 10_000


@attrs.define
class RequestEntry:
    """One request: when, to which exchange, what it was, who signed it, how it was answered."""

    seq: int
    time_ms: int
    exchange: str
    method: str
    path: str
    keys: tuple[str, ...]
    peer: str
    signer: str | None = None
    status: int | None = None

    def public(self) -> dict[str, object]:
        """JSON shape for the control API."""
        return {
            "seq": self.seq,
            "time": self.time_ms,
            "exchange": self.exchange,
            "method": self.method,
            "path": self.path,
            "key": self.keys[-1] if self.keys else self.path,
            "keys": list(self.keys),
            "peer": self.peer,
            "signer": self.signer,
            "status": self.status,
        }


class RequestLog:
    """The newest ``capacity`` requests, oldest first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._entries: deque[RequestEntry] = deque(maxlen=capacity)
        self._next = 1
        self._current: RequestEntry | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def record(
        self,
        exchange: str,
        method: str,
        path: str,
        keys: Sequence[str],
        *,
        peer: str,
        now_ms: int,
    ) -> RequestEntry:
        """Append an entry (the oldest one drops out when full) and return it."""
        entry = RequestEntry(
            seq=self._next,
            time_ms=now_ms,
            exchange=exchange,
            method=method,
            path=path,
            keys=tuple(keys),
            peer=peer,
        )
        self._next += 1
        self._entries.append(entry)
        return entry

    @contextmanager
    def serving(self, entry: RequestEntry) -> Iterator[RequestEntry]:
        """Make ``entry`` the one a dialect annotates while it handles the request.

        Dialects handle a request synchronously, so no other request can start meanwhile.
        """
        previous, self._current = self._current, entry
        try:
            yield entry
        finally:
            self._current = previous

    def note_signer(self, signer: str) -> None:
        """Record who signed the request being served (no-op outside ``serving``)."""
        if self._current is not None:
            self._current.signer = signer.lower()

    def select(
        self, *, exchange: str | None = None, key: str | None = None, limit: int | None = None
    ) -> list[RequestEntry]:
        """The newest ``limit`` entries (all if ``None``), oldest first, optionally filtered.

        ``exchange`` matches the URL prefix (``hyperliquid``, ``binanceusdm``); ``key`` matches
        any fault key of the request, or a prefix of one when it ends with ``*``.
        """
        rows = [e for e in self._entries if exchange in (None, e.exchange)]
        if key is not None:
            rows = [e for e in rows if _key_matches(key, e.keys)]
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return rows

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep increasing)."""
        self._entries.clear()


def _key_matches(wanted: str, keys: Sequence[str]) -> bool:
    if wanted.endswith("*"):
        return any(k.startswith(wanted[:-1]) for k in keys)
    return wanted in keys
