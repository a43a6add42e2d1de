"""``delete-day``'s delete (:mod:`catalog.iceberg.deletes`) on real tables, no Spark.

Days are loaded by the job's own first-load path (bronze -> validation -> pyiceberg append
with the day's tag; a first load needs no SparkSession), then taken back. What is checked:
the rows that go and the ones that stay, one catalog commit per table whose summary says
why, where ``snapshot-D`` ends up, that as-of answers of later days are exactly what they
were, that bronze is byte for byte what it was, and that nothing to delete commits nothing.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.table import Table

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.deletes import (
    SUMMARY_DELETE_ARTIST,
    SUMMARY_DELETE_REASON,
    SUMMARY_DELETED_ROWS,
    DayDeletion,
    DaySelection,
    NothingToDeleteError,
    RemovedRow,
    TagOutcome,
    delete_day,
)
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import (
    ARTISTS_QUARANTINE,
    ARTISTS_SILVER,
    ensure_tables,
    store_tag_retention,
)
from catalog.iceberg.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE, tag_name
from catalog.iceberg.timetravel import resolve_as_of, scan_as_of
from catalog.paths import LakehousePaths
from glue.job import run_local_day
from tests.bronze_days import artist, write_day

D1, D2, D3, D4 = (date(2026, 11, 1) + timedelta(days=n) for n in range(4))
#: The artist whose record of D2 fails validation (negative followers): quarantined.
BAD = artist(9, followers=-5)
#: A record of D2 without an id: quarantined, and never any one artist's.
NO_ID = artist(10, id=None)


def no_spark() -> Any:
    raise AssertionError("first loads need no Spark")


def roster(day: date) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.day) for i in range(1, 4)]


@pytest.fixture
def paths(tmp_path: Path) -> LakehousePaths:
    """Three days loaded; D2 also has two quarantined records (one without an id)."""
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    ensure_tables(local_catalog(paths))
    store = LocalBronzeStore(paths.bronze)
    for day in (D1, D2, D3):
        write_day(
            store, day, [roster(day) + ([BAD, NO_ID] if day == D2 else [])], run_id=f"run-{day.day}"
        )
        run_local_day(no_spark, paths, day)
    return paths


def table(paths: LakehousePaths, identifier: tuple[str, str]) -> Table:
    return local_catalog(paths).load_table(identifier)


def rows(paths: LakehousePaths, identifier: tuple[str, str]) -> list[tuple[Any, ...]]:
    found = table(paths, identifier).scan(selected_fields=("artist_id", "snapshot_date"))
    pairs = ((r["artist_id"], r["snapshot_date"]) for r in found.to_arrow().to_pylist())
    return sorted(pairs, key=lambda p: (p[0] or "", p[1]))


def as_of(paths: LakehousePaths, identifier: tuple[str, str], day: date) -> list[Any]:
    """Every column of every row of the table as of ``day`` (the as-of rule), sorted."""
    loaded = table(paths, identifier)
    found = scan_as_of(loaded, resolve_as_of(loaded, day)).to_arrow().to_pylist()
    return sorted(found, key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def bronze_digest(paths: LakehousePaths) -> dict[str, str]:
    return {
        str(p.relative_to(paths.bronze)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(paths.bronze.rglob("*"))
        if p.is_file()
    }


def summary(paths: LakehousePaths, identifier: tuple[str, str], snapshot_id: int) -> dict[str, str]:
    snapshot = table(paths, identifier).metadata.snapshot_by_id(snapshot_id)
    assert snapshot is not None
    assert snapshot.summary is not None
    return dict(snapshot.summary.additional_properties)


def tag_target(paths: LakehousePaths, identifier: tuple[str, str], day: date) -> int | None:
    ref = table(paths, identifier).metadata.refs.get(tag_name(day))
    return ref.snapshot_id if ref is not None else None


def remove(paths: LakehousePaths, day: date, artist_id: str | None = None) -> DayDeletion:
    return delete_day(
        local_catalog(paths),
        DaySelection(day, artist_id),
        reason="bad fetch",
        run_id="del-1",
    )


def test_a_whole_day_goes_from_silver_and_quarantine_and_later_answers_stay(
    paths: LakehousePaths,
) -> None:
    silver, quarantine = ARTISTS_SILVER.identifier, ARTISTS_QUARANTINE.identifier
    later = {t: as_of(paths, t, D3) for t in (silver, quarantine)}
    earlier = {t: as_of(paths, t, D1) for t in (silver, quarantine)}
    other_tags = {(t, d): tag_target(paths, t, d) for t in (silver, quarantine) for d in (D1, D3)}
    logs = {t: len(table(paths, t).metadata.metadata_log) for t in (silver, quarantine)}
    bronze = bronze_digest(paths)

    done = remove(paths, D2)

    ids = [artist(i)["id"] for i in range(1, 4)]
    assert done.silver.rows == tuple(
        RemovedRow(i, f"Artist {n}", 1_000_000 * n + D2.day) for n, i in enumerate(ids, 1)
    )
    assert done.quarantine.rows == (
        RemovedRow(None, "Artist 10", 10_000_000),
        RemovedRow(BAD["id"], "Artist 9", -5),
    )
    assert D2 not in {d for _, d in rows(paths, silver)}
    assert rows(paths, silver) == sorted((i, d) for i in ids for d in (D1, D3))
    assert rows(paths, quarantine) == []
    for part, identifier, count in ((done.silver, silver, 3), (done.quarantine, quarantine, 2)):
        assert part.snapshot_id is not None
        assert (
            summary(paths, identifier, part.snapshot_id).items()
            >= {
                SUMMARY_SNAPSHOT_DATE: D2.isoformat(),
                SUMMARY_RUN_ID: "del-1",
                SUMMARY_DELETED_ROWS: str(count),
                SUMMARY_DELETE_REASON: "bad fetch",
            }.items()
        )
        assert SUMMARY_DELETE_ARTIST not in summary(paths, identifier, part.snapshot_id)
        # the day's tag moved to the delete commit, in that same catalog commit
        assert (part.tag, part.tag_outcome) == (tag_name(D2), TagOutcome.MOVED)
        assert tag_target(paths, identifier, D2) == part.snapshot_id
        assert len(table(paths, identifier).metadata.metadata_log) == logs[identifier] + 1
    # as of D2: the day is gone, earlier days as they were; as of D3 and D1: exactly as before
    assert {r["snapshot_date"] for r in as_of(paths, silver, D2)} == {D1}
    assert as_of(paths, quarantine, D2) == []
    assert {t: as_of(paths, t, D3) for t in (silver, quarantine)} == later
    assert {t: as_of(paths, t, D1) for t in (silver, quarantine)} == earlier
    assert {(t, d): tag_target(paths, t, d) for t in (silver, quarantine) for d in (D1, D3)} == (
        other_tags
    )
    assert bronze_digest(paths) == bronze


def test_a_later_load_leaves_the_moved_tag_where_the_rule_puts_it(paths: LakehousePaths) -> None:
    """The tag decision agrees with the rule's repair: a later load (which re-points every
    stale tag at its day's latest commit) finds nothing to move."""
    done = remove(paths, D2)
    write_day(LocalBronzeStore(paths.bronze), D4, [roster(D4)], run_id="run-4")
    run_local_day(no_spark, paths, D4)
    assert tag_target(paths, ARTISTS_SILVER.identifier, D2) == done.silver.snapshot_id
    assert {r["snapshot_date"] for r in as_of(paths, ARTISTS_SILVER.identifier, D2)} == {D1}


