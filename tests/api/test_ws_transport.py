"""The fence around trio-websocket's internals: the start-up check passes on the pinned version
and refuses, in one line, internals that are missing or behave otherwise."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio_websocket

from api.ws import transport
from api.ws.transport import TransportMismatch, check_transport
from testudo.config import ConfigError


async def test_the_pinned_version_passes() -> None:
    assert trio_websocket.__version__ == transport.PINNED_VERSION
    with trio.fail_after(5):
        await check_transport()


@pytest.mark.parametrize(
    ("attribute", "replacement", "says"),
    [
        ("LOCK_ATTRIBUTE", "_send_lock", "WebSocketConnection has no _send_lock"),
        ("STREAM_ATTRIBUTE", "_gone", "WebSocketConnection has no _gone"),
        ("ABORT_ATTRIBUTE", "is_client", "is_client is not a coroutine method"),
    ],
)
async def test_missing_internals_fail_start_up_in_one_line(
    monkeypatch: pytest.MonkeyPatch, attribute: str, replacement: str, says: str
) -> None:
    monkeypatch.setattr(transport, attribute, replacement)
    with pytest.raises(TransportMismatch) as caught:
        await check_transport()
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError)  # the CLI prints it as one line, exit 2
    assert "\n" not in message and says in message
    assert message.startswith("trio-websocket 0.12.2 does not match")


async def test_a_lock_trio_websocket_does_not_take_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = trio_websocket.WebSocketConnection.__init__

    def with_spare_lock(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._spare_lock = trio.StrictFIFOLock()

    monkeypatch.setattr(trio_websocket.WebSocketConnection, "__init__", with_spare_lock)
    monkeypatch.setattr(transport, "LOCK_ATTRIBUTE", "_spare_lock")
    with pytest.raises(TransportMismatch, match="send_message does not take _spare_lock"):
        await check_transport()
