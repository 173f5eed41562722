"""Exchanges: the registry of supported exchanges and the gateway that reaches them."""
