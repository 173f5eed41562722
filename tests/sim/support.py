"""Helpers for tests that drive sync ccxt clients from trio."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import trio


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking ccxt call in a worker thread."""
    return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))
