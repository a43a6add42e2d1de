"""The measured half of the backfill benchmark: one fresh process, the pipeline as it runs.

``python -m tests.perf.backfill_run HOME FIRST_DAY DAYS OUT`` loads ``DAYS`` days from the
bronze of ``HOME`` with :class:`infra.local.pipeline.LocalPipeline` (what ``backfill`` runs:
one commit and one tag per day, validation on, month-end compaction) and writes the
seconds of every day, and of the whole run, to ``OUT`` (JSON).
:mod:`tests.perf.test_bench_backfill` times the process from outside and reads its peak
memory (with the JVM's, when a day starts Spark) from the kernel.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def main(home: Path, first: date, days: int, out: Path) -> None:
    from catalog.paths import LakehousePaths
    from glue.transform import TransformResult
    from infra.local.pipeline import LocalPipeline, Progress

    paths = LakehousePaths.resolve(home)
    window = [first + timedelta(days=n) for n in range(days)]
    per_day: list[dict[str, Any]] = []
    started = time.perf_counter()
    last = [started]
    cpu = [time.process_time()]

    def loaded(result: TransformResult) -> None:
        now, used = time.perf_counter(), time.process_time()
        per_day.append(
            {
                "day": result.snapshot_date.isoformat(),
                "s": round(now - last[0], 4),
                # This process's CPU seconds (a JVM the day started is not counted): less
                # sensitive than wall time to what else the machine runs.
                "cpu_s": round(used - cpu[0], 4),
                "write": result.write,
                "rows": result.rows,
                "stages": {k: round(v, 4) for k, v in result.timings.items()},
            }
        )
        last[0], cpu[0] = now, used

    with LocalPipeline(paths, progress=Progress(loaded=loaded)) as pipeline:
        done = pipeline.backfill(window)
    total = time.perf_counter() - started
    out.write_text(
        json.dumps({"total_s": round(total, 2), "commits": done.commits, "days": per_day})
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
