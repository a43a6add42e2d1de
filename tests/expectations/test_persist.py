"""Recording a run with pyiceberg (no Spark): load tags for time travel, unknown commits.

Every Iceberg table resolves its own ``snapshot-D`` tags (ARCHITECTURE.md, "Time travel by
snapshot date"), so the quarantine and dq_results commits of day D must leave that tag on
their tables, or an ``--as-of`` query touching them has nothing to resolve.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.exceptions import CommitStateUnknownException
from pyiceberg.table import Table, Transaction

from catalog.iceberg.commits import CommitStateUnknownError, retry_on_conflict
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, DQ_RESULTS, ensure_tables
from catalog.iceberg.tags import (
    DEFAULT_TAG_RETENTION_DAYS,
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    tag_name,
    tag_retention_ms,
)
from catalog.iceberg.timetravel import NoSnapshotAsOfError, resolve_as_of
from catalog.iceberg.writes import commit as real_commit
from catalog.paths import LakehousePaths
from expectations.frame import Candidate
from expectations.persist import (
    SUMMARY_VALIDATION_ID,
    append_results,
    latest_runs,
    record_run,
)
from expectations.quarantine import QuarantinedRow
from expectations.results import QualityRun
from expectations.runner import ExpectationOutcome, SuiteOutcome
from expectations.store import LocalReportStore
from views.local import LocalEngine

D1 = date(2026, 11, 1)
D2 = D1 + timedelta(days=1)
D3 = D1 + timedelta(days=2)
#: The UTC day the runs here happen on: it anchors the tag retention.
TODAY = D3


@pytest.fixture
def home(tmp_path: Path) -> LakehousePaths:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    ensure_tables(local_catalog(paths))
    return paths


def quality_run(day: date, *, bad: int = 0, validation_id: str = "", minute: int = 0) -> QualityRun:
    """A run of ``day`` over 3 + ``bad`` rows whose ``bad`` last rows failed name_present."""
    rows = 3 + bad
    failing = tuple(range(3, rows))
    name = ExpectationOutcome(
        "silver", "name_present", "critical", not failing, rows, len(failing), None, failing
    )
    fmt = ExpectationOutcome("silver", "artist_id_format", "critical", True, rows, 0, None)
    late = ExpectationOutcome("silver", "fetch_not_backdated", "warning", bad == 0, 1, 0, True)
    bronze = ExpectationOutcome("bronze", "bronze_part_parses", "critical", True, 1, 0, None)
    quarantined = tuple(
        QuarantinedRow(
            Candidate(i, {"artist_id": f"a{i}"}, {"id": f"a{i}"}, "part-0", "integer"),
            ("name_present",),
        )
        for i in failing
    )
    return QualityRun(
        snapshot_date=day,
        run_id=f"run-{day.isoformat()}",
        validation_id=validation_id or f"v-{day.isoformat()}-{bad}",
        validated_at=datetime(day.year, day.month, day.day, 7, minute, tzinfo=UTC),
        outcomes=(
            SuiteOutcome("bronze", "pandas", (bronze,), 0.01, 1),
            SuiteOutcome("silver", "pandas", (name, fmt, late), 0.02, rows),
        ),
        quarantined=quarantined,
    )


def record(paths: LakehousePaths, run: QualityRun, **kwargs: Any) -> QualityRun:
    kwargs.setdefault("today", TODAY)
    return record_run(local_catalog(paths), run, LocalReportStore(paths.reports), **kwargs)


def table(paths: LakehousePaths, identifier: tuple[str, str]) -> Table:
    return local_catalog(paths).load_table(identifier)


def count(paths: LakehousePaths, sql: str, as_of: date | None = None) -> object:
    [(value,)] = LocalEngine(paths).execute(sql, as_of=as_of).rows
    return value


def test_each_commit_of_a_day_tags_it_on_its_own_table(home: LakehousePaths) -> None:
    record(home, quality_run(D1, bad=2), tag_retention_days=30)
    for identifier in (ARTISTS_QUARANTINE.identifier, DQ_RESULTS.identifier):
        loaded = table(home, identifier)
        ref = loaded.metadata.refs[tag_name(D1)]
        snapshot = loaded.current_snapshot()
        assert snapshot is not None
        assert snapshot.summary is not None
        assert ref.snapshot_id == snapshot.snapshot_id
        assert ref.max_ref_age_ms == tag_retention_ms(30)
        summary = snapshot.summary.additional_properties
        assert summary[SUMMARY_SNAPSHOT_DATE] == "2026-11-01"
        assert summary[SUMMARY_RUN_ID] == "run-2026-11-01"
        assert summary[SUMMARY_VALIDATION_ID] == "v-2026-11-01-2"
        assert resolve_as_of(loaded, D1).snapshot_id == snapshot.snapshot_id


def test_as_of_reads_dq_results_and_quarantine_up_to_the_day(home: LakehousePaths) -> None:
    record(home, quality_run(D1, bad=1))
    record(home, quality_run(D2, bad=2))
    record(home, quality_run(D3, bad=0))
    for identifier in (ARTISTS_QUARANTINE.identifier, DQ_RESULTS.identifier):
        refs = table(home, identifier).metadata.refs
        assert [refs[tag_name(d)].max_ref_age_ms for d in (D1, D2, D3)] == [
            tag_retention_ms(DEFAULT_TAG_RETENTION_DAYS)
        ] * 3

    assert count(home, "SELECT count(*) FROM dq_results", as_of=D1) == 4
    assert count(home, "SELECT count(*) FROM dq_results", as_of=D2) == 8
    assert count(home, "SELECT count(*) FROM dq_results") == 12
    assert count(home, "SELECT max(snapshot_date) FROM dq_results", as_of=D2) == D2
    assert count(home, "SELECT count(*) FROM artists_quarantine", as_of=D1) == 1
    assert count(home, "SELECT count(*) FROM artists_quarantine", as_of=D2) == 3
    # D3 quarantined nothing, so its quarantine is unchanged; the day still has its tag.
    assert count(home, "SELECT count(*) FROM artists_quarantine", as_of=D3) == 3
    with pytest.raises(NoSnapshotAsOfError, match="earliest retained load date is 2026-11-01"):
        LocalEngine(home).execute("SELECT count(*) FROM dq_results", as_of=D1 - timedelta(1))


def test_a_rerun_moves_the_tag_to_the_latest_run(home: LakehousePaths) -> None:
    record(home, quality_run(D1, bad=1))
    record(home, quality_run(D2, bad=0))
    # D1 re-validated after D2 was loaded: the fixed run empties D1's quarantine.
    record(home, quality_run(D1, bad=0, validation_id="v-again", minute=30))

    results = table(home, DQ_RESULTS.identifier)
    head = results.current_snapshot()
    assert head is not None
    assert results.metadata.refs[tag_name(D1)].snapshot_id == head.snapshot_id
    assert count(home, "SELECT count(*) FROM dq_results", as_of=D1) == 8  # both runs of D1
    assert count(home, "SELECT count(*) FROM artists_quarantine", as_of=D1) == 0
    [run] = latest_runs(local_catalog(home), D1)
    assert (run.success, run.quarantined_rows) == (True, 0)


def test_a_clean_day_on_an_empty_quarantine_gets_one_empty_commit_and_a_tag(
    home: LakehousePaths,
) -> None:
    record(home, quality_run(D1))
    quarantine = table(home, ARTISTS_QUARANTINE.identifier)
    [snapshot] = quarantine.snapshots()
    assert snapshot.summary is not None
    assert snapshot.summary.additional_properties[SUMMARY_SNAPSHOT_DATE] == "2026-11-01"
    assert quarantine.metadata.refs[tag_name(D1)].snapshot_id == snapshot.snapshot_id
    assert count(home, "SELECT count(*) FROM artists_quarantine", as_of=D1) == 0

    record(home, quality_run(D1, validation_id="v-rerun"))  # unchanged: leaves no trace
    again = table(home, ARTISTS_QUARANTINE.identifier)
    assert len(again.snapshots()) == 1
    assert again.metadata.refs == quarantine.metadata.refs


def test_a_day_beyond_tag_retention_gets_no_tag_on_either_table(home: LakehousePaths) -> None:
    # the same retention rule as silver's: maintenance would drop these tags, so none is set
    record(home, quality_run(D1), tag_retention_days=1, today=D3)
    quarantine = table(home, ARTISTS_QUARANTINE.identifier)
    assert (quarantine.snapshots(), quarantine.metadata.refs) == ([], {})  # no empty commit
    results = table(home, DQ_RESULTS.identifier)
    assert len(results.snapshots()) == 1  # the results are recorded all the same
    assert tag_name(D1) not in results.metadata.refs
    record(home, quality_run(D2), tag_retention_days=1, today=D3)
    assert tag_name(D2) in table(home, DQ_RESULTS.identifier).metadata.refs


def test_a_day_refused_by_bronze_leaves_the_quarantine_alone(home: LakehousePaths) -> None:
    record(home, quality_run(D1, bad=1))
    before = table(home, ARTISTS_QUARANTINE.identifier).metadata
    record(home, quality_run(D2), judged_rows=False)
    after = table(home, ARTISTS_QUARANTINE.identifier).metadata
    assert (after.snapshots, after.refs) == (before.snapshots, before.refs)
    assert tag_name(D2) in table(home, DQ_RESULTS.identifier).metadata.refs


def test_the_summary_of_a_run_and_of_its_recorded_rows_agree(home: LakehousePaths) -> None:
    run = record(home, quality_run(D1, bad=2))
    summary = run.summary()
    assert summary.failed_expectations == ["name_present", "fetch_not_backdated"]
    assert (summary.success, summary.evaluated_rows, summary.quarantined_rows) == (False, 5, 2)
    assert latest_runs(local_catalog(home)) == [summary]


def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = functools.partial(retry_on_conflict, wait_multiplier_s=0.001, wait_max_s=0.01)
    monkeypatch.setattr("expectations.persist.retry_on_conflict", fast)


@dataclass
class UnknownOnce:
    """Commits (:func:`catalog.iceberg.writes.commit`, where every write of a run reaches
    the catalog) whose first one ends in ``CommitStateUnknownException``.

    ``lands`` says whether that commit reached the table before the error (a lost answer)
    or not (the catalog failed first). Every later commit goes through as it is.
    """

    lands: bool
    always: bool = False
    commits: list[str] = field(default_factory=list)

    def __call__(self, transaction: Transaction) -> None:
        first = not self.commits
        self.commits.append(".".join(transaction._table.name()))
        if self.always:
            raise CommitStateUnknownException("504: Gateway Timeout")
        if first:
            if self.lands:
                real_commit(transaction)
            raise CommitStateUnknownException("500: Internal Server Error")
        real_commit(transaction)


@pytest.mark.parametrize("lands", [True, False])
def test_an_unknown_commit_state_never_appends_the_run_twice(
    home: LakehousePaths, monkeypatch: pytest.MonkeyPatch, lands: bool
) -> None:
    fast_retries(monkeypatch)
    unknown = UnknownOnce(lands=lands)
    monkeypatch.setattr("catalog.iceberg.writes.commit", unknown)
    run = quality_run(D1, bad=1)
    catalog = local_catalog(home)
    snapshot_id = append_results(catalog, run, None, tag_retention_days=10, today=TODAY)

    # Landed: the check finds the run's snapshot and nothing is redone; lost: one redo.
    assert len(unknown.commits) == (1 if lands else 2)
    results = table(home, DQ_RESULTS.identifier)
    rows = results.scan().to_arrow().to_pylist()
    assert len(rows) == len(run.results) == 4
    assert {r["validation_id"] for r in rows} == {run.validation_id}
    assert len(results.snapshots()) == 1
    # the tag is in the append's own commit: landed with it, or redone with it
    assert results.metadata.refs[tag_name(D1)].snapshot_id == snapshot_id
    assert results.metadata.refs[tag_name(D1)].max_ref_age_ms == tag_retention_ms(10)


def test_an_unknown_state_that_never_settles_fails_clearly(
    home: LakehousePaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_retries(monkeypatch)
    unknown = UnknownOnce(lands=False, always=True)
    monkeypatch.setattr("catalog.iceberg.writes.commit", unknown)
    with pytest.raises(CommitStateUnknownError, match="could not say whether") as caught:
        append_results(local_catalog(home), quality_run(D1), None)
    assert isinstance(caught.value.__cause__, CommitStateUnknownException)
    assert len(unknown.commits) == 4  # every attempt looked for the run's snapshot first
    assert table(home, DQ_RESULTS.identifier).snapshots() == []
