"""The daily load at the MERGE floor (issue 15): a day's first load is an append.

Same contract as a MERGE (one commit with ``snapshot_date``, ``run_id`` and the counts in
its summary, the tag ``snapshot-D`` on it), a fraction of the cost, and no SparkSession;
only a re-load of a day MERGEs. A clean day rewrites no quarantine and records every
dq_results row of every run, each table in one commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.table import Table, Transaction
from pyiceberg.table.snapshots import Snapshot

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, ARTISTS_SILVER, DQ_RESULTS
from catalog.iceberg.tags import tag_name
from catalog.iceberg.writes import commit as real_commit
from expectations.suites import bronze_expectations, silver_expectations
from glue.job import run_local_day
from glue.merge import (
    LOAD_SUMMARY_KEYS,
    SUMMARY_DELETED,
    SUMMARY_INSERTED,
    SUMMARY_LOAD_ID,
    SUMMARY_UPDATED,
    append_day,
)
from glue.transform import prepare_day
from tests.bronze_days import artist, write_day
from tests.conftest import SparkLakehouse

pytestmark = pytest.mark.spark

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def roster(day: date, n: int = 5, bump: int = 0) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.day * 100 + bump) for i in range(1, n + 1)]


def no_spark() -> Any:
    raise AssertionError("a first load, or a re-run that changes nothing, needs no Spark")


def table(lh: SparkLakehouse, identifier: tuple[str, str]) -> Table:
    return local_catalog(lh.paths).load_table(identifier)


def snapshots(lh: SparkLakehouse, identifier: tuple[str, str]) -> list[Snapshot]:
    loaded = table(lh, identifier)
    return sorted(loaded.snapshots(), key=lambda s: s.sequence_number or 0)


def summary(snapshot: Snapshot) -> dict[str, str]:
    assert snapshot.summary is not None
    return dict(snapshot.summary.additional_properties)


def silver_rows(lh: SparkLakehouse) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table(lh, ARTISTS_SILVER.identifier).scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda r: (r["snapshot_date"], r["artist_id"]))


def test_a_first_load_is_an_append_a_reload_a_merge_with_the_same_summary(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)], run_id="run-a")
    first = run_local_day(no_spark, lakehouse.paths, D1)  # no JVM for a first load
    assert (first.write, first.inserted, first.updated, first.deleted) == ("append", 5, 0, 0)

    changed = roster(D1)
    changed[0] = artist(1, followers=42)
    write_day(store, D1, [changed], run_id="run-b", replace=True)
    reload = run_local_day(lakehouse.spark, lakehouse.paths, D1)
    assert (reload.write, reload.inserted, reload.updated, reload.deleted) == ("merge", 0, 1, 0)

    appended, merged = snapshots(lakehouse, ARTISTS_SILVER.identifier)
    assert appended.summary is not None
    assert merged.summary is not None
    assert appended.summary.operation.value == "append"
    assert merged.summary.operation.value == "overwrite"
    assert (appended.snapshot_id, merged.snapshot_id) == (first.snapshot_id, reload.snapshot_id)
    for snapshot, run_id, counts in (
        (appended, "run-a", ("5", "0", "0")),
        (merged, "run-b", ("0", "1", "0")),
    ):
        properties = summary(snapshot)
        assert set(LOAD_SUMMARY_KEYS) <= set(properties)
        assert (properties["snapshot_date"], properties["run_id"]) == ("2026-11-01", run_id)
        assert properties[SUMMARY_LOAD_ID]
        assert (
            properties[SUMMARY_INSERTED],
            properties[SUMMARY_UPDATED],
            properties[SUMMARY_DELETED],
        ) == counts
    refs = table(lakehouse, ARTISTS_SILVER.identifier).metadata.refs
    assert refs[tag_name(D1)].snapshot_id == reload.snapshot_id
    assert first.tag == reload.tag == tag_name(D1)
    assert next(r["followers"] for r in silver_rows(lakehouse)) == 42


def test_each_first_load_is_one_commit_with_its_tag_in_it(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    for day in (D1, D2, D3):
        write_day(store, day, [roster(day)], run_id=f"run-{day.day}")
        result = run_local_day(no_spark, lakehouse.paths, day)
        assert result.write == "append"
    loads = snapshots(lakehouse, ARTISTS_SILVER.identifier)
    assert [summary(s)["snapshot_date"] for s in loads] == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
    ]
    assert all(s.summary is not None and s.summary.operation.value == "append" for s in loads)
    refs = table(lakehouse, ARTISTS_SILVER.identifier).metadata.refs
    assert {d: refs[tag_name(d)].snapshot_id for d in (D1, D2, D3)} == {
        d: s.snapshot_id for d, s in zip((D1, D2, D3), loads, strict=True)
    }
    assert len(silver_rows(lakehouse)) == 15
    # Spark reads what pyiceberg appended, as of each tag too
    spark_count = lakehouse.spark.sql(
        f"SELECT count(*) AS n FROM lakehouse.spotify.artists_silver VERSION AS OF '{tag_name(D2)}'"
    ).first()
    assert spark_count is not None
    assert spark_count["n"] == 10


def test_a_rerun_of_a_first_load_changes_nothing_and_never_duplicates(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(no_spark, lakehouse.paths, D1)
    again = run_local_day(no_spark, lakehouse.paths, D1)  # told "no change" by pyiceberg
    assert (again.committed, again.write) == (False, "none")
    assert len(snapshots(lakehouse, ARTISTS_SILVER.identifier)) == 1
    assert len(silver_rows(lakehouse)) == 5


def test_a_clean_day_records_every_dq_result_and_rewrites_no_quarantine(
    lakehouse: SparkLakehouse,
) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    runs = []
    for day in (D1, D2, D3):
        write_day(store, day, [roster(day)])
        runs.append(run_local_day(no_spark, lakehouse.paths, day))
    runs.append(run_local_day(no_spark, lakehouse.paths, D3))  # an unchanged re-run

    results = table(lakehouse, DQ_RESULTS.identifier)
    rows = results.scan().to_arrow().to_pylist()
    per_run = {len(r.quality.failed_expectations) for r in runs}
    assert per_run == {0}
    by_run: dict[str, int] = {}
    for row in rows:
        by_run[row["validation_id"]] = by_run.get(row["validation_id"], 0) + 1
    assert len(by_run) == 4  # every run, the unchanged re-run included
    every = len(silver_expectations()) + len(bronze_expectations())
    assert set(by_run.values()) == {every}  # every expectation of both suites, each run
    assert all(row["success"] for row in rows)
    # one append per run, its tag in the same commit
    assert len(results.snapshots()) == 4
    assert {tag_name(d) for d in (D1, D2, D3)} <= set(results.metadata.refs)

    quarantine = table(lakehouse, ARTISTS_QUARANTINE.identifier)
    # the first day's empty commit (something for its tag to name), then nothing to rewrite
    assert len(quarantine.snapshots()) == 1
    assert quarantine.scan().to_arrow().num_rows == 0
    assert {tag_name(d) for d in (D1, D2, D3)} <= set(quarantine.metadata.refs)


def test_a_clean_first_load_clears_the_quarantine_of_a_refused_run(
    lakehouse: SparkLakehouse,
) -> None:
    from glue.transform import NoValidRowsError

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [[artist(1, followers=-5), artist(2, name=None)]], run_id="bad")
    with pytest.raises(NoValidRowsError):
        run_local_day(no_spark, lakehouse.paths, D1)
    assert table(lakehouse, ARTISTS_QUARANTINE.identifier).scan().to_arrow().num_rows == 2
    write_day(store, D1, [roster(D1)], run_id="good", replace=True)
    result = run_local_day(no_spark, lakehouse.paths, D1)
    assert (result.write, result.inserted) == ("append", 5)
    assert table(lakehouse, ARTISTS_QUARANTINE.identifier).scan().to_arrow().num_rows == 0


def test_a_reload_deletes_the_artists_its_run_no_longer_has(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)], run_id="run-a")
    run_local_day(no_spark, lakehouse.paths, D1)
    write_day(store, D2, [roster(D2)], run_id="run-2")
    run_local_day(no_spark, lakehouse.paths, D2)
    # The new run of D1 has artists 1-3 (artist 3 now fails validation) and not 4 or 5.
    smaller = [*roster(D1)[:2], artist(3, followers=-1)]
    write_day(store, D1, [smaller], run_id="run-b", replace=True)
    reload = run_local_day(lakehouse.spark, lakehouse.paths, D1)

    assert (reload.write, reload.inserted, reload.updated, reload.deleted) == ("merge", 0, 0, 2)
    day1 = {r["artist_id"]: r for r in silver_rows(lakehouse) if r["snapshot_date"] == D1}
    assert sorted(day1) == sorted(artist(i)["id"] for i in (1, 2, 3))
    assert day1[artist(3)["id"]]["run_id"] == "run-a"  # failed anew: its validated row stays
    assert reload.quarantined == 1
    assert reload.quality.report is not None
    report = Path(reload.quality.report).read_text()
    assert "Kept in silver from an earlier load of this day (1)" in report
    assert artist(3)["id"] in report.split("Kept in silver")[1]
    merged = snapshots(lakehouse, ARTISTS_SILVER.identifier)[-1]
    assert summary(merged)[SUMMARY_DELETED] == "2"
    assert len([r for r in silver_rows(lakehouse) if r["snapshot_date"] == D2]) == 5


def test_a_concurrent_first_load_of_the_same_day_is_never_appended_twice(
    lakehouse: SparkLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer loads D between our check (no row of D) and our commit: the commit
    fails on ``main`` having moved, and the redo sees D's rows and MERGEs (nothing to do)."""
    import glue.transform

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    real_check = glue.transform.day_has_files
    checks: list[bool] = []

    def racing_check(loaded: Table, day: date) -> bool:
        answer = real_check(loaded, day)
        if not checks:  # the other writer commits right after our first look
            other = table(lakehouse, ARTISTS_SILVER.identifier)
            rows = prepare_day(store, D1).rows.rows
            append_day(other, rows, day=D1, run_id="run-1", load_id="other-writer")
        checks.append(answer)
        return answer

    monkeypatch.setattr(glue.transform, "day_has_files", racing_check)
    monkeypatch.setattr(
        glue.transform,
        "retry_on_conflict",
        _fast(glue.transform.retry_on_conflict),
    )
    result = run_local_day(lakehouse.spark, lakehouse.paths, D1)

    assert checks == [False, True]  # looked again after the lost race, and MERGEd
    assert not result.committed  # the other writer's rows are the same
    assert len(silver_rows(lakehouse)) == 5
    [only] = snapshots(lakehouse, ARTISTS_SILVER.identifier)
    assert summary(only)[SUMMARY_LOAD_ID] == "other-writer"
    assert table(lakehouse, ARTISTS_SILVER.identifier).metadata.refs[tag_name(D1)].snapshot_id == (
        only.snapshot_id
    )  # the day's tag, repaired since the other writer set none


