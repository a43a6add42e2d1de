"""The Spark validation frame has the table's types (needs the local SparkSession)."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql import SparkSession

from expectations.frame import SILVER_CHECK_COLUMNS, Candidate, silver_check_rows, spark_frame
from expectations.suites import ROW_ID

pytestmark = pytest.mark.spark

DAY = date(2026, 11, 1)


def test_the_spark_frame_has_the_tables_types_and_holds_any_candidate(
    spark: SparkSession,
) -> None:
    broken = Candidate(1, {"popularity": 10**12, "followers": None}, 42, "p0", None)
    good = Candidate(
        0,
        {"artist_id": "4YRxDV8wJFPHPTeXepOstw", "snapshot_date": DAY, "genres": ["pop"]},
        {},
        "p0",
        "integer",
    )
    rows = silver_check_rows([good, broken], day=DAY, previous={}, backdated=False)
    frame = spark_frame(spark, rows)
    types = dict(frame.dtypes)
    assert [name for name, _ in SILVER_CHECK_COLUMNS] == frame.columns
    assert types[ROW_ID] == "bigint"
    assert types["popularity"] == "int"
    assert types["followers"] == "bigint"
    assert types["genres"] == "array<string>"
    assert types["fetched_at"] == "timestamp"
    assert types["backdated"] == "boolean"
    collected = {r[ROW_ID]: r for r in frame.collect()}
    assert collected[1]["artist_id"] is None
    assert collected[1]["popularity"] == 2**31 - 1  # clamped: still out of 0-100


def test_a_clean_day_on_the_spark_frame_is_recorded_as_the_detailed_run_would(
    spark: SparkSession,
) -> None:
    from expectations.runner import QualityContext, _outcomes, quality_context
    from expectations.suites import PARAM_DAY, PARAM_MAX_CHANGE, PARAM_MAX_ROWS

    gx = quality_context()
    candidates = [
        Candidate(
            i,
            {
                "artist_id": f"{i:022d}",
                "snapshot_date": DAY,
                "name": f"a{i}",
                "followers": 10 + i,
                "popularity": None if i == 1 else i,
            },
            {},
            "p0",
            "integer",
        )
        for i in range(3)
    ]
    rows = silver_check_rows(candidates, day=DAY, previous={}, backdated=False)
    fast = gx.validate_silver(
        rows, day=DAY, max_rows=5, max_daily_follower_change=0.05, engine="spark", spark=spark
    )
    parameters = {PARAM_DAY: [DAY], PARAM_MAX_ROWS: 5, PARAM_MAX_CHANGE: 0.05}
    detailed = QualityContext._run(
        gx, gx.silver_suite, gx._spark_batches(), spark_frame(spark, rows), parameters
    )
    assert fast.engine == "spark"
    assert fast.results == _outcomes(gx.silver_suite, detailed)
