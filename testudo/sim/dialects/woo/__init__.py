"""WOO X (USDT perpetuals) dialect."""

from testudo.sim.dialects.woo.dialect import WooDialect

__all__ = ["WooDialect"]
