"""One pyiceberg commit per write, tags included; "may day D have rows?" from metadata only."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table, Transaction

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table, ensure_tables
from catalog.iceberg.tags import TagPlan, tag_name, tag_retention_ms
from catalog.iceberg.writes import commit_with_tags, day_has_files, single_attempt
from catalog.paths import LakehousePaths

JAN = date(2026, 1, 1)


@pytest.fixture
def paths(tmp_path: Path) -> LakehousePaths:
    return LakehousePaths.resolve(tmp_path / "home").ensure()


@pytest.fixture
def silver(paths: LakehousePaths) -> Table:
    return ensure_table(local_catalog(paths), ARTISTS_SILVER)


def rows(day: date, n: int = 3) -> list[dict[str, Any]]:
    return [{"artist_id": f"a{i}", "snapshot_date": day, "followers": i} for i in range(n)]


def append(table: Table, day: date) -> int | None:
    data = pa.Table.from_pylist(rows(day), schema=table.schema().as_arrow())

    def stage(transaction: Transaction) -> None:
        transaction.append(data, snapshot_properties={"snapshot_date": day.isoformat()})

    return commit_with_tags(
        table, stage, lambda sid: [TagPlan(tag_name(day), sid, 30)] if sid else []
    )


def test_a_day_has_files_only_where_its_rows_may_be(paths: LakehousePaths, silver: Table) -> None:
    assert not day_has_files(silver, JAN)  # no snapshot at all
    for n in (0, 1, 3):
        append(local_catalog(paths).load_table(ARTISTS_SILVER.identifier), JAN + timedelta(n))
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert [day_has_files(table, JAN + timedelta(n)) for n in range(5)] == [
        True,
        True,
        False,  # same month, no file of it: the file bounds say so
        True,
        False,
    ]
    assert not day_has_files(table, date(2026, 2, 1))  # another month: pruned by partition


def test_the_write_and_its_tag_are_one_commit(paths: LakehousePaths, silver: Table) -> None:
    made = append(silver, JAN)
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    [snapshot] = table.snapshots()
    assert made == snapshot.snapshot_id
    ref = table.metadata.refs[tag_name(JAN)]
    assert (ref.snapshot_id, ref.max_ref_age_ms) == (made, tag_retention_ms(30))
    # one metadata file for the table's creation, one for the commit: the tag was in it
    assert len(table.metadata.metadata_log) == 1


def test_a_write_on_a_moved_table_fails_and_is_not_reapplied(
    paths: LakehousePaths, silver: Table
) -> None:
    stale = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    append(silver, JAN)  # another writer, after `stale` was read
    with pytest.raises(CommitFailedException):
        append(stale, JAN)
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert len(table.snapshots()) == 1
    assert table.scan().to_arrow().num_rows == 3


def test_single_attempt_changes_nothing_the_catalog_keeps(
    paths: LakehousePaths, silver: Table
) -> None:
    once = single_attempt(silver)
    assert once.metadata.properties["commit.retry.num-retries"] == "0"
    assert "commit.retry.num-retries" not in silver.metadata.properties
    append(once, JAN)
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert "commit.retry.num-retries" not in table.metadata.properties


def test_tags_alone_are_one_commit_and_a_tag_already_right_is_none(
    paths: LakehousePaths, silver: Table
) -> None:
    made = append(silver, JAN)
    assert made is not None
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    before = len(table.metadata.metadata_log)
    commit_with_tags(table, None, lambda _: [TagPlan(tag_name(JAN), made, 30)])
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert len(table.metadata.metadata_log) == before  # nothing to do: no commit
    commit_with_tags(table, None, lambda _: [TagPlan(tag_name(JAN), made, 60)])
    table = local_catalog(paths).load_table(ARTISTS_SILVER.identifier)
    assert table.metadata.refs[tag_name(JAN)].max_ref_age_ms == tag_retention_ms(60)


def test_ensuring_existing_tables_writes_nothing(paths: LakehousePaths) -> None:
    catalog = local_catalog(paths)
    ensure_tables(catalog)
    files = sorted(paths.warehouse.rglob("*.metadata.json"))
    ensure_tables(catalog)
    ensure_tables(catalog)
    assert sorted(paths.warehouse.rglob("*.metadata.json")) == files  # no orphan per run
