"""The as-of rule and the load-tag names on hand-built Iceberg metadata, case by case.

Each table here is pyiceberg's own ``Table`` over ``TableMetadataV2`` written out snapshot by
snapshot (ids, parents, sequence numbers, summaries, refs), so every branch of
:mod:`catalog.iceberg.timetravel` is reached in microseconds: a rolled-back tag, an expiry
gap in the parent chain, a branch named like a tag, a tag on an expired snapshot. The
end-to-end tests (``tests/views/test_timetravel.py``, ``tests/expectations/test_persist.py``)
write real tables; this module pins down what mutmut showed they leave open
(docs/mutation-testing.md). The rule's own decisions (:mod:`catalog.iceberg.tags.rule`) are
pinned down in ``tests/catalog/test_tags_mutants.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pyiceberg.expressions import And, EqualTo, LessThanOrEqual, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.io import load_file_io
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.metadata import new_table_metadata
from pyiceberg.table.refs import SnapshotRef, SnapshotRefType
from pyiceberg.table.snapshots import Operation, Snapshot, SnapshotLogEntry, Summary
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER
from pyiceberg.types import DateType, LongType, NestedField, StringType

from catalog.iceberg.tags import (
    DEFAULT_TAG_RETENTION_DAYS,
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    TAG_PREFIX,
    LoadTag,
    tag_date,
    tag_name,
    tag_retention_ms,
)
from catalog.iceberg.timetravel import (
    SNAPSHOT_DATE_COLUMN,
    AsOf,
    LoadSnapshot,
    MainHistory,
    NoSnapshotAsOfError,
    SnapshotNotFoundError,
    TimeTravelError,
    load_snapshots,
    load_tags,
    main_history,
    resolve_as_of,
    scan_as_of,
    snapshot_at,
    snapshot_date_filter,
    snapshot_for_version,
    summary_snapshot_date,
)

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

SCHEMA = Schema(
    NestedField(1, "artist_id", StringType(), required=False),
    NestedField(2, "snapshot_date", DateType(), required=False),
    NestedField(3, "followers", LongType(), required=False),
)


def d(n: int) -> date:
    return date(2026, 1, n)


def snap(
    sid: int,
    parent: int | None,
    seq: int | None,
    *,
    day: int | str | None = None,
    op: Operation = Operation.OVERWRITE,
    ts: int | None = None,
    **props: str,
) -> Snapshot:
    extra = dict(props)
    if day is not None:
        extra[SUMMARY_SNAPSHOT_DATE] = day if isinstance(day, str) else d(day).isoformat()
    return Snapshot(
        snapshot_id=sid,
        parent_snapshot_id=parent,
        sequence_number=seq,
        timestamp_ms=ts if ts is not None else T0 + sid * 1000,
        manifest_list=f"file:///tmp/m/snap-{sid}.avro",
        summary=Summary(operation=op, **extra),
        schema_id=0,
    )


def tag(sid: int, age_days: int | None = None) -> SnapshotRef:
    return SnapshotRef(
        snapshot_id=sid,
        snapshot_ref_type=SnapshotRefType.TAG,
        max_ref_age_ms=None if age_days is None else age_days * DAY_MS,
    )


def branch(sid: int) -> SnapshotRef:
    return SnapshotRef(snapshot_id=sid, snapshot_ref_type=SnapshotRefType.BRANCH)


def table(
    snapshots: list[Snapshot],
    refs: dict[str, SnapshotRef],
    *,
    schema: Schema = SCHEMA,
    log: list[tuple[int, int]] | None = None,
    name: tuple[str, ...] = ("lakehouse", "spotify", "artists_silver"),
) -> Table:
    base = new_table_metadata(
        schema, UNPARTITIONED_PARTITION_SPEC, UNSORTED_SORT_ORDER, "file:///tmp/t"
    )
    main = refs.get("main")
    entries = [SnapshotLogEntry(snapshot_id=s, timestamp_ms=t) for s, t in (log or [])]
    update: dict[str, Any] = {
        "snapshots": snapshots,
        "refs": refs,
        "current_snapshot_id": main.snapshot_id if main else None,
        "snapshot_log": entries,
        "last_sequence_number": max((s.sequence_number or 0 for s in snapshots), default=0),
    }
    return Table(
        identifier=name,
        metadata=base.model_copy(update=update),
        metadata_location="file:///tmp/t/metadata/v1.metadata.json",
        io=load_file_io(),
        catalog=None,  # type: ignore[arg-type]
    )


def linear(days: list[int]) -> tuple[list[Snapshot], dict[str, SnapshotRef]]:
    """One load per day, snapshot id = 10 x day, each tagged, main at the last."""
    snaps: list[Snapshot] = []
    refs: dict[str, SnapshotRef] = {}
    parent: int | None = None
    for seq, day in enumerate(days, start=1):
        sid = 10 * day
        snaps.append(snap(sid, parent, seq, day=day, run_id=f"r{day}"))
        refs[tag_name(d(day))] = tag(sid)
        parent = sid
    refs["main"] = branch(parent or 0)
    return snaps, refs


# --- tags ----------------------------------------------------------------------------------


def test_tag_names_round_trip() -> None:
    assert TAG_PREFIX == "snapshot-"
    assert SUMMARY_SNAPSHOT_DATE == "snapshot_date"
    assert SUMMARY_RUN_ID == "run_id"
    assert DEFAULT_TAG_RETENTION_DAYS == 400
    assert tag_name(d(5)) == "snapshot-2026-01-05"
    assert tag_date("snapshot-2026-01-05") == d(5)


@pytest.mark.parametrize(
    "name", ["main", "snapshot-", "snapshot-2026-02-30", "snapshot-x", "Snapshot-2026-01-05"]
)
def test_other_ref_names_are_not_load_tags(name: str) -> None:
    assert tag_date(name) is None


def test_tag_retention_is_in_milliseconds() -> None:
    assert tag_retention_ms(1) == DAY_MS
    assert tag_retention_ms() == 400 * DAY_MS


# --- main history --------------------------------------------------------------------------


def test_main_history_walks_parents_from_main() -> None:
    snaps = [snap(1, None, 1), snap(2, 1, 2), snap(3, 2, 3), snap(9, 1, 4)]
    history = main_history(table(snaps, {"main": branch(3), "b": branch(9)}))
    assert history.ancestor_ids == {1, 2, 3}
    assert history.floor_sequence == 1


def test_main_history_stops_at_an_expired_parent() -> None:
    snaps = [snap(1, None, 1), snap(3, 2, 3), snap(4, 3, 4)]  # 2 expired
    history = main_history(table(snaps, {"main": branch(4)}))
    assert history == MainHistory(frozenset({3, 4}), 3)


def test_a_table_without_main_has_no_history() -> None:
    assert main_history(table([snap(1, None, 1)], {})) == MainHistory(frozenset(), None)


def test_main_history_contains_ancestors_and_what_is_older_than_the_floor() -> None:
    history = MainHistory(frozenset({5, 6}), 5)
    assert history.contains(snap(5, None, 5))
    assert history.contains(snap(6, None, None))  # an ancestor needs no sequence number
    assert history.contains(snap(1, None, 4))  # below the floor: ancestry unknown, kept
    assert not history.contains(snap(2, None, 5))  # at the floor but not an ancestor
    assert not history.contains(snap(3, None, 7))  # above the floor: rolled back / branch
    assert not history.contains(snap(4, None, None))
    assert not MainHistory(frozenset({5}), None).contains(snap(1, None, 1))


# --- load tags and summaries ---------------------------------------------------------------


def test_load_tags_are_retained_tags_named_by_day_oldest_first() -> None:
    snaps = [snap(1, None, 1), snap(2, 1, 2), snap(3, 2, 3)]
    refs = {
        "main": branch(3),
        "snapshot-2026-01-03": tag(3, 30),
        "snapshot-2026-01-01": tag(1),
        "snapshot-2026-01-02": branch(2),  # a branch named like a tag
        "snapshot-2026-01-04": tag(77),  # its snapshot is expired
        "release": tag(2),
    }
    assert load_tags(table(snaps, refs)) == [
        LoadTag("snapshot-2026-01-01", d(1), 1, None),
        LoadTag("snapshot-2026-01-03", d(3), 3, 30 * DAY_MS),
    ]


def test_summary_snapshot_date() -> None:
    assert summary_snapshot_date(snap(1, None, 1, day=4)) == d(4)
    assert summary_snapshot_date(snap(1, None, 1)) is None
    assert summary_snapshot_date(snap(1, None, 1, day="not-a-date")) is None
    no_summary = snap(1, None, 1).model_copy(update={"summary": None})
    assert summary_snapshot_date(no_summary) is None


def test_load_snapshots_lists_loads_in_commit_order() -> None:
    snaps = [
        snap(
            30,
            20,
            3,
            day=2,
            op=Operation.OVERWRITE,
            run_id="late",
            **{"total-records": "7", "added-records": "3", "deleted-records": "2"},
        ),
        snap(10, None, 1, day=1, op=Operation.APPEND, run_id="r1", **{"total-records": "x"}),
        snap(20, 10, 2, day=2, op=Operation.APPEND, ts=T0 + 5 * DAY_MS),
        snap(25, 20, 2, op=Operation.REPLACE, ts=T0),  # compaction: no snapshot_date
        snap(40, 20, 4, day=3),  # rolled back: not on main
    ]
    refs = {
        "main": branch(30),
        "snapshot-2026-01-01": tag(10),
        "snapshot-2026-01-02": tag(30),
        "snapshot-2026-01-05": tag(30),  # a later tag on the same commit
        "snapshot-2026-01-03": tag(40),
    }
    loads = load_snapshots(table(snaps, refs))
    assert [x.snapshot_id for x in loads] == [10, 20, 30, 40]
    first, second, late, rolled_back = loads
    assert first == LoadSnapshot(
        snapshot_id=10,
        snapshot_date=d(1),
        committed_at=datetime.fromtimestamp((T0 + 10_000) / 1000, tz=UTC),
        operation="append",
        run_id="r1",
        rows=None,
        added_records=None,
        deleted_records=None,
        tag="snapshot-2026-01-01",
        in_main_history=True,
    )
    assert first.committed_at == datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert second.tag is None
    assert second.run_id is None
    assert second.committed_at == datetime(2026, 1, 6, tzinfo=UTC)
    assert (late.rows, late.added_records, late.deleted_records) == (7, 3, 2)
    assert late.operation == "overwrite"
    assert late.run_id == "late"
    assert late.tag == "snapshot-2026-01-02"  # its own day's tag before a later one
    assert late.in_main_history
    assert rolled_back.tag == "snapshot-2026-01-03"
    assert not rolled_back.in_main_history


def test_load_snapshots_prefers_the_earliest_other_tag_when_its_own_is_absent() -> None:
    snaps = [snap(10, None, 1, day=1)]
    refs = {"main": branch(10), "snapshot-2026-01-09": tag(10), "snapshot-2026-01-04": tag(10)}
    [load] = load_snapshots(table(snaps, refs))
    assert load.tag == "snapshot-2026-01-04"


def test_load_snapshots_order_ties_on_sequence_by_commit_time() -> None:
    snaps = [snap(2, None, None, day=1, ts=T0 + 2), snap(1, None, None, day=1, ts=T0 + 1)]
    loads = load_snapshots(table(snaps, {"main": branch(2)}))
    assert [x.snapshot_id for x in loads] == [1, 2]


# --- the as-of rule ------------------------------------------------------------------------


def test_as_of_reads_the_latest_tag_at_or_before_the_day() -> None:
    snaps, refs = linear([1, 2, 5])
    t = table(snaps, refs)
    assert resolve_as_of(t, d(1)) == AsOf(snapshot_id=10, tag_date=d(1), day=d(1))
    assert resolve_as_of(t, d(4)) == AsOf(snapshot_id=20, tag_date=d(2), day=d(4))
    assert resolve_as_of(t, d(5)) == AsOf(snapshot_id=50, tag_date=d(5), day=d(5))
    assert resolve_as_of(t, d(30)) == AsOf(snapshot_id=50, tag_date=d(5), day=d(30))


def test_as_of_carries_the_filter_and_tag_of_its_day() -> None:
    as_of = AsOf(snapshot_id=20, tag_date=d(2), day=d(4))
    assert as_of.tag == "snapshot-2026-01-02"
    assert as_of.row_filter == LessThanOrEqual(Reference("snapshot_date"), literal(d(4)))
    assert snapshot_date_filter(d(4)) == as_of.row_filter
    assert SNAPSHOT_DATE_COLUMN == "snapshot_date"


def test_as_of_before_the_first_tag_names_the_earliest_day() -> None:
    snaps, refs = linear([3, 4])
    refs["snapshot-2026-01-03"] = tag(30, 45)
    refs["snapshot-2026-01-04"] = tag(40, 10)
    with pytest.raises(NoSnapshotAsOfError) as raised:
        resolve_as_of(table(snaps, refs), d(2))
    error = raised.value
    assert str(error) == (
        "spotify.artists_silver has no load tag at or before 2026-01-02: the earliest retained "
        "load date is 2026-01-03 (daily tags are kept for 45 days). Use --as-of 2026-01-03 "
        "or later."
    )
    assert (error.table, error.day, error.earliest) == ("spotify.artists_silver", d(2), d(3))
    assert isinstance(error, TimeTravelError)


def test_retention_in_the_message_is_rounded_and_at_least_a_day() -> None:
    snaps, refs = linear([3])
    refs["snapshot-2026-01-03"] = SnapshotRef(
        snapshot_id=30, snapshot_ref_type=SnapshotRefType.TAG, max_ref_age_ms=DAY_MS * 3 // 2
    )
    with pytest.raises(NoSnapshotAsOfError, match=r"kept for 2 days"):
        resolve_as_of(table(snaps, refs), d(1))
    refs["snapshot-2026-01-03"] = SnapshotRef(
        snapshot_id=30, snapshot_ref_type=SnapshotRefType.TAG, max_ref_age_ms=1000
    )
    with pytest.raises(NoSnapshotAsOfError, match=r"kept for 1 days"):
        resolve_as_of(table(snaps, refs), d(1))


def test_retention_defaults_when_tags_carry_none() -> None:
    snaps, refs = linear([3])
    with pytest.raises(NoSnapshotAsOfError, match=r"kept for 400 days"):
        resolve_as_of(table(snaps, refs), d(1))


def test_a_table_without_load_tags_says_load_a_day_first() -> None:
    t = table([snap(1, None, 1)], {"main": branch(1)}, name=("spotify", "dq_results"))
    with pytest.raises(NoSnapshotAsOfError) as raised:
        resolve_as_of(t, d(9))
    assert str(raised.value) == (
        "spotify.dq_results has no load tag (snapshot-YYYY-MM-DD) in its main history, so "
        "nothing can be read as of 2026-01-09: load a day first (spotify-lakehouse run "
        "--date D), or query without --as-of."
    )
    assert raised.value.earliest is None


def test_a_rolled_back_tag_is_ignored_and_named() -> None:
    # Day 2 loaded (20), then rolled back: main went on from 10 with day 3 (30).
    snaps = [snap(10, None, 1, day=1), snap(20, 10, 2, day=2), snap(30, 10, 3, day=3)]
    refs = {
        "main": branch(30),
        "snapshot-2026-01-01": tag(10),
        "snapshot-2026-01-02": tag(20),
        "snapshot-2026-01-03": tag(30),
    }
    t = table(snaps, refs)
    assert resolve_as_of(t, d(2)) == AsOf(snapshot_id=10, tag_date=d(1), day=d(2))
    main_only = {k: v for k, v in refs.items() if k != "snapshot-2026-01-01"}
    with pytest.raises(NoSnapshotAsOfError) as raised:
        resolve_as_of(table(snaps, main_only), d(2))
    assert str(raised.value).endswith(
        " Ignored tags whose snapshot is not in the main history (rolled back or on another "
        "branch): snapshot-2026-01-02."
    )
    assert "earliest retained load date is 2026-01-03" in str(raised.value)


def test_a_rolled_back_tag_after_the_day_is_not_named() -> None:
    # Main: 5 -> 30 (day 3); 10 (day 1) and 20 (day 2) are off main, above its floor.
    snaps = [snap(5, None, 1), snap(30, 5, 4, day=3)]
    snaps += [snap(10, None, 2, day=1), snap(20, None, 3, day=2)]
    refs = {"main": branch(30), "snapshot-2026-01-02": tag(20), "snapshot-2026-01-03": tag(30)}
    with pytest.raises(NoSnapshotAsOfError) as raised:
        resolve_as_of(table(snaps, refs), d(1))
    assert "Ignored" not in str(raised.value)
    refs["snapshot-2026-01-01"] = tag(10)
    with pytest.raises(NoSnapshotAsOfError, match=r"Ignored tags .*: snapshot-2026-01-01\.$"):
        resolve_as_of(table(snaps, refs), d(1))


def test_a_tag_older_than_an_expiry_gap_still_counts() -> None:
    # Snapshot 20 expired: the walk from 40 ends at 30 (floor 3); tag of day 1 (seq 1) is
    # older than the floor and counts; tag 25 (seq 5, not an ancestor) does not.
    snaps = [snap(10, None, 1, day=1), snap(30, 20, 3, day=3), snap(40, 30, 4, day=4)]
    snaps.append(snap(25, 30, 5, day=2))
    refs = {
        "main": branch(40),
        "snapshot-2026-01-01": tag(10),
        "snapshot-2026-01-02": tag(25),
        "snapshot-2026-01-04": tag(40),
    }
    t = table(snaps, refs)
    assert resolve_as_of(t, d(2)).snapshot_id == 10
    assert resolve_as_of(t, d(4)).snapshot_id == 40


# --- reads ---------------------------------------------------------------------------------


def test_scan_as_of_reads_the_tagged_snapshot_up_to_the_day() -> None:
    snaps, refs = linear([1, 2])
    t = table(snaps, refs)
    as_of = AsOf(snapshot_id=10, tag_date=d(1), day=d(3))
    scan = scan_as_of(t, as_of)
    assert scan.snapshot_id == 10
    assert scan.row_filter == as_of.row_filter
    assert scan.selected_fields == ("*",)
    extra = EqualTo(Reference("artist_id"), literal("a"))
    narrowed = scan_as_of(t, as_of, ("artist_id",), extra)
    assert narrowed.row_filter == And(as_of.row_filter, extra)
    assert narrowed.selected_fields == ("artist_id",)


def test_a_table_without_snapshot_date_cannot_be_read_as_of() -> None:
    schema = Schema(NestedField(1, "artist_id", StringType(), required=False))
    t = table([snap(1, None, 1)], {"main": branch(1)}, schema=schema)
    with pytest.raises(TimeTravelError) as raised:
        scan_as_of(t, AsOf(snapshot_id=1, tag_date=d(1), day=d(1)))
    assert str(raised.value) == (
        "spotify.artists_silver has no snapshot_date column, so it cannot be read by snapshot "
        "date: query it without --as-of."
    )


def test_snapshot_for_version_by_id_or_ref() -> None:
    snaps, refs = linear([1, 2])
    t = table(snaps, refs)
    assert snapshot_for_version(t, 10).snapshot_id == 10
    assert snapshot_for_version(t, "snapshot-2026-01-02").snapshot_id == 20
    assert snapshot_for_version(t, "main").snapshot_id == 20
    for missing in (99, "nope"):
        with pytest.raises(SnapshotNotFoundError) as raised:
            snapshot_for_version(t, missing)
        assert str(raised.value) == (
            f"spotify.artists_silver has no retained snapshot or ref {missing!r}: list them "
            "with `spotify-lakehouse snapshots`."
        )


def test_snapshot_at_a_moment() -> None:
    snaps, refs = linear([1, 2])
    log = [(10, T0 + DAY_MS), (20, T0 + 2 * DAY_MS)]
    t = table(snaps, refs, log=log)
    assert snapshot_at(t, datetime(2026, 1, 2, 12, tzinfo=UTC)).snapshot_id == 10
    assert snapshot_at(t, datetime(2026, 1, 3, tzinfo=UTC)).snapshot_id == 20
    with pytest.raises(SnapshotNotFoundError) as raised:
        snapshot_at(t, datetime(2026, 1, 1, 23, 59, tzinfo=UTC))
    assert str(raised.value) == (
        "spotify.artists_silver had no snapshot at 2026-01-01T23:59:00+00:00. Its retained "
        "history starts at 2026-01-02 00:00:00+00:00."
    )


def test_snapshot_at_on_an_empty_table() -> None:
    with pytest.raises(SnapshotNotFoundError) as raised:
        snapshot_at(table([], {}), datetime(2026, 1, 1, tzinfo=UTC))
    assert str(raised.value) == (
        "spotify.artists_silver had no snapshot at 2026-01-01T00:00:00+00:00. It has no "
        "snapshot yet."
    )


def test_snapshot_at_uses_milliseconds() -> None:
    snaps, refs = linear([1])
    t = table(snaps, refs, log=[(10, T0 + 1500)])
    assert snapshot_at(t, datetime.fromtimestamp((T0 + 1500) / 1000, tz=UTC)).snapshot_id == 10
    with pytest.raises(SnapshotNotFoundError):
        snapshot_at(t, datetime.fromtimestamp((T0 + 1499) / 1000, tz=UTC))


# --- lineage below an expiry gap -------------------------------------------------------------


def test_a_rolled_back_load_older_than_the_gap_is_off_main() -> None:
    # 10 (day 1) -> 20 (day 2, rolled back), 10 -> 30 (day 3) -> 40 (expired) -> 50 (day 5).
    # The walk from 50 ends at once (floor 5); below it, 30's line is 30 -> 10, so 20, newer
    # than that line's bottom and not on it, was rolled back.
    snaps = [
        snap(10, None, 1, day=1),
        snap(20, 10, 2, day=2),
        snap(30, 10, 3, day=3),
        snap(50, 40, 5, day=5),
    ]
    refs = {
        "main": branch(50),
        "snapshot-2026-01-01": tag(10),
        "snapshot-2026-01-02": tag(20),
        "snapshot-2026-01-03": tag(30),
        "snapshot-2026-01-05": tag(50),
    }
    t = table(snaps, refs)
    history = main_history(t)
    assert history == MainHistory(frozenset({50}), 5, frozenset({20}))
    assert not history.contains(snaps[1])
    assert history.contains(snaps[0])
    assert history.contains(snaps[2])
    assert resolve_as_of(t, d(2)) == AsOf(snapshot_id=10, tag_date=d(1), day=d(2))
    assert resolve_as_of(t, d(3)).snapshot_id == 30
    assert [x.in_main_history for x in load_snapshots(t)] == [True, False, True, True]


def test_every_rolled_back_tag_at_or_before_the_day_is_named() -> None:
    # 10 -> 20 (day 2) -> 25 (day 3), both rolled back; 10 -> 30 (day 4); 50 (day 6) above
    # an expired 40.
    snaps = [
        snap(10, None, 1),
        snap(20, 10, 2, day=2),
        snap(25, 20, 3, day=3),
        snap(30, 10, 4, day=4),
        snap(50, 40, 6, day=6),
    ]
    refs = {
        "main": branch(50),
        "snapshot-2026-01-02": tag(20),
        "snapshot-2026-01-03": tag(25),
        "snapshot-2026-01-04": tag(30),
        "snapshot-2026-01-06": tag(50),
    }
    t = table(snaps, refs)
    assert main_history(t).excluded_ids == {20, 25}
    with pytest.raises(NoSnapshotAsOfError) as raised:
        resolve_as_of(t, d(3))
    assert str(raised.value).endswith(
        "(rolled back or on another branch): snapshot-2026-01-02, snapshot-2026-01-03."
    )
    assert "earliest retained load date is 2026-01-04" in str(raised.value)


def test_lineage_is_read_again_below_each_gap() -> None:
    # 1 (day 1) -> 2 (day 2, rolled back); 1 -> 3 (day 3) -> 4 (expired) -> 5 (day 5)
    # -> 6 (expired) -> 7 (main). Below the floor, 5's line ends at once (its parent 4 is
    # gone); below that, 3's line is 3 -> 1, so 2 is off main.
    snaps = [
        snap(1, None, 1, day=1),
        snap(2, 1, 2, day=2),
        snap(3, 1, 3, day=3),
        snap(5, 4, 5, day=5),
        snap(7, 6, 7, day=7),
    ]
    refs = {"main": branch(7), **{tag_name(d(n)): tag(n) for n in (1, 2, 3, 5)}}
    t = table(snaps, refs)
    assert main_history(t) == MainHistory(frozenset({7}), 7, frozenset({2}))
    assert resolve_as_of(t, d(2)).snapshot_id == 1
    assert resolve_as_of(t, d(5)).snapshot_id == 5


def test_without_a_gap_nothing_is_excluded() -> None:
    snaps, refs = linear([1, 2, 3])
    assert main_history(table(snaps, refs)).excluded_ids == frozenset()


def test_load_tags_skip_an_expired_tag_wherever_it_is_listed() -> None:
    snaps = [snap(1, None, 1), snap(2, 1, 2)]
    refs = {
        "snapshot-2026-01-04": tag(77),  # expired snapshot, listed first
        "snapshot-2026-01-01": tag(1),
        "main": branch(2),
        "snapshot-2026-01-02": tag(2),
    }
    assert [x.snapshot_id for x in load_tags(table(snaps, refs))] == [1, 2]


def test_a_load_without_sequence_number_sorts_first() -> None:
    # Format-1 snapshots carry no sequence number: they come before numbered ones whatever
    # their commit time.
    snaps = [snap(1, None, 1, day=1, ts=T0), snap(2, None, None, day=2, ts=T0 + 5)]
    loads = load_snapshots(table(snaps, {"main": branch(1)}))
    assert [x.snapshot_id for x in loads] == [2, 1]