def test_one_artist_day_goes_and_nothing_else(paths: LakehousePaths) -> None:
    gone = artist(2)["id"]
    before = rows(paths, ARTISTS_SILVER.identifier)
    quarantined = rows(paths, ARTISTS_QUARANTINE.identifier)

    done = remove(paths, D2, gone)

    assert done.silver.rows == (RemovedRow(gone, "Artist 2", 2_000_000 + D2.day),)
    assert rows(paths, ARTISTS_SILVER.identifier) == [r for r in before if r != (gone, D2)]
    # the quarantine has no record of that artist: no commit there, its tag as it was
    assert (done.quarantine.snapshot_id, done.quarantine.tag_outcome) == (
        None,
        TagOutcome.UNCHANGED,
    )
    assert rows(paths, ARTISTS_QUARANTINE.identifier) == quarantined
    assert done.silver.snapshot_id is not None
    assert (
        summary(paths, ARTISTS_SILVER.identifier, done.silver.snapshot_id)[SUMMARY_DELETE_ARTIST]
        == gone
    )
    as_of_d2 = {
        (r["artist_id"], r["snapshot_date"]) for r in as_of(paths, ARTISTS_SILVER.identifier, D2)
    }
    assert (gone, D2) not in as_of_d2
    assert (gone, D1) in as_of_d2


def test_a_quarantined_artist_day_goes_from_the_quarantine_alone(paths: LakehousePaths) -> None:
    silver_tag = tag_target(paths, ARTISTS_SILVER.identifier, D2)
    done = remove(paths, D2, BAD["id"])
    assert (done.silver.snapshot_id, done.silver.tag_outcome) == (None, TagOutcome.UNCHANGED)
    assert tag_target(paths, ARTISTS_SILVER.identifier, D2) == silver_tag
    assert done.quarantine.rows == (RemovedRow(BAD["id"], "Artist 9", -5),)
    # the record without an id shared the file: rewritten, and kept (no id is no artist's)
    assert rows(paths, ARTISTS_QUARANTINE.identifier) == [(None, D2)]
    assert done.quarantine.snapshot_id is not None
    assert tag_target(paths, ARTISTS_QUARANTINE.identifier, D2) == done.quarantine.snapshot_id


