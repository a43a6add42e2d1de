"""The catalogs that parse each metadata file once (:mod:`catalog.iceberg.cached`).

What must hold: a load of a table nobody changed reads no metadata file; a load after this
catalog's own commit reads none either, and what it returns is what the file says; a commit
by anyone else (another catalog object, as another process or Spark would be) is seen by the
next load; the file written by a commit is the file pyiceberg's own catalog would write
(metadata log included). Counted at pyiceberg's one parser of metadata files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.serializers import FromInputFile

from catalog.iceberg.cached import ParsedMetadata
from catalog.iceberg.profiles import CATALOG_NAME, glue_catalog, local_catalog, sqlite_uri
from catalog.iceberg.tables import DQ_RESULTS, ensure_tables
from catalog.paths import LakehousePaths


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The location of every metadata file pyiceberg parses, in order."""
    seen: list[str] = []
    real = FromInputFile.table_metadata

    def counting(input_file: Any, encoding: str = "utf-8") -> Any:
        seen.append(input_file.location)
        return real(input_file, encoding)

    monkeypatch.setattr(FromInputFile, "table_metadata", staticmethod(counting))
    return seen


@pytest.fixture
def paths(tmp_path: Path) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path / "home")
    ensure_tables(local_catalog(paths))
    return paths


def _append(table: Any) -> None:
    with table.transaction() as transaction:
        transaction.append(pa.Table.from_pylist([], schema=table.schema().as_arrow()))
        transaction.set_properties({"test.commit": str(len(table.metadata.snapshots))})


def test_a_table_nobody_changed_is_not_parsed_again(
    paths: LakehousePaths, parses: list[str]
) -> None:
    catalog = local_catalog(paths)
    first = catalog.load_table(DQ_RESULTS.identifier)
    again = catalog.load_table(DQ_RESULTS.identifier)
    assert parses == [first.metadata_location]
    assert again.metadata is first.metadata
    assert again.metadata_location == first.metadata_location


def test_after_its_own_commit_the_catalog_returns_what_the_file_says(
    paths: LakehousePaths, parses: list[str]
) -> None:
    catalog = local_catalog(paths)
    table = catalog.load_table(DQ_RESULTS.identifier)
    _append(table)
    before = len(parses)
    loaded = catalog.load_table(DQ_RESULTS.identifier)
    assert len(parses) == before  # the committed metadata was kept, not read back
    assert loaded.metadata_location == table.metadata_location
    from_file = SqlCatalog(CATALOG_NAME, uri=sqlite_uri(paths)).load_table(DQ_RESULTS.identifier)
    assert from_file.metadata_location == loaded.metadata_location
    assert from_file.metadata == loaded.metadata


def test_another_writers_commit_is_seen_by_the_next_load(
    paths: LakehousePaths, parses: list[str]
) -> None:
    catalog = local_catalog(paths)
    seen = catalog.load_table(DQ_RESULTS.identifier)
    other = local_catalog(paths).load_table(DQ_RESULTS.identifier)  # another process
    _append(other)
    now = catalog.load_table(DQ_RESULTS.identifier)
    assert now.metadata_location == other.metadata_location != seen.metadata_location
    assert now.metadata_location in parses
    assert len(now.metadata.snapshots) == len(seen.metadata.snapshots) + 1


def test_the_file_a_commit_writes_is_the_one_pyiceberg_would_write(tmp_path: Path) -> None:
    """The same two commits through the cached catalog and through pyiceberg's own: the
    metadata files agree except for what is unique to each commit (ids, times, paths)."""
    written = []

    def plain_catalog(p: LakehousePaths) -> Any:
        return SqlCatalog(CATALOG_NAME, uri=sqlite_uri(p), warehouse=p.warehouse.as_uri())

    for name, connect in (("cached", local_catalog), ("plain", plain_catalog)):
        paths = LakehousePaths.resolve(tmp_path / name)
        ensure_tables(local_catalog(paths))
        catalog = connect(paths)
        for _ in range(2):
            _append(catalog.load_table(DQ_RESULTS.identifier))
        plain = SqlCatalog(CATALOG_NAME, uri=sqlite_uri(paths)).load_table(DQ_RESULTS.identifier)
        written.append(plain.metadata)
    cached, plain = written
    assert len(cached.metadata_log) == len(plain.metadata_log) == 2
    assert len(cached.snapshots) == len(plain.snapshots) == 2
    assert len(cached.snapshot_log) == len(plain.snapshot_log)
    assert cached.properties == plain.properties
    assert [s.summary.operation for s in cached.snapshots] == [
        s.summary.operation for s in plain.snapshots
    ]
    assert cached.last_sequence_number == plain.last_sequence_number


def test_the_parsed_files_are_bounded() -> None:
    parsed = ParsedMetadata(limit=2)
    marker: Any = object()
    for location in ("a", "b", "c"):
        parsed.put(location, marker)
    assert len(parsed) == 2
    assert parsed.get("a") is None
    assert parsed.get("c") is marker


def test_the_glue_catalog_reads_a_known_file_once(aws: str, parses: list[str]) -> None:
    boto3.client("s3").create_bucket(Bucket="lakehouse-data")
    catalog = glue_catalog(
        warehouse="s3://lakehouse-data/warehouse",
        region="us-east-1",
        glue_endpoint=aws,
        s3_endpoint=aws,
    )
    ensure_tables(catalog)
    parses.clear()
    first = catalog.load_table(DQ_RESULTS.identifier)
    catalog.load_table(DQ_RESULTS.identifier)
    assert parses == [first.metadata_location]
    _append(first)
    count = len(parses)
    assert catalog.load_table(DQ_RESULTS.identifier).metadata_location == first.metadata_location
    assert len(parses) == count
    other = glue_catalog(
        warehouse="s3://lakehouse-data/warehouse",
        region="us-east-1",
        glue_endpoint=aws,
        s3_endpoint=aws,
    ).load_table(DQ_RESULTS.identifier)
    _append(other)
    assert catalog.load_table(DQ_RESULTS.identifier).metadata_location == other.metadata_location
