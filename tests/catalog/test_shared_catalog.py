"""One SQLite catalog, two engines: what Spark writes pyiceberg reads, and the other way."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark
TABLE = "lakehouse.spotify.artists_silver"


def test_spark_writes_pyiceberg_reads(lakehouse: SparkLakehouse) -> None:
    ensure_table(local_catalog(lakehouse.paths), ARTISTS_SILVER)
    lakehouse.spark.sql(
        f"INSERT INTO {TABLE} (artist_id, snapshot_date, name, followers, popularity, genres, "
        "image_url, spotify_url, fetched_at, run_id, source_file) VALUES "
        "('a', DATE '2026-11-01', 'Ann', 5, 9, array('pop'), null, null, null, 'r', 'f')"
    )
    table = local_catalog(lakehouse.paths).load_table(ARTISTS_SILVER.identifier)
    rows = table.scan().to_arrow().to_pylist()
    assert [(r["artist_id"], r["snapshot_date"], r["followers"]) for r in rows] == [
        ("a", date(2026, 11, 1), 5)
    ]


def test_pyiceberg_writes_spark_reads(lakehouse: SparkLakehouse) -> None:
    table = ensure_table(local_catalog(lakehouse.paths), ARTISTS_SILVER)
    data = pa.Table.from_pylist(
        [{"artist_id": "b", "snapshot_date": date(2026, 11, 2), "name": "Bo", "followers": 7}],
        schema=table.schema().as_arrow(),
    )
    table.append(data)
    rows = lakehouse.spark.sql(f"SELECT artist_id, name, followers FROM {TABLE}").collect()
    assert [tuple(r) for r in rows] == [("b", "Bo", 7)]


def test_interleaved_commits_from_both_engines_see_each_other(lakehouse: SparkLakehouse) -> None:
    """Spark commits, pyiceberg commits, Spark reads both and commits again.

    Regression: Iceberg's JDBC catalog used to pin a read transaction on its pooled SQLite
    connection, so Spark saw a stale catalog and failed with SQLITE_BUSY_SNAPSHOT.
    """
    catalog = local_catalog(lakehouse.paths)
    table = ensure_table(catalog, ARTISTS_SILVER)
    insert = (
        f"INSERT INTO {TABLE} (artist_id, snapshot_date, name, followers, popularity, genres, "
        "image_url, spotify_url, fetched_at, run_id, source_file) VALUES "
        "('{id}', DATE '2026-11-01', 'x', 1, 1, array('pop'), null, null, null, 'r', 'f')"
    )
    lakehouse.spark.sql(insert.format(id="spark-1"))
    table = catalog.load_table(ARTISTS_SILVER.identifier)
    table.append(
        pa.Table.from_pylist(
            [{"artist_id": "pyiceberg", "snapshot_date": date(2026, 11, 1)}],
            schema=table.schema().as_arrow(),
        )
    )
    lakehouse.spark.sql(insert.format(id="spark-2"))
    ids = {r["artist_id"] for r in lakehouse.spark.sql(f"SELECT artist_id FROM {TABLE}").collect()}
    assert ids == {"spark-1", "pyiceberg", "spark-2"}
    assert len(catalog.load_table(ARTISTS_SILVER.identifier).snapshots()) == 3
