"""Hyperliquid dialect: ``/info`` and ``/exchange``."""

from testudo.sim.dialects.hyperliquid.dialect import HyperliquidDialect

__all__ = ["HyperliquidDialect"]
