"""Testudo's scenario kit: the whole service, the exchange simulator and a signed-in trader,
as pytest-trio fixtures (``pip install testudo[testing]``; the plugin loads by itself).

``api.testing.plugin`` holds the fixtures; docs/testing.md shows a complete scenario. The names
below are imported on first use, so that loading the entry point (``pytest_entry``) costs
nothing and needs none of the ``testing`` extra's packages.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .database import PgServer, fresh_database, migrated_template, pg_server_running
    from .desk import Desk, UnexpectedStatus, signed_in
    from .service import running_service
    from .settings import SIWE_DOMAIN, SIWE_URI, make_settings, on_simulator
    from .siwe import Wallet, WebSession, cookies_of, sign_in
    from .stream import Event, EventStream, StreamError, open_events
    from .trader import Trader, event_names, live_orders, open_trader
    from .venues import UnknownVenue, Venue, link_account, scenario_venues, venue_named

_HOMES = {
    "database": ("PgServer", "fresh_database", "migrated_template", "pg_server_running"),
    "desk": ("Desk", "UnexpectedStatus", "signed_in"),
    "service": ("running_service",),
    "settings": ("SIWE_DOMAIN", "SIWE_URI", "make_settings", "on_simulator"),
    "siwe": ("Wallet", "WebSession", "cookies_of", "sign_in"),
    "stream": ("Event", "EventStream", "StreamError", "open_events"),
    "trader": ("Trader", "event_names", "live_orders", "open_trader"),
    "venues": ("UnknownVenue", "Venue", "link_account", "scenario_venues", "venue_named"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "SIWE_DOMAIN",
    "SIWE_URI",
    "Desk",
    "Event",
    "EventStream",
    "PgServer",
    "StreamError",
    "Trader",
    "UnexpectedStatus",
    "UnknownVenue",
    "Venue",
    "Wallet",
    "WebSession",
    "cookies_of",
    "event_names",
    "fresh_database",
    "link_account",
    "live_orders",
    "make_settings",
    "migrated_template",
    "on_simulator",
    "open_events",
    "open_trader",
    "pg_server_running",
    "running_service",
    "scenario_venues",
    "sign_in",
    "signed_in",
    "venue_named",
]
