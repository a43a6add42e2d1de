"""Benchmark: a year of 10,000 artists through the real pipeline (``make bench``; not in
``make test``).

Issue 15's targets: the whole backfill (one commit and one tag per day, validation on,
month-end compaction) in <= 600 s on this 2-core machine, and no step that grows with the
history: the cost of a late day against an early one <= 1.2. Per-day figures are medians of
ten days (a day's seconds vary with the machine more than with the code): the first ten
loads after day 1 (which pays Great Expectations' start) against the last ten.

The bronze is fetched once from the simulator (the roster's 10,000 artists, 201 batch
requests a day) and cached in ``bench-results/cache/backfill-<artists>``, topped up with the
days a later run needs (the window ends yesterday, so its days move with the calendar).
Each run loads a fresh home whose ``bronze`` is that cache, in a process of its own
(:mod:`tests.perf.backfill_run`), timed from outside; its peak memory, and the JVM's when a
month-end compaction starts Spark, come from the kernel (``RUSAGE_CHILDREN``).

Afterwards the home is checked, not only timed: silver holds artists x days rows, there is
one load tag per day, and the gold view's gains for a sample of artists are the differences
of their counts.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.paths import LakehousePaths
from ingest.pipeline import ingest_day
from ingest.roster import demo_roster
from ingest.simulator.connection import open_simulator
from tests.perf.figures import RESULTS, ratio, write_figures

NAME = "backfill"
ARTISTS: Final = int(os.environ.get("BENCH_BACKFILL_ARTISTS", "10000"))
DAYS: Final = int(os.environ.get("BENCH_BACKFILL_DAYS", "365"))
TARGET_S: Final = 600.0
TARGET_LATE_EARLY: Final = 1.2
#: Days per median at each end of the run.
SAMPLE: Final = 10
#: Artists whose gold-view gains are checked against their counts.
CHECKED_ARTISTS: Final = 3


def _window(days: int) -> list[date]:
    end = datetime.now(UTC).date() - timedelta(days=1)
    return [end - timedelta(days=days - 1 - n) for n in range(days)]


def _fetch(bronze: Path, artists: int, window: list[date]) -> float:
    """Ingest the window's days the cache lacks; the seconds it took (0 when none)."""
    store = LocalBronzeStore(bronze)
    missing = sorted(set(window) - set(store.days()))
    if not missing:
        return 0.0
    roster = demo_roster(artists)
    started = time.perf_counter()
    with open_simulator(seed=1, roster=roster) as connection:
        for day in missing:
            ingest_day(
                day,
                store=store,
                client=connection.client,
                roster=roster,
                source=connection.source,
                allow_backdated=False,
            )
    return time.perf_counter() - started


def _median(runs: list[dict[str, Any]], key: str = "s") -> float:
    return round(float(statistics.median(float(r[key]) for r in runs)), 4)


def _stages(runs: list[dict[str, Any]]) -> dict[str, float]:
    names = sorted({name for r in runs for name in r["stages"]})
    return {n: round(statistics.median(r["stages"].get(n, 0.0) for r in runs), 4) for n in names}


def _check(paths: LakehousePaths, artists: int, window: list[date]) -> dict[str, Any]:
    """What the backfill left: rows, tags, data files, and the gains of a few artists."""
    from catalog.iceberg.profiles import local_catalog
    from catalog.iceberg.tables import ARTISTS_SILVER
    from catalog.iceberg.timetravel import load_tags
    from views.local import LocalEngine

    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    tags = {tag.day for tag in load_tags(table)}
    files = list(table.scan().plan_files())
    engine = LocalEngine(paths)
    (rows,) = engine.execute("SELECT count(*) FROM spotify.artists_silver").rows[0]
    sample = [
        str(row[0])
        for row in engine.execute(
            "SELECT artist_id FROM spotify.artists_silver GROUP BY artist_id "
            f"ORDER BY max(followers) DESC LIMIT {CHECKED_ARTISTS}"
        ).rows
    ]
    ids = ", ".join(f"'{a}'" for a in sample)
    gold = engine.execute(
        "SELECT artist_id, date, followers, followers_gained FROM Spotify_Gold_View "
        f"WHERE artist_id IN ({ids}) ORDER BY artist_id, date"
    ).rows
    wrong = 0
    for before, after in itertools.pairwise(gold):
        gained = int(after[2]) - int(before[2])  # type: ignore[call-overload]
        if before[0] == after[0] and after[3] != gained:
            wrong += 1
    return {
        "silver_rows": rows,
        "expected_rows": artists * len(window),
        "load_tags_in_window": len(tags & set(window)),
        "data_files": len(files),
        "data_bytes": sum(task.file.file_size_in_bytes for task in files),
        "gold_rows_checked": len(gold),
        "gold_gains_wrong": wrong,
    }


def run_bench(
    work: Path, *, artists: int = ARTISTS, days: int = DAYS, out_dir: Path = RESULTS
) -> dict[str, Any]:
    """Fetch what the cache lacks, backfill a fresh home in a process of its own, check it."""
    window = _window(days)
    bronze = work / "cache" / f"backfill-{artists}" / "bronze"
    bronze.mkdir(parents=True, exist_ok=True)
    fetch_s = _fetch(bronze, artists, window)
    home = work / f"backfill-{artists}x{days}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "bronze").symlink_to(bronze.resolve())
    out = work / f"{NAME}-days.json"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.perf.backfill_run",
            str(home),
            window[0].isoformat(),
            str(days),
            str(out),
        ],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    process_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run = json.loads(out.read_text())
    loads = run["days"]
    sample = min(SAMPLE, max(1, (len(loads) - 1) // 2))
    early, late = loads[1 : 1 + sample] or loads[:1], loads[-sample:]
    figures = {
        "artists": artists,
        "days": days,
        "window": [window[0].isoformat(), window[-1].isoformat()],
        "fetch_missing_days_s": round(fetch_s, 1),
        "backfill_process_s": round(process_s, 1),
        "backfill_in_process_s": run["total_s"],
        "target_s": TARGET_S,
        "vs_target": ratio(process_s, TARGET_S),
        "commits": run["commits"],
        "day_1_s": loads[0]["s"],
        "early_day_median_s": _median(early),
        "late_day_median_s": _median(late),
        "late_vs_early": ratio(_median(late), _median(early)),
        "early_day_median_cpu_s": _median(early, "cpu_s"),
        "late_day_median_cpu_s": _median(late, "cpu_s"),
        "late_vs_early_cpu": ratio(_median(late, "cpu_s"), _median(early, "cpu_s")),
        "target_late_vs_early": TARGET_LATE_EARLY,
        "writes": {w: sum(r["write"] == w for r in loads) for w in {r["write"] for r in loads}},
        "early_stages_median_s": _stages(early),
        "late_stages_median_s": _stages(late),
        "slowest_days": sorted(loads, key=lambda r: -r["s"])[:5],
        "peak_rss_mb_largest_process_of_the_tree": round(peak_mb, 1),
        "check": _check(LakehousePaths.resolve(home), artists, window),
    }
    for r in figures["slowest_days"]:
        r.pop("stages", None)
    write_figures(out_dir, NAME, figures)
    return figures


@pytest.mark.spark
def test_backfill() -> None:
    figures = run_bench(RESULTS)
    check = figures["check"]
    assert check["silver_rows"] == check["expected_rows"], check
    assert check["load_tags_in_window"] == figures["days"], check
    assert check["gold_gains_wrong"] == 0, check
