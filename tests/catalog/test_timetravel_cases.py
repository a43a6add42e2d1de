"""Time travel by snapshot date in the cases the rule is easiest to get wrong.

* a first-time late backfill (a day loaded for the first time after later days);
* maintenance that extends a tag's age limit (the tag is re-created by Spark);
* a rollback followed by snapshot expiry (the expiry cuts the parent chain that tells a
  rolled-back load apart from main history).

Silver is written with the writer's contract through pyiceberg (``SilverWriter``); the
rule is read through :func:`catalog.iceberg.timetravel.resolve_as_of` and scans as of a day.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.iceberg.maintenance import maintain
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, ensure_table
from catalog.iceberg.tags import tag_name
from catalog.iceberg.timetravel import load_snapshots, load_tags, resolve_as_of, scan_as_of
from catalog.paths import LakehousePaths
from tests.conftest import SparkLakehouse
from tests.views.conftest import Artist, SilverWriter

ANN, BO = Artist("a1", "Ann"), Artist("b2", "Bo")
D1, D2, D3, D4, D5 = (date(2026, 10, 1) + timedelta(days=n) for n in range(5))


@pytest.fixture
def silver(tmp_path: Path) -> SilverWriter:
    paths = LakehousePaths.resolve(tmp_path / "lakehouse").ensure()
    ensure_table(local_catalog(paths), ARTISTS_SILVER)
    return SilverWriter(paths)


def as_of(silver: SilverWriter, day: date) -> list[tuple[Any, ...]]:
    """(artist_id, snapshot_date, followers) of silver as of ``day``, sorted."""
    table = silver.table
    rows = scan_as_of(table, resolve_as_of(table, day)).to_arrow().to_pylist()
    return sorted((r["artist_id"], r["snapshot_date"], r["followers"]) for r in rows)


# A first-time late backfill ----------------------------------------------------------------


def test_a_first_time_late_backfill_shows_in_its_own_day_only(silver: SilverWriter) -> None:
    """Days 1 and 3 are loaded, then day 2 for the first time (an append): as of 2 shows it,
    as of 3 does not (tag 3 predates it), and as of 2 never shows day 3's rows, which the
    backfill's snapshot already holds."""
    silver.load(D1, {ANN: 100, BO: 200})
    day3 = silver.load(D3, {ANN: 120, BO: 190})
    before = {day: as_of(silver, day) for day in (D1, D2, D3)}
    backfill = silver.load(D2, {ANN: 110, BO: 195})

    assert resolve_as_of(silver.table, D2).snapshot_id == backfill
    assert as_of(silver, D2) == [("a1", D1, 100), ("a1", D2, 110), ("b2", D1, 200), ("b2", D2, 195)]
    assert before[D2] == before[D1]  # before the backfill, as of 2 was as of 1
    assert as_of(silver, D1) == before[D1]
    assert resolve_as_of(silver.table, D3).snapshot_id == day3
    assert as_of(silver, D3) == before[D3]  # the report of day 3 is reproduced as it was
    assert ("a1", D2, 110) not in as_of(silver, D3)
    # after everything, the current state and a later as-of still follow tag 3
    assert as_of(silver, D5) == before[D3]


def test_a_first_time_late_backfill_before_every_loaded_day(silver: SilverWriter) -> None:
    """A backfill of a day older than every tag gives as-of answers for days that had none
    (an error before), and changes none of the later ones."""
    silver.load(D2, {ANN: 110, BO: 195})
    silver.load(D3, {ANN: 120, BO: 190})
    later = {day: as_of(silver, day) for day in (D2, D3)}
    with pytest.raises(Exception, match="no load tag at or before 2026-10-01"):
        resolve_as_of(silver.table, D1)

    silver.load(D1, {ANN: 100, BO: 200})

    assert as_of(silver, D1) == [("a1", D1, 100), ("b2", D1, 200)]
    assert {day: as_of(silver, day) for day in (D2, D3)} == later
    assert [s.tag for s in load_snapshots(silver.table)] == [
        tag_name(D2),
        tag_name(D3),
        tag_name(D1),
    ]


# A rollback, then expiry -------------------------------------------------------------------


def test_a_rolled_back_load_stays_out_after_expiry_cuts_the_chain(silver: SilverWriter) -> None:
    """Day 3 is loaded, then rolled back; days 4 and 5 are loaded on top of day 2, with a
    compaction between them. Expiring the compaction cuts main's parent chain below day 5:
    the rolled-back day 3 (still tagged) must not come back into as-of answers."""
    silver.load(D1, {ANN: 100, BO: 200})
    day2 = silver.load(D2, {ANN: 110, BO: 195})
    silver.load(D3, {ANN: 999, BO: 999})  # a bad load, rolled back
    silver.rollback_to(day2)
    day4 = silver.load(D4, {ANN: 130, BO: 185})
    compaction = silver.compact()
    silver.load(D5, {ANN: 140, BO: 180})
    expected = {day: as_of(silver, day) for day in (D2, D3, D4, D5)}
    assert resolve_as_of(silver.table, D3).snapshot_id == day2  # tag 3 is not on main

    silver.expire([compaction])

    assert resolve_as_of(silver.table, D3).snapshot_id == day2
    assert resolve_as_of(silver.table, D4).snapshot_id == day4
    assert {day: as_of(silver, day) for day in (D2, D3, D4, D5)} == expected
    assert all(r[2] != 999 for day in (D3, D5) for r in as_of(silver, day))
    in_main = {s.snapshot_date: s.in_main_history for s in load_snapshots(silver.table)}
    assert in_main[D3] is False


# Maintenance that extends a tag ------------------------------------------------------------


@pytest.mark.spark
def test_as_of_answers_survive_maintenance_extending_the_tags(lakehouse: SparkLakehouse) -> None:
    """A retention longer than the tags' age limit makes maintenance re-create every tag
    (Spark's CREATE OR REPLACE TAG, a longer RETAIN): each still names the same snapshot, so every
    as-of answer is unchanged, and the re-created tags still resolve through pyiceberg."""
    ensure_table(local_catalog(lakehouse.paths), ARTISTS_SILVER)
    silver = SilverWriter(lakehouse.paths)
    silver.load(D1, {ANN: 100, BO: 200})
    silver.load(D2, {ANN: 110, BO: 195})
    silver.load(D2, {ANN: 111, BO: 196})  # a re-load moves tag 2
    silver.load(D3, {ANN: 120, BO: 190})
    days = (D1, D2, D3, D5)
    before = {day: as_of(silver, day) for day in days}
    tags_before = {t.name: (t.snapshot_id, t.max_ref_age_ms) for t in load_tags(silver.table)}

    (result,) = maintain(
        lakehouse.spark,
        tables=["artists_silver"],
        tag_retention_days=2000,  # more than the 400 days the tags were created with
        snapshot_retention_days=0,
        compact=False,
        today=D3,
    )

    assert result.extended_tags == tuple(sorted(tags_before))
    tags_after = {t.name: (t.snapshot_id, t.max_ref_age_ms) for t in load_tags(silver.table)}
    assert {name: ids for name, (ids, _) in tags_after.items()} == {
        name: ids for name, (ids, _) in tags_before.items()
    }
    for name, (_, age) in tags_after.items():
        assert age is not None
        assert age > tags_before[name][1]
    assert {day: as_of(silver, day) for day in days} == before
    assert as_of(silver, D2) == [("a1", D1, 100), ("a1", D2, 111), ("b2", D1, 200), ("b2", D2, 196)]
