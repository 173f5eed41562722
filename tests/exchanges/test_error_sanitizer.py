"""What an exchange's error text keeps: the venue's words, never where the request went."""

from __future__ import annotations

from testudo.exchanges.errors import sanitize


def test_bracketed_numbers_are_the_venues_words_and_ipv6_addresses_are_not() -> None:
    """Bybit brackets prices in its refusals; an IPv6 address (always with a colon) is still
    hidden, with its port."""
    bybit = 'bybit {"retCode":110093,"retMsg":"trigger_price[4850000000] >= current[4940000000]"}'
    assert sanitize(bybit) == bybit
    assert sanitize("connect to [::1]:8090 or [fe80::1] failed") == (
        "connect to <address> or <address> failed"
    )
    assert sanitize("from 127.0.0.1:8090") == "from <address>"
