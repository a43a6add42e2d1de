"""Time travel by snapshot date (ARCHITECTURE.md, "Time travel by snapshot date")."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tags import tag_name
from catalog.iceberg.timetravel import (
    NoSnapshotAsOfError,
    load_snapshots,
    load_tags,
    main_history,
    resolve_as_of,
)
from catalog.paths import LakehousePaths
from infra.cli.main import main
from tests.views.conftest import Artist, SilverWriter
from views.local import LocalEngine

ANN = Artist("a1", "Ann")
BO = Artist("b2", "Bo")
DAY1, DAY2, DAY3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)
QUERY = "SELECT artist_id, snapshot_date, followers FROM artists_silver ORDER BY 2, 1"


def _three_days_and_a_late_reload(silver: SilverWriter) -> dict[str, int]:
    ids = {
        "day1": silver.load(DAY1, {ANN: 100, BO: 200}, run_id="r1"),
        "day2": silver.load(DAY2, {ANN: 110, BO: 190}, run_id="r2"),
        "day3": silver.load(DAY3, {ANN: 120, BO: 210}, run_id="r3"),
    }
    ids["day2_reload"] = silver.load(DAY2, {ANN: 115, BO: 195}, run_id="r2b")
    return ids


def _rows(engine: LocalEngine, as_of: date | None) -> list[tuple[object, ...]]:
    return list(engine.execute(QUERY, as_of=as_of).rows)


def test_late_reload_shows_in_its_own_day_only(silver: SilverWriter, engine: LocalEngine) -> None:
    ids = _three_days_and_a_late_reload(silver)

    assert _rows(engine, DAY2) == [
        ("a1", DAY1, 100),
        ("b2", DAY1, 200),
        ("a1", DAY2, 115),
        ("b2", DAY2, 195),
    ]
    # as of day 3: the day-3 tag's snapshot, taken before day 2 was re-loaded
    assert _rows(engine, DAY3) == [
        ("a1", DAY1, 100),
        ("b2", DAY1, 200),
        ("a1", DAY2, 110),
        ("b2", DAY2, 190),
        ("a1", DAY3, 120),
        ("b2", DAY3, 210),
    ]
    assert resolve_as_of(silver.table, DAY2).snapshot_id == ids["day2_reload"]
    assert resolve_as_of(silver.table, DAY3).snapshot_id == ids["day3"]


def test_as_of_a_day_without_tag_uses_the_latest_tag_before_it(
    silver: SilverWriter, engine: LocalEngine
) -> None:
    ids = _three_days_and_a_late_reload(silver)
    later = DAY3 + timedelta(days=10)

    resolved = resolve_as_of(silver.table, later)

    assert (resolved.snapshot_id, resolved.tag_date, resolved.day) == (ids["day3"], DAY3, later)
    assert resolved.tag == tag_name(DAY3)
    assert _rows(engine, later) == _rows(engine, DAY3)


def test_as_of_before_the_first_tag_is_an_error(silver: SilverWriter, engine: LocalEngine) -> None:
    _three_days_and_a_late_reload(silver)

    with pytest.raises(NoSnapshotAsOfError) as raised:
        engine.execute(QUERY, as_of=DAY1 - timedelta(days=1))

    message = str(raised.value)
    assert "2026-09-30" in message
    assert "earliest retained load date is 2026-10-01" in message
    assert "400 days" in message


def test_a_table_without_any_load_tag_is_an_error(engine: LocalEngine) -> None:
    with pytest.raises(NoSnapshotAsOfError, match="no load tag"):
        engine.execute(QUERY, as_of=DAY1)


def test_as_of_reads_the_view_through_its_tables(silver: SilverWriter, engine: LocalEngine) -> None:
    _three_days_and_a_late_reload(silver)

    result = engine.execute(
        "SELECT artist_id, date, followers_gained FROM Spotify_Gold_View ORDER BY 2, 1",
        as_of=DAY2,
    )

    assert list(result.rows) == [
        ("a1", DAY1, None),
        ("b2", DAY1, None),
        ("a1", DAY2, 15),
        ("b2", DAY2, -5),
    ]
    (read,) = result.reads
    assert read.table == "spotify.artists_silver"
    assert read.as_of is not None
    assert read.as_of.tag_date == DAY2


def test_compaction_commits_are_ignored(silver: SilverWriter, engine: LocalEngine) -> None:
    ids = _three_days_and_a_late_reload(silver)
    before = {day: _rows(engine, day) for day in (DAY1, DAY2, DAY3)}
    compaction = silver.compact()

    assert {day: _rows(engine, day) for day in (DAY1, DAY2, DAY3)} == before
    assert compaction not in {s.snapshot_id for s in load_snapshots(silver.table)}
    assert resolve_as_of(silver.table, DAY3 + timedelta(1)).snapshot_id == ids["day3"]
    # the current state is the compacted one: the latest values of every day
    assert _rows(engine, None) == [
        ("a1", DAY1, 100),
        ("b2", DAY1, 200),
        ("a1", DAY2, 115),
        ("b2", DAY2, 195),
        ("a1", DAY3, 120),
        ("b2", DAY3, 210),
    ]


def test_a_tag_on_a_rolled_back_snapshot_is_ignored(
    silver: SilverWriter, engine: LocalEngine
) -> None:
    ids = _three_days_and_a_late_reload(silver)
    day4 = DAY3 + timedelta(1)
    silver.load(day4, {ANN: 999, BO: 999})
    silver.rollback_to(ids["day2_reload"])

    resolved = resolve_as_of(silver.table, day4)

    assert (resolved.tag_date, resolved.snapshot_id) == (DAY3, ids["day3"])
    assert _rows(engine, day4) == _rows(engine, DAY3)
    assert [s.in_main_history for s in load_snapshots(silver.table)] == [True] * 4 + [False]


def test_the_error_names_tags_it_ignored(silver: SilverWriter) -> None:
    ids = _three_days_and_a_late_reload(silver)
    silver.rollback_to(ids["day1"])
    day0 = DAY1 - timedelta(1)
    silver.tag(day0, ids["day3"])  # a tag on a snapshot that is no longer on main

    with pytest.raises(NoSnapshotAsOfError, match=r"Ignored tags .*: snapshot-2026-09-30"):
        resolve_as_of(silver.table, day0)
    assert resolve_as_of(silver.table, DAY3).snapshot_id == ids["day1"]


def test_tags_survive_expiry_of_untagged_parents(silver: SilverWriter, engine: LocalEngine) -> None:
    """Maintenance expires untagged snapshots; older tags must still resolve."""
    ids = _three_days_and_a_late_reload(silver)
    compaction = silver.compact()
    day4 = silver.load(DAY3 + timedelta(1), {ANN: 130, BO: 220})
    # day 2's first load (its tag moved) and the compaction are untagged: expire them
    silver.expire([ids["day2"], compaction])
    history = main_history(silver.table)
    assert history.ancestor_ids == {day4}  # the walk from main stops at the expired parent

    assert resolve_as_of(silver.table, DAY3).snapshot_id == ids["day3"]
    assert resolve_as_of(silver.table, DAY1).snapshot_id == ids["day1"]
    assert _rows(engine, DAY1) == [("a1", DAY1, 100), ("b2", DAY1, 200)]


def test_load_snapshots_lists_load_commits(silver: SilverWriter) -> None:
    ids = _three_days_and_a_late_reload(silver)
    silver.compact()

    loads = load_snapshots(silver.table)

    assert [(s.snapshot_id, s.snapshot_date, s.run_id, s.tag) for s in loads] == [
        (ids["day1"], DAY1, "r1", tag_name(DAY1)),
        (ids["day2"], DAY2, "r2", None),  # its tag moved to the re-load
        (ids["day3"], DAY3, "r3", tag_name(DAY3)),
        (ids["day2_reload"], DAY2, "r2b", tag_name(DAY2)),
    ]
    assert [s.rows for s in loads] == [2, 4, 6, 6]
    assert [s.operation for s in loads] == ["append", "append", "append", "overwrite"]
    assert all(s.in_main_history for s in loads)
    assert all(s.committed_at.tzinfo is not None for s in loads)
    assert [t.day for t in load_tags(silver.table)] == [DAY1, DAY2, DAY3]


def _snapshots_cli(home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--home", str(home), "snapshots", "--format", "json"])
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def test_snapshots_without_a_catalog_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "empty"
    home.mkdir()

    code, out, err = _snapshots_cli(home, capsys)

    assert code == 1
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "spotify-lakehouse run --date D" in err
    assert "NoSuchTableError" not in err
    assert not LakehousePaths.resolve(home).catalog_db.exists()  # no empty catalog left behind


def test_snapshots_without_the_table_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = LakehousePaths.resolve(tmp_path / "no-table").ensure()
    local_catalog(paths)  # a catalog without silver (e.g. only bronze was ingested)

    code, _, err = _snapshots_cli(paths.home, capsys)

    assert code == 1
    assert len(err.splitlines()) == 1
    assert "spotify-lakehouse run --date D" in err
    assert "NoSuchTableError" not in err


def test_snapshots_lists_the_loads(
    silver: SilverWriter, home: LakehousePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _three_days_and_a_late_reload(silver)
    main(["--home", str(home.home), "snapshots", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert [(r["snapshot_id"], r["tag"]) for r in rows] == [
        (ids["day1"], tag_name(DAY1)),
        (ids["day2"], None),
        (ids["day3"], tag_name(DAY3)),
        (ids["day2_reload"], tag_name(DAY2)),
    ]
