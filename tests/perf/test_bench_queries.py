"""Benchmark: the local engine over 3.65 M silver rows (``make bench``; not in ``make test``).

Data: 10,000 artists x 365 days ending today (UTC), written once through the writer's
contract with pyiceberg: one append per day whose snapshot summary carries
``snapshot_date`` and ``run_id``, then the tag ``snapshot-D`` (the Glue job's MERGE would take
~3 s a day in Spark, 20 minutes for the year; the append leaves one file per day where the
MERGE leaves one per month, so reads here open more files than after ``maintain``). The
home is cached under ``bench-results/cache/`` and reused by later runs.

Each figure runs in a fresh process (spawn): ``cold`` is its first execution (catalog,
metadata and files read for the first time by that process), ``warm`` the median of the
next three, ``peak_rss_mb`` the process's peak resident memory. The baseline, measured in
the same run the same way, is DuckDB alone over the same Parquet files of the current
snapshot (``read_parquet``), running the same translated SQL: figures are reported as
ratios to it. Results: ``bench-results/queries.json`` and stdout.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from catalog.paths import LakehousePaths
from catalog.profiles import local_catalog
from catalog.tables import ARTISTS_SILVER, ensure_table
from catalog.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE, tag_name
from catalog.timetravel import tag_retention_ms

ARTISTS = 10_000
DAYS = 365
RESULTS = Path("bench-results")
CACHE = RESULTS / "cache" / f"queries-{ARTISTS}x{DAYS}"
WARM_RUNS = 3

QUESTIONS = {
    "top_5_most_followed_today": None,
    "avg_daily_followers_gained": None,
    "top_gainers_7d": None,
}


def _day_rows(day: date, n: int, run_id: str) -> dict[str, Any]:
    ids = [f"artist{i:017d}" for i in range(ARTISTS)]
    followers = [
        1_000 * (i + 1) * 37 + (i % 97 + 1) * n * 13 - (n % 7) * (i % 5) for i in range(ARTISTS)
    ]
    fetched = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6)
    return {
        "artist_id": ids,
        "snapshot_date": [day] * ARTISTS,
        "name": [f"Artist {i}" for i in range(ARTISTS)],
        "followers": followers,
        "popularity": [(i + n) % 100 for i in range(ARTISTS)],
        "genres": [["pop"] if i % 2 else ["rock", "indie"] for i in range(ARTISTS)],
        "image_url": [f"https://i.scdn.co/image/{i:040d}" for i in range(ARTISTS)],
        "spotify_url": [f"https://open.spotify.com/artist/{a}" for a in ids],
        "fetched_at": [fetched] * ARTISTS,
        "run_id": [run_id] * ARTISTS,
        "source_file": [
            f"bronze/spotify/artists/snapshot_date={day}/run_id={run_id}/part-{i // 50}.json"
            for i in range(ARTISTS)
        ],
    }


def _generate(paths: LakehousePaths, end: date) -> float:
    started = time.perf_counter()
    table = ensure_table(local_catalog(paths), ARTISTS_SILVER)
    schema = table.schema().as_arrow()
    for n in range(DAYS):
        day = end - timedelta(days=DAYS - 1 - n)
        run_id = f"bench-{day.isoformat()}"
        arrow = pa.Table.from_pydict(_day_rows(day, n, run_id), schema=schema)
        table.append(
            arrow,
            snapshot_properties={SUMMARY_SNAPSHOT_DATE: day.isoformat(), SUMMARY_RUN_ID: run_id},
        )
        snapshot = table.current_snapshot()
        assert snapshot is not None
        table.manage_snapshots().create_tag(
            snapshot.snapshot_id, tag_name(day), max_ref_age_ms=tag_retention_ms()
        ).commit()
    return time.perf_counter() - started


def _home() -> tuple[LakehousePaths, dict[str, Any]]:
    marker = CACHE / "complete.json"
    paths = LakehousePaths.resolve(CACHE / "home")
    if marker.exists():
        return paths, json.loads(marker.read_text())
    import shutil

    shutil.rmtree(CACHE, ignore_errors=True)
    paths.ensure()
    end = datetime.now(UTC).date()
    seconds = _generate(paths, end)
    info = {"end": end.isoformat(), "generate_s": round(seconds, 1), "rows": ARTISTS * DAYS}
    marker.write_text(json.dumps(info))
    return paths, info


def _measure(kind: str, home: str, sql: str, as_of: str | None, queue: Any) -> None:
    """In a fresh process: one cold run, WARM_RUNS warm ones, and the peak RSS."""
    times = []
    rows = 0
    if kind == "engine":
        from views.local import LocalEngine

        paths = LakehousePaths.resolve(home)
        for _ in range(1 + WARM_RUNS):
            started = time.perf_counter()
            engine = LocalEngine(paths)  # a new engine per run: catalog + metadata re-read
            result = engine.execute(sql, as_of=date.fromisoformat(as_of) if as_of else None)
            times.append(time.perf_counter() - started)
            rows = len(result.rows)
    else:
        import duckdb

        from views.plan import generate, plan_query

        files = json.loads(as_of or "[]")
        for _ in range(1 + WARM_RUNS):
            started = time.perf_counter()
            connection = duckdb.connect(":memory:")
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute("CREATE SCHEMA spotify")
            connection.execute("SET search_path = 'spotify'")
            connection.execute(
                f"CREATE VIEW spotify.artists_silver AS SELECT * FROM read_parquet({files!r})"
            )
            plan = plan_query(sql)
            for view in plan.views:
                connection.execute(generate(view.create, "duckdb"))
            rows = len(connection.sql(plan.to_sql("duckdb")).fetchall())
            connection.close()
            times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "cold_s": times[0],
            "warm_s": statistics.median(times[1:]),
            "peak_rss_mb": peak_mb,
            "rows": rows,
        }
    )


def _run(kind: str, home: Path, sql: str, extra: str | None) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(kind, str(home), sql, extra, queue))
    process.start()
    figures: dict[str, float] = queue.get(timeout=1800)
    process.join()
    return figures


def test_bench_queries() -> None:
    from views.sqlfiles import load_sql

    paths, info = _home()
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    files = [task.file.file_path.removeprefix("file://") for task in table.scan().plan_files()]
    end = date.fromisoformat(info["end"])
    middle = end - timedelta(days=DAYS // 2)
    cases: dict[str, tuple[str, date | None]] = {name: (load_sql(name), None) for name in QUESTIONS}
    cases["avg_daily_followers_gained_as_of_middle"] = (
        load_sql("avg_daily_followers_gained"),
        middle,
    )

    figures: dict[str, Any] = {}
    for name, (sql, as_of) in cases.items():
        engine = _run("engine", paths.home, sql, as_of.isoformat() if as_of else None)
        baseline_files = files
        if as_of is not None:
            snapshot = table.snapshot_by_name(tag_name(as_of))
            assert snapshot is not None
            scan = table.scan(snapshot_id=snapshot.snapshot_id)
            baseline_files = [t.file.file_path.removeprefix("file://") for t in scan.plan_files()]
        baseline = _run("baseline", paths.home, sql, json.dumps(baseline_files))
        assert engine["rows"] == baseline["rows"], (name, engine, baseline)
        figures[name] = {
            "engine": {k: round(v, 3) for k, v in engine.items()},
            "baseline_duckdb_parquet": {k: round(v, 3) for k, v in baseline.items()},
            "cold_ratio": round(engine["cold_s"] / baseline["cold_s"], 2),
            "warm_ratio": round(engine["warm_s"] / baseline["warm_s"], 2),
            "peak_rss_ratio": round(engine["peak_rss_mb"] / baseline["peak_rss_mb"], 2),
        }
    report = {
        "rows": info["rows"],
        "artists": ARTISTS,
        "days": DAYS,
        "data_end": info["end"],
        "as_of_middle": middle.isoformat(),
        "data_files": len(files),
        "generate_s (pyiceberg append + tag per day, once; cached)": info["generate_s"],
        "queries": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "queries.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
