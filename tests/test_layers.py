"""The import contracts cover the whole product (a new module cannot slip past them)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_product_module_is_kept_away_from_the_simulator() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    guard = next(c for c in contracts if c.get("forbidden_modules") == ["testudo.sim"])
    listed = set(guard["source_modules"])
    modules = {
        f"testudo.{p.stem}" if p.is_file() else f"testudo.{p.name}"
        for p in (ROOT / "testudo").iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"
    }
    allowed = {"testudo.sim", "testudo.cli"}  # the simulator itself, and the CLI that starts it
    assert modules - allowed <= listed, sorted(modules - allowed - listed)
    assert {"actors", "api"} <= listed
