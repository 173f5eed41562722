"""OKX v5 dialect (USDT swaps, passphrase-signed)."""

from testudo.sim.dialects.okx.dialect import OkxDialect

__all__ = ["OkxDialect"]
