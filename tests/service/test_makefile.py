"""The first install shows its progress: ``make install`` says what it does and pip is not
silenced (a dry run of the real Makefile, so nothing is installed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_install_step_reports_progress(tmp_path: Path) -> None:
    planned = subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={tmp_path / 'venv'}", "install"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    installs = [line for line in planned.splitlines() if "pip install" in line]
    assert len(installs) == 2, planned
    assert all(" -q" not in line and "--quiet" not in line for line in installs), installs
    assert 'echo "Installing Testudo into' in planned and "2-3 minutes" in planned
