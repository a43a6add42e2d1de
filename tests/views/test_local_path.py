"""Which Iceberg file locations the local engine reads itself: both file-URI spellings."""

from __future__ import annotations

import pytest

from views.tables import local_path


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ("file:///tmp/w/a.parquet", "/tmp/w/a.parquet"),  # pyiceberg
        ("file:/tmp/w/a.parquet", "/tmp/w/a.parquet"),  # Hadoop's Path (Spark's writers)
        ("file://localhost/tmp/w/a.parquet", "/tmp/w/a.parquet"),
        ("/tmp/w/a.parquet", "/tmp/w/a.parquet"),
        ("file:/tmp/w/a%20b.parquet", "/tmp/w/a%20b.parquet"),  # never percent-decoded
        ("s3://bucket/w/a.parquet", None),
        ("file://otherhost/tmp/w/a.parquet", None),
        ("w/a.parquet", None),
    ],
)
def test_local_path(location: str, path: str | None) -> None:
    assert local_path(location) == path
