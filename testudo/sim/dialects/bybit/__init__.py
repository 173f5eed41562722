"""Bybit v5 dialect (USDT linear perpetuals, unified trading account)."""

from testudo.sim.dialects.bybit.dialect import BybitDialect

__all__ = ["BybitDialect"]
