"""What every benchmark shares: medians after warm-up, ratios to a floor, the results file.

Speed is never asserted: a benchmark measures a floor in the same run (a blind append, a bare
MERGE, 0 ms latency) and reports its figures as ratios to it in
``bench-results/<name>.json``, where people and other issues' targets read them.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

#: Where ``make bench`` writes the figures (``<name>.json``), relative to the repo root.
RESULTS = Path("bench-results")


def median_after_first(samples: list[float]) -> float:
    """The median without the first sample (warm-up); the only one if there is just one."""
    return statistics.median(samples[1:] or samples)


def ratio(value: float, floor: float) -> float | None:
    """``value / floor``, rounded; ``None`` when the floor is too small to divide by."""
    return round(value / floor, 2) if floor > 0 else None


def write_figures(out_dir: Path, name: str, figures: dict[str, Any]) -> Path:
    """``<out_dir>/<name>.json`` (and stdout)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return path


def own_peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB: the high-water mark of its address
    space (``VmHWM``), not ``ru_maxrss``. Linux keeps ``ru_maxrss`` across ``execve`` and a
    forked child's address space starts as a copy of its parent's, so a spawned measuring
    process reported its parent's memory (every figure of one bench run read 764 MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory cannot be measured here")
