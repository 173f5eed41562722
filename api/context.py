"""Access to the running :class:`~actors.system.System` from request handlers."""

from __future__ import annotations

from typing import cast

from quart import current_app

from actors.system import System


def system() -> System:
    """The system this app serves (set by :func:`api.app.create_app`)."""
    return cast(System, current_app.config["TESTUDO_SYSTEM"])
