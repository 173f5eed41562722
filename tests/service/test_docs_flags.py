"""Every command-line flag the README and docs/*.md mention exists: in ``testudo serve
--help``, or for the simulator's own flags in ``testudo sim --help`` (run as a person would)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")
NOT_OURS = {
    "--strict": "mypy --strict, in the README's make targets",
    "--x": "the placeholder of a switch in docs/operations.md",
    "--no-x": "the placeholder of a switch in docs/operations.md",
}


def help_flags(command: str) -> set[str]:
    shown = subprocess.run(
        [sys.executable, "-m", "testudo.cli", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return set(FLAG.findall(shown))


def test_every_flag_the_docs_mention_exists() -> None:
    serve, sim = help_flags("serve"), help_flags("sim")
    assert "--trade-poll-interval" in serve and "--market-data-linger" in serve
    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for flag in sorted(set(FLAG.findall(doc.read_text()))):
            known = serve | (sim if doc.name == "simulator.md" else set())
            if flag not in known and flag not in NOT_OURS:
                missing.append(f"{doc.name}: {flag}")
    assert missing == []
