"""docs/testing.md's scenario, exactly as written, run from outside the repository.

The python block under "A complete scenario" is written to a temporary folder (no conftest, no
pytest configuration, not under tests/) and run by pytest in another process: the kit's plugin
must be found through its entry point, as it is for anyone who installed the package. The
child uses this process's PostgreSQL server (``TESTUDO_TEST_DATABASE_URL``) to save starting
another.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from api.testing import PgServer

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"


def scenario_code(markdown: str) -> str:
    """The first python block after the "A complete scenario" heading."""
    section = markdown.split("## A complete scenario", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "docs/testing.md has no python block under its scenario heading"
    return found.group(1)


def test_the_scenario_block_is_about_twenty_lines() -> None:
    code = scenario_code(DOC.read_text())
    assert "async def test_" in code and "pytest.mark.trio" in code
    assert len(code.strip().splitlines()) <= 25


def test_the_documented_scenario_runs_outside_the_repository(
    tmp_path: Path, pg_server: PgServer
) -> None:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    (tmp_path / "test_scenario.py").write_text(scenario_code(DOC.read_text()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHONPATH"))}
    env["TESTUDO_TEST_DATABASE_URL"] = pg_server.admin_url
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_scenario.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert re.search(r"\b3 passed\b", report), report
