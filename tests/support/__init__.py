"""Helpers of the tests (fixtures stay in conftest.py files and import from here).

What the scenario kit (``api.testing``) also offers to people outside the repository is the
kit's own implementation, re-exported here: the PostgreSQL server and fresh databases, the
service's test settings, running the service in a nursery, real SIWE sign-in.
"""

from __future__ import annotations

from api.testing import (
    SIWE_DOMAIN,
    SIWE_URI,
    PgServer,
    fresh_database,
    make_settings,
    migrated_template,
    on_simulator,
    pg_server_running,
    running_service,
)

__all__ = [
    "SIWE_DOMAIN",
    "SIWE_URI",
    "PgServer",
    "fresh_database",
    "make_settings",
    "migrated_template",
    "on_simulator",
    "pg_server_running",
    "running_service",
]
