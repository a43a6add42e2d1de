"""``spotify.pipeline_runs``: one schema for every engine, appends that fold a record once,
conflicts retried, and the reads ``runs`` and the dashboard make (real SQLite catalog)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.table import Table

from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.run_log import (
    COMMIT_ID_PROPERTY,
    RUN_IDS_PROPERTY,
    RunRecord,
    RunTally,
    append_runs,
    read_runs,
    runs_table,
    status_of,
)
from catalog.iceberg.tables import PIPELINE_RUNS, RUN_STAGES, TABLES, ensure_tables
from catalog.paths import LakehousePaths

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def record(run_id: str, *, kind: str = "transform", minutes: int = 0, **values: Any) -> RunRecord:
    started = T0 + timedelta(minutes=minutes)
    base: dict[str, Any] = {
        "run_id": run_id,
        "kind": kind,
        "snapshot_date": D1,
        "end_date": D1,
        "started_at": started,
        "ended_at": started + timedelta(seconds=5),
        "status": "succeeded",
        "exit_code": 0,
        "engine": "local",
    }
    return RunRecord(**{**base, **values})


@pytest.fixture
def paths(tmp_path: Path) -> LakehousePaths:
    return LakehousePaths.resolve(tmp_path / "home").ensure()


def test_the_record_is_the_tables_schema_column_for_column() -> None:
    """The Lambda's stdlib record and the table definition cannot drift apart."""
    assert RunRecord.columns() == PIPELINE_RUNS.column_names
    assert [f"{s}_seconds" for s in RUN_STAGES] == [
        c for c in PIPELINE_RUNS.column_names if c.endswith("_seconds")
    ]
    assert TABLES["pipeline_runs"] is PIPELINE_RUNS
    required = {f.name for f in PIPELINE_RUNS.schema.fields if f.required}
    assert required == {"run_id", "kind", "started_at", "status", "engine"}


def test_a_record_survives_its_json_and_refuses_what_is_not_one() -> None:
    original = record("r1", rows_inserted=3, merge_seconds=0.25, error=None, snapshot_id=2**62)
    assert RunRecord.from_json(original.to_json()) == original
    body = json.loads(original.to_json())
    assert body["started_at"] == "2026-11-03T06:00:00+00:00"
    assert body["snapshot_date"] == "2026-11-01"
    body["a_later_field"] = 1  # a newer writer's extra key is ignored
    assert RunRecord.from_json(json.dumps(body).encode()) == original
    for bad in (b"[]", b"{", json.dumps({**body, "run_id": None}).encode()):
        with pytest.raises(ValueError, match="not a run record"):
            RunRecord.from_json(bad)


def test_the_tally_adds_days_and_its_stages_add_up_to_the_run() -> None:
    tally = RunTally()
    tally.add_fetch(day=D2, records=20, bronze_run_id="b2", seconds=1.5, api_requests=2)
    tally.add_load(
        day=D2,
        inserted=20,
        updated=0,
        deleted=0,
        quarantined=1,
        snapshot_id=11,
        bronze_run_id="b2",
        timings={"bronze_read": 0.1, "tables": 0.2, "bronze_checks": 0.3, "validation": 0.4,
                 "history": 0.05, "merge": 1.0, "write": 0.9, "record": 0.5},
    )  # fmt: skip
    tally.day(D3)  # reached, then failed: no load
    failed = tally.record(
        run_id="x",
        kind="backfill",
        engine="local",
        started_at=T0,
        ended_at=T0 + timedelta(seconds=10),
        exit_code=3,
        error="no followers\nsecond line",
    )
    assert (failed.snapshot_date, failed.end_date) == (D2, D3)
    assert (failed.status, failed.exit_code, failed.error) == (
        "followers_unavailable",
        3,
        "no followers second line",
    )
    assert (failed.rows_fetched, failed.rows_inserted, failed.rows_quarantined) == (20, 20, 1)
    assert (failed.snapshot_id, failed.bronze_run_id, failed.api_requests) == (11, "b2", 2)
    # history is part of validation; write is part of merge: not counted twice.
    assert failed.read_seconds == pytest.approx(0.3)
    assert failed.validate_seconds == pytest.approx(0.7)
    assert failed.merge_seconds == pytest.approx(1.0)
    assert failed.compact_seconds is None
    stages = [getattr(failed, f"{s}_seconds") or 0.0 for s in RUN_STAGES]
    assert sum(stages) == pytest.approx(10.0)
    assert failed.other_seconds == pytest.approx(10.0 - 1.5 - 0.3 - 0.7 - 1.0 - 0.5)
    assert [status_of(c) for c in (0, 1, 2, 3, 130)] == [
        "succeeded",
        "failed",
        "bad_usage",
        "followers_unavailable",
        "failed",
    ]