def test_an_append_of_unknown_state_that_landed_is_not_redone(
    lakehouse: SparkLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyiceberg.exceptions import CommitStateUnknownException

    import glue.transform

    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    seen: list[str] = []

    def lost_answer(transaction: Transaction) -> None:
        name = transaction._table.name()[-1]
        seen.append(name)
        real_commit(transaction)
        if name == ARTISTS_SILVER.name and seen.count(name) == 1:
            raise CommitStateUnknownException("500: the answer was lost")

    monkeypatch.setattr("catalog.iceberg.writes.commit", lost_answer)
    monkeypatch.setattr(
        glue.transform, "retry_on_conflict", _fast(glue.transform.retry_on_conflict)
    )
    result = run_local_day(no_spark, lakehouse.paths, D1)
    assert (result.write, result.inserted, result.tag) == ("append", 5, tag_name(D1))
    assert seen.count(ARTISTS_SILVER.name) == 1  # found by its load id, not redone
    [only] = snapshots(lakehouse, ARTISTS_SILVER.identifier)
    assert only.snapshot_id == result.snapshot_id
    assert len(silver_rows(lakehouse)) == 5


def test_a_day_that_was_deleted_is_loaded_again_by_an_append(lakehouse: SparkLakehouse) -> None:
    store = LocalBronzeStore(lakehouse.paths.bronze)
    write_day(store, D1, [roster(D1)])
    run_local_day(no_spark, lakehouse.paths, D1)
    lakehouse.spark.sql(
        "DELETE FROM lakehouse.spotify.artists_silver WHERE snapshot_date = DATE '2026-11-01'"
    )
    again = run_local_day(no_spark, lakehouse.paths, D1)
    assert (again.write, again.inserted) == ("append", 5)
    assert len(silver_rows(lakehouse)) == 5


def _fast(retry: Callable[..., Any]) -> Callable[..., Any]:
    import functools

    return functools.partial(retry, wait_multiplier_s=0.001, wait_max_s=0.01)


def test_first_loads_back_to_back_in_one_process(lakehouse: SparkLakehouse) -> None:
    """A month of days, as a backfill loads them: every one an append, no SparkSession."""
    store = LocalBronzeStore(lakehouse.paths.bronze)
    days = [D1 + timedelta(days=n) for n in range(8)]
    for day in days:
        write_day(store, day, [roster(day)])
    results = [run_local_day(no_spark, lakehouse.paths, day) for day in days]
    assert {r.write for r in results} == {"append"}
    assert all(r.repaired_tags == [] for r in results)
    assert len(snapshots(lakehouse, ARTISTS_SILVER.identifier)) == len(days)
    assert {"silver_check", "write", "record", "quarantine", "dq_results"} <= set(
        results[-1].timings
    )
