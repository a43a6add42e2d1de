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
    broken = Candidate(1, {"popularity": 10**12, "followers": None}, "42", "p0", None)
    good = Candidate(
        0,
        {"artist_id": "4YRxDV8wJFPHPTeXepOstw", "snapshot_date": DAY, "genres": ["pop"]},
        "{}",
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
