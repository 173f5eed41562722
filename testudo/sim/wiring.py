"""Point a ccxt client at the simulator: the same generic base-URL rewrite production uses."""

from __future__ import annotations

from typing import Any

from testudo.exchanges.endpoints import rebase_urls


def point_ccxt_at(exchange: Any, base_url: str) -> None:
    """Send every request of ``exchange`` to ``<base_url>/<exchange.id>/<original path>``."""
    rebase_urls(exchange, base_url)
