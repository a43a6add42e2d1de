"""Which Iceberg file locations the local engine reads itself: both file-URI spellings."""

from __future__ import annotations

import pytest

from views.tables import local_path


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ("file:///data/w/a.parquet", "/data/w/a.parquet"),  # pyiceberg
        ("file:/data/w/a.parquet", "/data/w/a.parquet"),  # Hadoop's Path (Spark's writers)
        ("file://localhost/data/w/a.parquet", "/data/w/a.parquet"),
        ("/data/w/a.parquet", "/data/w/a.parquet"),
        ("file:/data/w/a%20b.parquet", "/data/w/a%20b.parquet"),  # never percent-decoded
        ("s3://bucket/w/a.parquet", None),
        ("file://otherhost/data/w/a.parquet", None),
        ("w/a.parquet", None),
    ],
)
def test_local_path(location: str, path: str | None) -> None:
    assert local_path(location) == path
