"""The Glue transform on the real Spark + Iceberg runtime, against bronze in a local store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from catalog.bronze.layout import manifest_key
from catalog.bronze.local import LocalBronzeStore
from catalog.errors import FollowersUnavailableError
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER
from catalog.iceberg.tags import tag_name
from catalog.iceberg.tags.with_spark import load_commits
from glue.job import run_local_day
from glue.transform import BronzePartError, DayIncompleteError, NoValidRowsError
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
TABLE = "lakehouse.spotify.artists_silver"


def roster(day: date, bump: int = 0) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.day * 100 + bump) for i in range(1, 6)]


def silver(lh: SparkLakehouse) -> dict[tuple[str, date], dict[str, Any]]:
    rows = lh.spark.sql(f"SELECT * FROM {TABLE}").collect()
    return {(r["artist_id"], r["snapshot_date"]): r.asDict() for r in rows}


def commits(lh: SparkLakehouse) -> list[dict[str, str]]:
    if not lh.spark.catalog.tableExists(TABLE):
        return []  # a refused day is refused before the table is even created
    rows = lh.spark.sql(f"SELECT summary FROM {TABLE}.snapshots ORDER BY committed_at").collect()
    return [dict(r["summary"]) for r in rows]


def tags(lh: SparkLakehouse) -> dict[str, int]:
    rows = lh.spark.sql(f"SELECT name, snapshot_id FROM {TABLE}.refs WHERE type='TAG'").collect()
    return {r["name"]: r["snapshot_id"] for r in rows}


def test_a_day_is_one_commit_with_its_summary_and_tag(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)], run_id="run-a")
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert (result.inserted, result.updated, result.rows) == (5, 0, 5)
    [summary] = commits(lakehouse)
    assert (summary["snapshot_date"], summary["run_id"]) == ("2026-11-01", "run-a")
    assert tags(lakehouse) == {"snapshot-2026-11-01": result.snapshot_id}
    row = silver(lakehouse)[(artist(2)["id"], D1)]
    assert row["followers"] == 2_000_100
    assert row["genres"] == ["pop", "genre-2"]
    assert row["source_file"].endswith("run_id=run-a/part-00000.json")


def test_rerun_without_change_makes_no_commit(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    again = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert not again.committed
    assert len(commits(lakehouse)) == 1


def test_new_ingest_run_with_same_values_changes_nothing(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)], run_id="run-a")
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    write_day(store, D1, [roster(D1)], run_id="run-b", replace=True)
    again = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert not again.committed  # lineage columns alone never trigger an update
    assert {r["run_id"] for r in silver(lakehouse).values()} == {"run-a"}


def test_changed_rerun_updates_only_changed_rows_and_moves_the_tag(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    for day in (D1, D2, D3):
        write_day(store, day, [roster(day)], run_id=f"run-{day.day}")
        run_local_day(lakehouse.spark, lakehouse.paths, day)
    before = tags(lakehouse)
    changed = roster(D2)
    changed[0] = artist(1, followers=42)
    write_day(store, D2, [changed], run_id="run-2b", replace=True)
    result = run_local_day(lakehouse.spark, lakehouse.paths, D2)
    assert (result.inserted, result.updated) == (0, 1)
    after = tags(lakehouse)
    assert after["snapshot-2026-11-02"] == result.snapshot_id != before["snapshot-2026-11-02"]
    assert after["snapshot-2026-11-01"] == before["snapshot-2026-11-01"]
    assert after["snapshot-2026-11-03"] == before["snapshot-2026-11-03"]
    rows = silver(lakehouse)
    assert rows[(artist(1)["id"], D2)]["followers"] == 42
    assert rows[(artist(1)["id"], D2)]["run_id"] == "run-2b"
    assert rows[(artist(2)["id"], D2)]["run_id"] == "run-2"  # untouched row keeps its lineage
    assert rows[(artist(1)["id"], D1)]["followers"] == 1_000_100  # other days untouched
    assert len(rows) == 15


def test_a_missing_tag_is_recreated_from_the_summaries(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    first = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    lakehouse.spark.sql(f"ALTER TABLE {TABLE} DROP TAG `snapshot-2026-11-01`")
    write_day(store, D2, [roster(D2)])
    second = run_local_day(lakehouse.spark, lakehouse.paths, D2)
    assert second.repaired_tags == ["snapshot-2026-11-01"]
    assert tags(lakehouse)["snapshot-2026-11-01"] == first.snapshot_id


def test_a_stale_tag_is_moved_to_the_latest_load_of_its_day(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    for day in (D1, D2):
        write_day(store, day, [roster(day)], run_id=f"run-{day.day}")
        run_local_day(lakehouse.spark, lakehouse.paths, day)
    old = tags(lakehouse)["snapshot-2026-11-02"]
    write_day(store, D2, [roster(D2, bump=1)], run_id="run-2b", replace=True)
    reload = run_local_day(lakehouse.spark, lakehouse.paths, D2)
    assert reload.snapshot_id != old
    # the job died after the re-load's MERGE and before set_load_tag: the tag still names
    # the older load of D2
    lakehouse.spark.sql(
        f"ALTER TABLE {TABLE} REPLACE TAG `snapshot-2026-11-02` AS OF VERSION {old}"
    )

    again = run_local_day(lakehouse.spark, lakehouse.paths, D2)

    assert not again.committed  # nothing changed: no commit, but the tag is repaired
    assert again.repaired_tags == ["snapshot-2026-11-02"]
    assert tags(lakehouse)["snapshot-2026-11-02"] == reload.snapshot_id
    assert run_local_day(lakehouse.spark, lakehouse.paths, D2).repaired_tags == []


def test_a_day_beyond_tag_retention_is_never_tagged(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    today = datetime.now(UTC).date()
    old, recent = today - timedelta(days=11), today - timedelta(days=10)
    for day in (old, recent):
        write_day(store, day, [roster(day)])
    late = run_local_day(lakehouse.spark, lakehouse.paths, old, tag_retention_days=10)
    assert late.committed  # the backfill loads, but maintenance would drop its tag: none
    assert late.tag is None
    assert tags(lakehouse) == {}
    kept = run_local_day(lakehouse.spark, lakehouse.paths, recent, tag_retention_days=10)
    assert kept.repaired_tags == []  # the old day is not re-tagged either
    assert tags(lakehouse) == {tag_name(recent): kept.snapshot_id}


@pytest.fixture
def local_zone_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Python process's local zone is UTC+05:30 (the Spark session's stays UTC)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_load_commit_times_are_utc_whatever_the_local_zone(
    lakehouse: SparkLakehouse, local_zone_not_utc: None
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    before = datetime.now(UTC) - timedelta(seconds=1)
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    after = datetime.now(UTC) + timedelta(seconds=1)

    [commit] = load_commits(lakehouse.spark, TABLE)

    assert commit.snapshot_id == result.snapshot_id
    assert before <= commit.committed_at <= after
    # what a collected TimestampType gives here: local wall time, 5:30 off when read as UTC
    naive = lakehouse.spark.sql(f"SELECT committed_at FROM {TABLE}.snapshots").first()
    assert naive is not None
    assert naive[0].replace(tzinfo=UTC) - commit.committed_at > timedelta(hours=5)


def test_an_incomplete_day_is_refused_and_nothing_is_written(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    (lakehouse.paths.bronze / manifest_key(D1)).unlink()  # parts without a manifest
    with pytest.raises(DayIncompleteError, match="incomplete"):
        run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert commits(lakehouse) == []


def test_followers_unavailable_day_exits_3_and_writes_nothing(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    objects = [artist(i) for i in range(1, 3)]
    for obj in objects:
        del obj["followers"], obj["popularity"]
    write_day(store, D1, [objects], followers_available=False)
    with pytest.raises(FollowersUnavailableError) as caught:
        run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert caught.value.exit_code == 3
    assert "Development Mode" in str(caught.value)
    assert commits(lakehouse) == []


def test_unloadable_records_are_quarantined_and_the_rest_merged(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    broken = artist(9)
    del broken["followers"]
    write_day(store, D1, [[*roster(D1), broken, None]])
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert result.inserted == 5
    assert result.quarantined == 1
    assert result.quality.failed_expectations == ["followers_present"]


def test_a_day_where_no_record_loads_is_refused(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[artist(1, id=None), artist(2, id=None)]])
    with pytest.raises(NoValidRowsError, match="no row of 2026-11-01"):
        run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert commits(lakehouse) == []


def test_a_tampered_part_is_refused(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    manifest = write_day(store, D1, [roster(D1)])
    path = lakehouse.paths.bronze / manifest.parts[0].key
    path.write_bytes(path.read_bytes().replace(b"Artist 1", b"Artist X"))
    with pytest.raises(BronzePartError, match="does not match its manifest"):
        run_local_day(lakehouse.spark, lakehouse.paths, D1)


def test_a_new_column_in_the_definition_is_applied_to_the_live_table(
    lakehouse: SparkLakehouse,
) -> None:
    from pyiceberg.schema import Schema
    from pyiceberg.types import NestedField, StringType

    from catalog.iceberg.tables import ensure_table

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(lakehouse.spark, lakehouse.paths, D1)
    extended = (*ARTISTS_SILVER.schema.fields, NestedField(99, "country", StringType()))
    definition = type(ARTISTS_SILVER)(
        name=ARTISTS_SILVER.name,
        schema=Schema(*extended, identifier_field_ids=[1, 2]),
        partition_spec=ARTISTS_SILVER.partition_spec,
        description=ARTISTS_SILVER.description,
    )
    table = ensure_table(local_catalog(lakehouse.paths), definition)
    assert "country" in table.schema().column_names
    assert lakehouse.spark.sql(f"SELECT count(country) FROM {TABLE}").first()[0] == 0
