"""Testudo's scenario kit: the whole service, the exchange simulator and a signed-in trader,
as pytest-trio fixtures (``pip install testudo[testing]``; the plugin loads by itself).

``api.testing.plugin`` holds the fixtures; docs/testing.md shows a complete scenario.
"""

from __future__ import annotations

from .database import PgServer, fresh_database, migrated_template, pg_server_running
from .desk import Desk, UnexpectedStatus, signed_in
from .service import running_service
from .settings import SIWE_DOMAIN, SIWE_URI, make_settings, on_simulator
from .siwe import Wallet, WebSession, cookies_of, sign_in
from .stream import Event, EventStream, StreamError, open_events
from .trader import Trader, event_names, live_orders, open_trader
from .venues import UnknownVenue, Venue, link_account, scenario_venues, venue_named

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
