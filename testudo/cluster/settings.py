"""Settings of the cluster: how long a lease lasts, where peers forward a user's requests.

:data:`OPTIONS` are this part's rows of the settings table; :mod:`testudo.config` puts them in
its section ``cluster`` (flags, ``TESTUDO_*`` variables and docs come from there).
"""

from __future__ import annotations

import attrs

from testudo import option_parsers as p
from testudo.options import Option


@attrs.frozen
class ClusterSettings:
    """Leases and forwarding between the nodes on one database (docs/operations.md)."""

    #: Seconds a node's leases last without a renewal; a paused or cut-off node's users are
    #: taken over after this (a killed node's at once: its database lock goes with it).
    lease_ttl: float = 6.0
    #: Seconds between two takeover scans (dead nodes, users with live groups and no owner).
    scan_interval: float = 1.0
    #: The address of the peer listener, where other nodes forward this node's users' requests.
    peer_host: str = "127.0.0.1"
    #: Its port (0: any free port; the node advertises the one it got).
    peer_port: int = 0
    #: The URL the other nodes use to reach the peer listener (default: from host and port).
    peer_url: str | None = None

    @property
    def renew_interval(self) -> float:
        """Renewals come five times per term, so one or two lost ones cost nothing."""
        return self.lease_ttl / 5

    @property
    def margin(self) -> float:
        """What a node keeps back of its term (clock-rate differences, a renewal in flight)."""
        return self.lease_ttl / 6


OPTIONS = (
    Option(
        "lease_ttl",
        "--lease-ttl",
        "LEASE_TTL",
        p.seconds,
        "6",
        "seconds a node's user leases last unrenewed (a paused node's users move after this)",
    ),
    Option(
        "scan_interval",
        "--lease-scan-interval",
        "LEASE_SCAN_INTERVAL",
        p.seconds,
        "1",
        "seconds between two scans for dead nodes and unowned live trade groups",
    ),
    Option(
        "peer_host",
        "--peer-host",
        "PEER_HOST",
        p.text,
        "127.0.0.1",
        "address of the peer listener other nodes forward a user's requests to",
    ),
    Option(
        "peer_port",
        "--peer-port",
        "PEER_PORT",
        p.port,
        "0",
        "port of the peer listener (0: any free port)",
    ),
    Option(
        "peer_url",
        "--peer-url",
        "PEER_URL",
        p.text,
        "",
        "URL other nodes reach the peer listener at",
        default_doc="`http://<peer host>:<peer port>`",
    ),
)
