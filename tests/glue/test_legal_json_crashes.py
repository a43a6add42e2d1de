"""Legal JSON that used to crash a whole day, through the real Spark transform.

A ``followers.total`` of 2**63 beside a record whose count is null once went through
pandas' float64 and raised TypeError; a name that is a lone surrogate (``"\\ud83c"``, legal
JSON, not UTF-8) raised UnicodeEncodeError in Arrow. Both must be quarantined, with their
raw records stored, while the valid rows of the day load.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, DQ_RESULTS
from expectations.suites import QualitySettings
from glue.job import run_local_day
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

D1 = date(2026, 11, 1)
TABLE = "lakehouse.spotify.artists_silver"


@pytest.mark.parametrize("pandas_max_rows", [1_000_000, 0], ids=["pandas", "spark"])
def test_a_huge_count_and_a_lone_surrogate_are_quarantined_and_the_day_loads(
    lakehouse: SparkLakehouse, pandas_max_rows: int
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    huge = artist(2, followers=2**63)
    null_count = artist(3) | {"followers": {"href": None, "total": None}}
    surrogate = artist(4, name="\ud83c")
    objects: list[Any] = [artist(1), huge, null_count, surrogate, artist(5)]
    write_day(store, D1, [objects])
    assert b'"\\ud83c"' in next(lakehouse.paths.bronze.rglob("part-00000.json")).read_bytes()

    settings = QualitySettings(pandas_max_rows=pandas_max_rows)  # 0: validated on Spark
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1, settings=settings)

    assert (result.inserted, result.rows, result.quarantined) == (2, 2, 3)
    loaded = {r["artist_id"] for r in lakehouse.spark.sql(f"SELECT * FROM {TABLE}").collect()}
    assert loaded == {artist(1)["id"], artist(5)["id"]}
    catalog = local_catalog(lakehouse.paths)
    rows = catalog.load_table(ARTISTS_QUARANTINE.identifier).scan().to_arrow().to_pylist()
    by_row = {r["row_id"]: r for r in rows}
    assert sorted(by_row) == [1, 2, 3]
    assert by_row[1]["failed_expectations"] == ["followers_in_range"]
    assert by_row[2]["failed_expectations"] == ["followers_present"]
    assert by_row[3]["failed_expectations"] == ["text_is_valid_unicode"]
    # The raw records are stored as JSON text that decodes to exactly what was received.
    assert json.loads(by_row[1]["raw_record"]) == huge
    assert json.loads(by_row[3]["raw_record"]) == surrogate
    assert '"name": "\\ud83c"' in by_row[3]["raw_record"]

    results = catalog.load_table(DQ_RESULTS.identifier).scan().to_arrow().to_pylist()
    unicode = {r["expectation"]: r for r in results}["text_is_valid_unicode"]
    assert (unicode["success"], unicode["unexpected_count"]) == (False, 1)
    assert json.loads(unicode["observed_value"]) == {"unexpected_sample": ["name"]}