@pytest.mark.parametrize(
    ("day", "artist_id"),
    [(D4, None), (D2, artist(7)["id"]), (D1, BAD["id"])],
    ids=["day-not-loaded", "artist-not-there", "artist-quarantined-another-day"],
)
def test_nothing_to_delete_commits_nothing(
    paths: LakehousePaths, day: date, artist_id: str | None
) -> None:
    logs = {
        t: table(paths, t).metadata_location
        for t in (ARTISTS_SILVER.identifier, ARTISTS_QUARANTINE.identifier)
    }
    with pytest.raises(NothingToDeleteError, match=r"nothing to delete.*nothing was committed"):
        remove(paths, day, artist_id)
    assert {t: table(paths, t).metadata_location for t in logs} == logs


def test_a_deletion_needs_a_reason(paths: LakehousePaths) -> None:
    with pytest.raises(ValueError, match="reason"):
        delete_day(local_catalog(paths), DaySelection(D2), reason="  ", run_id="del-1")
    assert D2 in {d for _, d in rows(paths, ARTISTS_SILVER.identifier)}


def test_a_day_beyond_the_tag_retention_goes_without_a_tag(paths: LakehousePaths) -> None:
    done = delete_day(
        local_catalog(paths),
        DaySelection(D2),
        reason="old",
        run_id="del-1",
        retention_days=30,
        today=D2 + timedelta(days=31),
    )
    assert (done.silver.tag, done.silver.tag_outcome) == (None, TagOutcome.BEYOND_RETENTION)
    assert tag_target(paths, ARTISTS_SILVER.identifier, D2) != done.silver.snapshot_id


def test_the_homes_stored_retention_is_the_one_a_deletion_follows(paths: LakehousePaths) -> None:
    catalog = local_catalog(paths)
    store_tag_retention(catalog.load_table(ARTISTS_SILVER.identifier), 30)  # maintain's setting
    done = delete_day(
        catalog, DaySelection(D2), reason="old", run_id="del-1", today=D2 + timedelta(days=31)
    )
    assert (done.silver.tag, done.silver.tag_outcome) == (None, TagOutcome.BEYOND_RETENTION)


def test_rows_in_files_of_their_own_and_shared_go_in_one_snapshot(tmp_path: Path) -> None:
    """A compacted month holds several days in one file, and a later append of D a file of
    its own: the copy-on-write delete drops the latter and rewrites the former without D's
    rows (the other days' rows intact), all in one snapshot, which the tag names."""
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    ensure_tables(local_catalog(paths))
    shared = [
        {"artist_id": f"a{i}", "snapshot_date": d, "followers": i}
        for i in range(3)
        for d in (D1, D2)
    ]
    own = [{"artist_id": "b", "snapshot_date": D2, "followers": 9}]
    for data in (shared, own):
        silver = table(paths, ARTISTS_SILVER.identifier)
        silver.append(
            pa.Table.from_pylist(data, schema=silver.schema().as_arrow()),
            snapshot_properties={SUMMARY_SNAPSHOT_DATE: D2.isoformat()},
        )
    before = len(table(paths, ARTISTS_SILVER.identifier).snapshots())
    done = remove(paths, D2)
    after = table(paths, ARTISTS_SILVER.identifier)
    assert len(done.silver.rows) == 4
    assert rows(paths, ARTISTS_SILVER.identifier) == [(f"a{i}", D1) for i in range(3)]
    [made] = after.snapshots()[before:]
    assert (
        made.snapshot_id
        == done.silver.snapshot_id
        == tag_target(paths, ARTISTS_SILVER.identifier, D2)
    )
    assert made.summary is not None
    assert made.summary.operation.value == "overwrite"
    assert made.summary.additional_properties[SUMMARY_DELETED_ROWS] == "4"


def test_rows_in_files_of_their_own_go_by_metadata_alone(paths: LakehousePaths) -> None:
    """Each first load wrote its day a file of its own: deleting the day drops the files
    (a ``delete`` snapshot), nothing is rewritten."""
    done = remove(paths, D3)
    assert done.silver.snapshot_id is not None
    made = table(paths, ARTISTS_SILVER.identifier).metadata.snapshot_by_id(done.silver.snapshot_id)
    assert made is not None
    assert made.summary is not None
    assert made.summary.operation.value == "delete"
    assert made.summary.additional_properties.get("added-data-files") is None  # none written
