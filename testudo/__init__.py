"""Testudo: a risk-checked crypto trading backend (domain, storage, configuration, CLI)."""

__version__ = "0.1.0"
