"""The ``pytest11`` entry point: loads the kit's fixtures when the ``testing`` extra is there.

Every pytest run in an environment where Testudo is installed loads this module, so it must not
break runs that do not use the kit: without the extra's packages it adds nothing and says so in
the report header.
"""

from __future__ import annotations

import importlib.util

EXTRA = ("httpx", "pytest_trio")
MISSING = tuple(name for name in EXTRA if importlib.util.find_spec(name) is None)
pytest_plugins = [] if MISSING else ["api.testing.plugin"]


def pytest_report_header() -> str | None:
    """One header line when the kit is off."""
    if not MISSING:
        return None
    return (
        f"testudo scenario kit: off ({', '.join(MISSING)} missing; pip install 'testudo[testing]')"
    )
