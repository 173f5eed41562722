"""Binance USD-M dialect."""

from testudo.sim.dialects.binance.dialect import BinanceDialect

__all__ = ["BinanceDialect"]
