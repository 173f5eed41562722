"""Prometheus metrics of the actor runtime.

Labels are bounded: the actor *kind* (``session``, ``exchange_account``, ...), never an id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTORS_ALIVE = Gauge(
    "testudo_actors_alive",
    "Actors currently running, by kind.",
    ["kind"],
)
ACTOR_RESTARTS = Counter(
    "testudo_actor_restarts_total",
    "Actor restarts performed by supervisors, by kind.",
    ["kind"],
)
ACTOR_CRASHES = Counter(
    "testudo_actor_crashes_total",
    "Actor crashes (unhandled exceptions), by kind.",
    ["kind"],
)
MAILBOX_DEPTH = Gauge(
    "testudo_actor_mailbox_messages",
    "Messages waiting in actor mailboxes, summed by kind.",
    ["kind"],
)
ASK_LATENCY = Histogram(
    "testudo_actor_ask_duration_seconds",
    "Time from ask() to reply, by actor kind.",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACCOUNT_SNAPSHOTS = Counter(
    "testudo_account_snapshots_total",
    "Account snapshots for trade decisions, by how they were answered: from the kept funds "
    "(kept) or fetched first because there were none yet (first), a write came after them "
    "(after_write), they were too old (age) or only the price was (price).",
    ["source"],
)
TIME_TO_PROTECTION = Histogram(
    "testudo_time_to_protection_seconds",
    "From the moment a group sees its entry fill (or a new fill) to the moment a reduce-only "
    "stop for the whole position is acknowledged by the exchange, by venue.",
    ["venue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 15, 30, 60, 120),
)
UNPROTECTED_POSITIONS = Gauge(
    "testudo_unprotected_positions",
    "Positions Testudo manages that have a stop-loss but no stop resting on the exchange for "
    "the whole position right now, by venue.",
    ["venue"],
)
UNPROTECTED_SECONDS = Counter(
    "testudo_unprotected_seconds_total",
    "Seconds positions spent without their stop on the exchange, summed, by venue.",
    ["venue"],
)
