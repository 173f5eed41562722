"""The client's address, taking ``X-Forwarded-For`` only from trusted proxies.

Behind a reverse proxy every request comes from the proxy's address; the proxy names the
client in ``X-Forwarded-For`` (each hop appends the address it received from). That header
is believed only when the direct peer is one of the configured trusted proxies
(``--trusted-proxies``, CIDRs), and then read from the right: the first address that is not
itself a trusted proxy is the client. Anyone else can write anything in the header, so for
other peers it is ignored and the peer address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 20


class InvalidNetwork(ValueError):
    """A trusted-proxy entry that is not an address or a CIDR."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, ::1"`` as networks; :class:`InvalidNetwork` naming the bad entry."""
    networks = []
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InvalidNetwork(f"not an IP address or CIDR: {entry!r}") from None
    return tuple(networks)


def _trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address for a request from ``peer`` with these X-Forwarded-For values."""
    client = peer or "unknown"
    if not trusted or not _trusted(client, trusted):
        return client
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return client  # a malformed hop: trust nothing further
        client = hop
    return client
