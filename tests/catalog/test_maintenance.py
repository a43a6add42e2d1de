"""Maintenance with Iceberg's Spark procedures keeps every retained as-of answer.

Silver is written with pyiceberg (the writer's contract: one commit per load with the
summary, then the tag), read back through the local engine before and after
:func:`catalog.iceberg.maintenance.maintain` runs in the shared SparkSession.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from catalog.iceberg.lease import WriteInProgressError, write_lease
from catalog.iceberg.maintenance import maintain
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.iceberg.tags import tag_retained
from catalog.iceberg.tags.with_spark import commit_times
from catalog.iceberg.timetravel import NoSnapshotAsOfError, load_tags
from catalog.runtime.maintenance import maintain_local
from tests.conftest import SparkLakehouse
from tests.views.conftest import Artist, SilverWriter
from views.local import LocalEngine

pytestmark = pytest.mark.spark

ANN, BO = Artist("a1", "Ann"), Artist("b2", "Bo")
DAYS = [date(2026, 10, 1) + timedelta(days=n) for n in range(4)]
QUERY = "SELECT artist_id, date, followers, followers_gained FROM Spotify_Gold_View ORDER BY 2, 1"


def _answers(engine: LocalEngine, days: list[date]) -> dict[date, list[tuple[object, ...]]]:
    return {day: list(engine.execute(QUERY, as_of=day).rows) for day in days}


def _history(lakehouse: SparkLakehouse) -> tuple[SilverWriter, dict[str, int]]:
    ensure_table(local_catalog(lakehouse.paths), ARTISTS_SILVER)
    silver = SilverWriter(lakehouse.paths)
    ids = {}
    for n, day in enumerate(DAYS[:3]):
        ids[day.isoformat()] = silver.load(day, {ANN: 100 + 10 * n, BO: 200 - 5 * n})
    ids["reload"] = silver.load(DAYS[1], {ANN: 111, BO: 196})  # supersedes day 2's first load
    ids["compaction"] = silver.compact()
    ids[DAYS[3].isoformat()] = silver.load(DAYS[3], {ANN: 130, BO: 185})  # a small new file
    return silver, ids


def test_maintenance_keeps_every_tagged_day(lakehouse: SparkLakehouse) -> None:
    silver, ids = _history(lakehouse)
    engine = LocalEngine(lakehouse.paths)
    as_of_days = [*DAYS, DAYS[-1] + timedelta(days=5)]
    before = _answers(engine, as_of_days)
    current = engine.execute(QUERY).rows
    data_dir = Path(silver.table.location().removeprefix("file:")) / "data"
    stale = data_dir / "stale-orphan.parquet"
    fresh = data_dir / "fresh-orphan.parquet"
    for orphan in (stale, fresh):
        orphan.write_bytes(b"not referenced by any snapshot")
    two_days_ago = time.time() - 2 * 86_400
    os.utime(stale, (two_days_ago, two_days_ago))

    (result,) = maintain_local(
        lakehouse.paths, spark=lakehouse.spark, snapshot_retention_days=0, today=DAYS[-1]
    )

    assert _answers(engine, as_of_days) == before
    assert engine.execute(QUERY).rows == current
    table = silver.table
    retained = {s.snapshot_id for s in table.metadata.snapshots}
    # the superseded first load of day 2 and the untagged compaction are gone, tags stay
    assert ids[DAYS[1].isoformat()] not in retained
    assert ids["compaction"] not in retained
    assert {t.snapshot_id for t in load_tags(table)} <= retained
    assert [t.day for t in load_tags(table)] == DAYS
    assert result.rewritten_data_files >= 2  # day 4's small file compacted with the rest
    assert result.expired_snapshots >= 2
    assert result.deleted_files >= 1
    assert [Path(p).name for p in result.orphan_files] == [stale.name]
    assert not stale.exists()
    assert fresh.exists()
    assert result.dropped_tags == ()


def test_tags_past_retention_are_dropped_and_then_refused(lakehouse: SparkLakehouse) -> None:
    _history(lakehouse)
    engine = LocalEngine(lakehouse.paths)
    kept_days = DAYS[2:]
    before = _answers(engine, kept_days)

    # as of DAYS[-1] + 1 with a 2-day retention: DAYS[0] and DAYS[1] are 4 and 3 days old
    (result,) = maintain(
        lakehouse.spark,
        snapshot_retention_days=0,
        tag_retention_days=2,
        today=DAYS[-1] + timedelta(1),
    )

    assert result.dropped_tags == ("snapshot-2026-10-01", "snapshot-2026-10-02")
    assert _answers(engine, kept_days) == before
    with pytest.raises(NoSnapshotAsOfError, match="earliest retained load date is 2026-10-03"):
        engine.execute(QUERY, as_of=DAYS[1])


def test_maintenance_refuses_to_run_during_a_write(lakehouse: SparkLakehouse) -> None:
    lease = write_lease(lakehouse.paths, "write")
    with lease, pytest.raises(WriteInProgressError, match="running"):
        maintain_local(lakehouse.paths, spark=lakehouse.spark)


def test_arguments_are_checked(lakehouse: SparkLakehouse) -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        maintain(lakehouse.spark, orphan_min_age=timedelta(hours=1))
    with pytest.raises(ValueError, match="unknown tables"):
        maintain(lakehouse.spark, tables=["nope"])


def test_one_tag_retention_rule_counts_days() -> None:
    today = date(2026, 11, 24)
    assert tag_retained(today - timedelta(days=400), today, 400)
    assert not tag_retained(today - timedelta(days=401), today, 400)
    assert tag_retained(today + timedelta(days=1), today, 400)  # a day after "today"


@pytest.fixture
def local_zone_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Python process's local zone is UTC-08:00/-07:00 (the Spark session's stays UTC)."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_commit_times_are_utc_whatever_the_local_zone(
    lakehouse: SparkLakehouse, local_zone_not_utc: None
) -> None:
    silver, _ = _history(lakehouse)
    expected = {
        s.snapshot_id: datetime.fromtimestamp(s.timestamp_ms / 1000, UTC)
        for s in silver.table.metadata.snapshots
    }
    assert commit_times(lakehouse.spark, "lakehouse.spotify.artists_silver") == expected
