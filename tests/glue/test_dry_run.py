"""The dry run's plan is the load's outcome, computed first, with nothing written.

Each test plans a day (or a range) with :mod:`glue.dry_run` on a real home (bronze written
through the real store, the SQLite catalog, pyiceberg), then runs the real load
(:func:`glue.job.run_local_day`, first loads are appends: no JVM) and compares: counts,
quarantine, refusal reason and exception class. What a MERGE re-load changes is compared
through the CLI in ``tests/cli/test_dry_run.py``.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.layout import part_key
from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, TABLES, ensure_tables
from catalog.paths import LakehousePaths
from expectations.frame import PreviousCount
from expectations.suites import FOLLOWER_CHANGE_WITHIN_BOUND, QualitySettings
from glue.dry_run import (
    NoReports,
    _history_with,
    dry_run_context,
    existing_tables,
    plan_days,
)
from glue.history import read_history
from glue.job import run_local_day
from glue.transform import NOTHING_RECORDED, BronzePartError, NoValidRowsError
from tests.bronze_days import artist, write_day

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
SETTINGS = QualitySettings()  # the 5% day-over-day bound


def no_spark() -> Any:
    raise AssertionError("a first load needs no Spark")


def home(tmp_path: Path) -> tuple[LakehousePaths, LocalBronzeStore]:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    return paths, LocalBronzeStore(paths.bronze)


def followers(day: date, bumps: dict[int, float] | None = None) -> list[Any]:
    """Three artists growing 0.1% a day; ``bumps`` multiplies some of them on ``day``."""
    grown = 1.001 ** (day - D1).days
    return [
        artist(i, followers=int(1_000_000 * i * grown * (bumps or {}).get(i, 1.0)))
        for i in (1, 2, 3)
    ]


def plan(paths: LakehousePaths, store: LocalBronzeStore, days: list[date]) -> list[Any]:
    catalog = local_catalog(paths)
    context = dry_run_context(catalog, SETTINGS)
    return plan_days(store, days, context, existing_tables(catalog))


def files(paths: LakehousePaths) -> dict[str, str]:
    """Every file of the home but the catalog's SQLite files (whose bytes any reader of a
    WAL database changes: the CLI test checks those too, through a private copy), hashed."""
    return {
        str(p.relative_to(paths.home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(paths.home.rglob("*"))
        if p.is_file() and not p.name.startswith("catalog.db")
    }


def catalog_state(paths: LakehousePaths) -> dict[str, Any]:
    """Each table the catalog has: its metadata file, snapshots and refs."""
    found = existing_tables(local_catalog(paths))
    return {
        name: (
            table.metadata_location,
            [s.snapshot_id for s in table.snapshots()],
            sorted(table.metadata.refs),
        )
        for name, table in found.items()
    }


def test_a_range_judges_each_day_against_the_earlier_days_would_be_rows(
    tmp_path: Path,
) -> None:
    paths, store = home(tmp_path)
    write_day(store, D1, [followers(D1)], run_id="run-1")
    write_day(store, D2, [followers(D2, {1: 1.10})], run_id="run-2")  # artist 1: +10%
    before = files(paths)

    first, second = plan(paths, store, [D1, D2])
    assert (first.write, first.inserted, first.failed_expectations) == ("append", 3, ())
    # Judged against D1's would-be rows, as the backfill will judge it after loading D1:
    # artist 1's jump fails the day-over-day bound (a warning: loaded, and flagged).
    assert (second.write, second.inserted, second.quarantined) == ("append", 3, 0)
    assert second.failed_expectations == (FOLLOWER_CHANGE_WITHIN_BOUND,)
    flagged = [c for c in second.changes if FOLLOWER_CHANGE_WITHIN_BOUND in c.detail]
    assert [(c.artist_id, c.change) for c in flagged] == [(f"{1:022d}", "insert")]
    # Alone, D2 would compare with nothing (silver is empty): the carry-forward matters.
    [alone] = plan(paths, store, [D2])
    assert (alone.inserted, alone.failed_expectations) == (3, ())
    assert files(paths) == before
    assert catalog_state(paths) == {}  # no table created, none read as created

    loaded = [run_local_day(no_spark, paths, d, settings=SETTINGS) for d in (D1, D2)]
    assert [
        (r.inserted, r.updated, r.deleted, r.quarantined, tuple(r.quality.failed_expectations))
        for r in loaded
    ] == [
        (p.inserted, p.updated, p.deleted, p.quarantined, p.failed_expectations)
        for p in (first, second)
    ]
    assert files(paths) != before  # the load wrote (the comparison above can fail)


def test_a_reload_plan_names_each_changed_column_old_and_new(tmp_path: Path) -> None:
    paths, store = home(tmp_path)
    write_day(store, D1, [followers(D1)], run_id="run-1")
    run_local_day(no_spark, paths, D1, settings=SETTINGS)
    again = followers(D1)
    again[1] = artist(2, followers=2_000_123, name="Artist Two")  # +0.006%, renamed
    again[2] = artist(4)  # artist 3 gone from the new run, artist 4 new
    write_day(store, D1, [again], run_id="run-1b", replace=True)
    state, before = catalog_state(paths), files(paths)

    [day] = plan(paths, store, [D1])
    two, three, four = (f"{i:022d}" for i in (2, 3, 4))
    assert (day.write, day.inserted, day.updated, day.deleted) == ("merge", 1, 1, 1)
    assert {(c.artist_id, c.change, c.column, c.old, c.new) for c in day.changes} == {
        (four, "insert", "followers", None, 4_000_000),
        (two, "update", "name", "Artist 2", "Artist Two"),
        (two, "update", "followers", 2_000_000, 2_000_123),
        (three, "delete", "followers", 3_000_000, None),
    }
    assert "one MERGE commit" in day.summary()
    assert day.summary().startswith(f"{D1}: would insert 1, update 1, delete 1, quarantine 0")
    assert (catalog_state(paths), files(paths)) == (state, before)


def test_an_unchanged_day_plans_nothing(tmp_path: Path) -> None:
    paths, store = home(tmp_path)
    write_day(store, D1, [followers(D1)], run_id="run-1")
    run_local_day(no_spark, paths, D1, settings=SETTINGS)
    [day] = plan(paths, store, [D1])
    assert (day.write, day.inserted, day.updated, day.deleted, day.changes) == (
        "none",
        0,
        0,
        0,
        (),
    )
    assert "nothing to change, no commit" in day.summary()


def test_a_day_refused_by_its_bronze_checks_gets_the_loads_reason_and_records_nothing(
    tmp_path: Path,
) -> None:
    paths, store = home(tmp_path)
    write_day(store, D1, [followers(D1)], run_id="run-1")
    part = paths.bronze / part_key(D1, "run-1", 0)
    part.write_bytes(part.read_bytes().replace(b"Artist 1", b"Artist X"))
    ensure_tables(local_catalog(paths))
    state, before = catalog_state(paths), files(paths)

    [day] = plan(paths, store, [D1])
    assert isinstance(day.error, BronzePartError)
    assert (day.write, day.exit_code) == ("refused", 1)
    assert (catalog_state(paths), files(paths)) == (state, before)

    with pytest.raises(BronzePartError) as refused:
        run_local_day(no_spark, paths, D1, settings=SETTINGS)
    assert str(refused.value) == day.reason
    assert catalog_state(paths) != state  # the load recorded its refusal; the plan did not


def test_a_day_where_no_row_passes_gets_the_loads_reason_without_a_report(
    tmp_path: Path,
) -> None:
    paths, store = home(tmp_path)
    write_day(store, D1, [followers(D1)], run_id="run-1")
    run_local_day(no_spark, paths, D1, settings=SETTINGS)
    write_day(store, D2, [[artist(i, followers=-1) for i in (1, 2, 3)]], run_id="run-2")
    state, before = catalog_state(paths), files(paths)

    [day] = plan(paths, store, [D2])
    assert isinstance(day.error, NoValidRowsError)
    assert (day.quarantined, day.inserted, day.exit_code) == (3, 0, 1)
    assert day.reason.endswith(f"({NOTHING_RECORDED})")
    assert (catalog_state(paths), files(paths)) == (state, before)

    with pytest.raises(NoValidRowsError) as refused:
        run_local_day(no_spark, paths, D2, settings=SETTINGS)
    report = str(refused.value).rsplit(" (", 1)[1].rstrip(")")
    assert Path(report).is_file()
    assert str(refused.value).replace(report, NOTHING_RECORDED) == day.reason


def test_the_would_be_history_is_silvers_when_nothing_is_carried(tmp_path: Path) -> None:
    paths, store = home(tmp_path)
    for day in (D1, D2):
        write_day(store, day, [followers(day)], run_id=f"run-{day.day}")
        run_local_day(no_spark, paths, day, settings=SETTINGS)
    catalog = local_catalog(paths)
    silver = catalog.load_table(ARTISTS_SILVER.identifier)
    context = dry_run_context(catalog, SETTINGS)
    min_gains = SETTINGS.cross_day.min_gain_history
    assert _history_with(silver, D3, {}, context) == read_history(
        catalog, D3, table=silver, min_gains=min_gains
    )
    # D2 as a re-load would leave it: artist 1 changed, artist 3 deleted (its D1 row counts).
    carried = _history_with(silver, D3, {D2: {f"{1:022d}": 5, f"{2:022d}": None}}, context)
    assert carried.previous == {
        f"{1:022d}": PreviousCount(D2, 5),
        f"{2:022d}": PreviousCount(D1, 2_000_000),
        f"{3:022d}": PreviousCount(D1, 3_000_000),
    }
    assert carried.previous_load is not None
    assert (carried.previous_load.snapshot_date, carried.previous_load.rows) == (D2, 2)


def test_the_dry_runs_report_store_writes_nothing() -> None:
    with pytest.raises(RuntimeError, match="writes no report"):
        NoReports().put("quality/2026-11-01/run.html", b"<html>")


def test_every_table_is_read_never_created(tmp_path: Path) -> None:
    paths, _ = home(tmp_path)
    catalog = local_catalog(paths)
    assert existing_tables(catalog) == {}
    assert existing_tables(None) == {}
    ensure_tables(catalog)
    assert set(existing_tables(catalog)) == set(TABLES)
