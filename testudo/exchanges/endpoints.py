"""Send a ccxt client's requests to another base URL (a gateway, a proxy, a test exchange).

With a base URL configured, every ``urls['api']`` entry of the client keeps its path and loses
its scheme and host: ``https://fapi.binance.com/fapi/v1`` becomes
``<base>/binanceusdm/fapi/v1``. Production leaves it unset and ccxt talks to the exchanges.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def rebase_urls(exchange: Any, base_url: str) -> None:
    """Point every API URL of ``exchange`` at ``<base_url>/<exchange.id>/<original path>``.

    Some ccxt classes (the Binance family) choose their error table by the URL's host; once
    the host is gone, the table of the client's default market type is merged into the generic
    one so errors keep their proper classes (``InsufficientFunds``, ...).
    """
    prefix = base_url.rstrip("/") + "/" + str(exchange.id)
    exchange.urls["api"] = _rewrite(exchange.urls["api"], prefix)
    _merge_market_type_exceptions(exchange)


def _rewrite(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        parts = urlsplit(value)
        rest = parts.path.rstrip("/")
        if parts.query:
            rest += "?" + parts.query
        return prefix + rest
    if isinstance(value, dict):
        return {key: _rewrite(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, prefix) for item in value]
    return value


def _merge_market_type_exceptions(exchange: Any) -> None:
    exceptions = getattr(exchange, "exceptions", None)
    options = getattr(exchange, "options", None) or {}
    if not isinstance(exceptions, dict):
        return
    for market_type in (options.get("defaultSubType"), options.get("defaultType")):
        table = exceptions.get(market_type) if isinstance(market_type, str) else None
        if not isinstance(table, dict):
            continue
        for kind in ("exact", "broad"):
            specific = table.get(kind)
            if isinstance(specific, dict):
                exceptions[kind] = {**exceptions.get(kind, {}), **specific}
        return