def test_appends_are_one_commit_each_and_fold_a_record_once(paths: LakehousePaths) -> None:
    catalog = local_catalog(paths)
    assert runs_table(catalog) is None  # readers never create it
    first = append_runs(catalog, [record("a", minutes=0), record("b", minutes=1, kind="ingest")])
    table = runs_table(catalog)
    assert table is not None
    assert first == table.current_snapshot().snapshot_id
    summary = table.current_snapshot().summary.additional_properties  # type: ignore[union-attr]
    assert summary[RUN_IDS_PROPERTY] == "a,b"
    assert COMMIT_ID_PROPERTY in summary

    # A fold finds "b" again beside a new "c": only "c" is appended, in one commit.
    again = append_runs(
        catalog, [record("b", minutes=1, kind="ingest"), record("c", minutes=2)], skip_known=True
    )
    assert again is not None
    assert append_runs(catalog, [record("c", minutes=2)], skip_known=True) is None
    table = runs_table(catalog)
    assert table is not None
    assert len(table.snapshots()) == 2
    rows = read_runs(table)
    assert [r["run_id"] for r in rows] == ["c", "b", "a"]  # newest first
    assert rows[0]["started_at"] == T0 + timedelta(minutes=2)


def test_reads_filter_by_day_and_keep_the_last(paths: LakehousePaths) -> None:
    catalog = local_catalog(paths)
    append_runs(
        catalog,
        [
            record("one-day", minutes=0, snapshot_date=D2, end_date=D2),
            record("range", minutes=1, kind="backfill", snapshot_date=D1, end_date=D3),
            record("maintain", minutes=2, kind="maintain", snapshot_date=None, end_date=None),
        ],
    )
    table = runs_table(catalog)
    assert table is not None
    assert [r["run_id"] for r in read_runs(table, day=D2)] == ["range", "one-day"]
    assert [r["run_id"] for r in read_runs(table, day=D3)] == ["range"]
    assert [r["run_id"] for r in read_runs(table, last=1)] == ["maintain"]


def test_a_commit_conflict_is_retried_from_the_new_state(
    paths: LakehousePaths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another writer appends between our read and our commit: a real CommitFailedException
    from the catalog, then a redo that keeps both rows."""
    catalog = local_catalog(paths)
    ensure_tables(catalog)
    original = Table.append
    raced: list[str] = []

    def racing_append(self: Table, *args: Any, **kwargs: Any) -> None:
        if not raced and self.name()[-1] == PIPELINE_RUNS.name:
            raced.append("other")
            other = local_catalog(paths)
            append_runs(other, [record("other", minutes=5)])  # commits first
        original(self, *args, **kwargs)

    monkeypatch.setattr(Table, "append", racing_append)
    snapshot = append_runs(catalog, [record("mine", minutes=6)])
    table = runs_table(local_catalog(paths))
    assert table is not None
    assert raced == ["other"]
    # The race was real: pyiceberg's own retry or retry_on_conflict redid the append.
    assert any(t in caplog.text for t in ("concurrent update", "commit conflict")), caplog.text
    assert snapshot == table.current_snapshot().snapshot_id  # type: ignore[union-attr]
    assert sorted(r["run_id"] for r in read_runs(table)) == ["mine", "other"]
