"""Peak memory of four concurrent image bombs, before and after the decode bounds.

Each case runs in a fresh Python process whose peak resident memory (``VmHWM``) is reset
after its imports, so the peak is the case's alone: four threads clean the same upload at
once, as four concurrent requests would.
"before" is the previous bounds (40 million pixels a frame, 120 million over all frames, no
bound on concurrent decodes); "after" is ``images.Limits()`` with the service's two decodes
at once (``uploads.DECODES``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.images import gif_bomb

from .harness import report

CHILD = """
import json, sys, threading
from testudo.journal.images import ImageRejected, Limits, clean_image
path, bounds, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
limits = Limits(40_000_000, 120_000_000, 300) if bounds == "before" else Limits()
gate = threading.Semaphore(concurrency)
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) // 1024
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # reset the peak: imports are not the case's cost
idle = status("VmRSS:")
outcomes = []
def one():
    with gate:
        try:
            outcomes.append(f"accepted {len(clean_image(data, limits).data)} bytes")
        except ImageRejected as exc:
            outcomes.append(f"refused {exc.error}")
threads = [threading.Thread(target=one) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
peak = status("VmHWM:")
print(json.dumps({"idle_mib": idle, "peak_mib": peak, "outcomes": sorted(set(outcomes))}))
"""


def _case(path: Path, bounds: str, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), bounds, str(concurrency)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.stdout))


@pytest.mark.bench
def test_peak_memory_under_four_concurrent_bombs(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gif"
    bomb.write_bytes(gif_bomb(side=2000, frames=30))  # 120 million pixels: within the old bounds
    largest = tmp_path / "largest.gif"
    largest.write_bytes(gif_bomb(side=1000, frames=16))  # 16 million: the most allowed now
    rows = []
    for label, path, bounds, concurrency in (
        ("bomb, before (old bounds, 4 at once)", bomb, "before", 4),
        ("bomb, after", bomb, "after", 2),
        ("largest accepted animation, after (2 at once)", largest, "after", 2),
    ):
        measured = _case(path, bounds, concurrency)
        rows.append(
            {
                "case": f"{label}, {path.stat().st_size // 1024} KiB file",
                "idle_mib": measured["idle_mib"],
                "peak_mib": measured["peak_mib"],
                "outcome": ", ".join(measured["outcomes"]),
            }
        )
    report("image_bombs_peak_memory", rows, ["case", "idle_mib", "peak_mib", "outcome"])
    assert "refused too_large" in rows[1]["outcome"]
