"""The cold half of the daily-load benchmark: one fresh process, start included.

``python -m tests.perf.daily_load_cold MODE HOME FIRST_DAY DAYS`` (HOME holds the days'
bronze, nothing else) runs one of:

* ``pipeline``: the days loaded the way ``demo`` and ``backfill`` load them: one JobContext
  and one SparkSession for the whole run, the session started only when a day needs it;
* ``floor``: a SparkSession started, then the same rows MERGEd bare into silver's twin
  (:func:`tests.perf.test_bench_daily_load.bare_merge`).

:mod:`tests.perf.test_bench_daily_load` times the whole process from outside.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def pipeline(home: Path, days: list[date]) -> None:
    from catalog.bronze.local import LocalBronzeStore
    from catalog.iceberg.profiles import local_catalog
    from catalog.paths import LakehousePaths
    from catalog.runtime.spark import build_local_session
    from expectations.store import LocalReportStore
    from glue.transform import JobContext, transform_day

    paths = LakehousePaths.resolve(home).ensure()
    context = JobContext(catalog=local_catalog(paths), reports=LocalReportStore(paths.reports))
    session: list[SparkSession] = []

    def spark() -> SparkSession:
        if not session:
            session.append(build_local_session(paths, app_name="bench-cold-pipeline"))
        return session[0]

    store = LocalBronzeStore(paths.bronze)
    for day in days:
        result = transform_day(spark, store, day, context)
        assert result.committed, day
    print(f"pipeline: {len(days)} days, spark started: {bool(session)}")


def floor(home: Path, days: list[date]) -> None:
    from dataclasses import replace

    from catalog.bronze.local import LocalBronzeStore
    from catalog.iceberg.profiles import CATALOG_NAME, local_catalog
    from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
    from catalog.paths import LakehousePaths
    from catalog.runtime.spark import build_local_session
    from glue.transform import prepare_day
    from tests.perf.test_bench_daily_load import MERGE_TABLE, bare_merge

    paths = LakehousePaths.resolve(home).ensure()
    twin = replace(ARTISTS_SILVER, name=MERGE_TABLE)
    ensure_table(local_catalog(paths), twin)
    spark = build_local_session(paths, app_name="bench-cold-floor")
    store = LocalBronzeStore(paths.bronze)
    for day in days:
        bare_merge(
            spark, f"{CATALOG_NAME}.{twin.qualified_name}", prepare_day(store, day).rows.rows, day
        )
    spark.stop()


def main(argv: list[str]) -> int:
    mode, home, first, count = argv
    start = date.fromisoformat(first)
    days = [start + timedelta(days=n) for n in range(int(count))]
    {"pipeline": pipeline, "floor": floor}[mode](Path(home), days)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
