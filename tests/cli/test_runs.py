"""``spotify-lakehouse runs``: every command that writes leaves its row in
``spotify.pipeline_runs``, with its exit status and reason line, read back by ``runs``,
``query`` and the dashboard. First loads only: no Spark."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER, PIPELINE_RUNS, RUN_STAGES
from catalog.paths import LakehousePaths
from infra.dashboard.data import PIPELINE_RUNS_TABLE, recorded_runs
from tests.bronze_days import artist, write_day
from tests.cli._run import Outcome, reason, run_cli, run_main, succeeded


@dataclass(frozen=True)
class History:
    """A home where ``transform`` loaded one day and failed on the next (no bronze)."""

    root: Path
    home: Path
    loaded: date
    missing: date
    ok: Outcome
    failed: Outcome

    def copy(self, to: Path) -> Path:
        home = to / "home"
        shutil.copytree(self.home, home)
        return home


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("runs")
    home = root / "home"
    today = datetime.now(UTC).date()
    loaded, missing = today - timedelta(days=3), today - timedelta(days=2)
    paths = LakehousePaths.resolve(home).ensure()
    write_day(
        LocalBronzeStore(paths.bronze),
        loaded,
        [[artist(i, followers=1_000 * i) for i in (1, 2, 3)]],
        run_id="bronze-1",
    )
    ok = run_cli(["--home", str(home), "transform", "--date", loaded.isoformat()], cwd=root)
    failed = run_cli(["--home", str(home), "transform", "--date", missing.isoformat()], cwd=root)
    return History(root, home, loaded, missing, ok, failed)


def runs_json(home: Path, cwd: Path, *args: str) -> list[dict[str, Any]]:
    outcome = run_cli(["--home", str(home), "runs", "--format", "json", *args], cwd=cwd)
    succeeded(outcome)
    rows: list[dict[str, Any]] = json.loads(outcome.out)
    return rows


def test_a_load_and_a_failed_load_are_two_rows_with_their_outcomes(history: History) -> None:
    succeeded(history.ok)
    line = reason(history.failed, 1, "incomplete", history.missing.isoformat())
    failed, ok = runs_json(history.home, history.root)  # newest first

    assert set(ok) == set(PIPELINE_RUNS.column_names)
    assert (ok["kind"], ok["status"], ok["exit_code"], ok["engine"]) == (
        "transform",
        "succeeded",
        0,
        "local",
    )
    assert ok["snapshot_date"] == ok["end_date"] == history.loaded.isoformat()
    assert (ok["rows_inserted"], ok["rows_updated"], ok["rows_deleted"]) == (3, 0, 0)
    assert (ok["rows_quarantined"], ok["bronze_run_id"], ok["error"]) == (0, "bronze-1", None)
    silver = local_catalog(LakehousePaths.resolve(history.home)).load_table(
        ARTISTS_SILVER.identifier
    )
    assert ok["snapshot_id"] == silver.current_snapshot().snapshot_id  # type: ignore[union-attr]
    for stage in ("read", "validate", "merge", "record", "other"):
        assert ok[f"{stage}_seconds"] > 0, stage
    assert ok["fetch_seconds"] is None  # a transform fetches nothing
    started = datetime.fromisoformat(ok["started_at"])
    ended = datetime.fromisoformat(ok["ended_at"])
    assert started.utcoffset() == timedelta(0)
    stages = sum(ok[f"{s}_seconds"] or 0.0 for s in RUN_STAGES)
    assert stages == pytest.approx((ended - started).total_seconds(), abs=0.05)
    assert history.ok.seconds >= (ended - started).total_seconds()

    assert (failed["kind"], failed["status"], failed["exit_code"]) == ("transform", "failed", 1)
    assert failed["snapshot_date"] == history.missing.isoformat()
    assert failed["error"] == line.removeprefix("spotify-lakehouse: ")
    assert failed["rows_inserted"] is None
    assert failed["snapshot_id"] is None
    assert failed["started_at"] > ok["ended_at"]


def test_runs_filters_by_day_and_keeps_the_last_n(history: History) -> None:
    [only] = runs_json(history.home, history.root, "--date", history.loaded.isoformat())
    assert only["status"] == "succeeded"
    [latest] = runs_json(history.home, history.root, "--last", "1")
    assert latest["status"] == "failed"
    table = run_cli(["--home", str(history.home), "runs"], cwd=history.root)
    succeeded(table, "transform", "succeeded", "failed", "incomplete")
    as_csv = run_cli(["--home", str(history.home), "runs", "--format", "csv"], cwd=history.root)
    succeeded(as_csv)
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert [r["status"] for r in rows] == ["failed", "succeeded"]
    assert list(rows[0]) == PIPELINE_RUNS.column_names


def test_the_rows_are_queryable_with_sql_and_shown_by_the_dashboard(history: History) -> None:
    outcome = run_cli(
        [
            "--home",
            str(history.home),
            "query",
            "SELECT kind, status, exit_code, rows_inserted FROM spotify.pipeline_runs "
            "ORDER BY started_at",
            "--format",
            "json",
        ],
        cwd=history.root,
    )
    succeeded(outcome)
    assert json.loads(outcome.out) == [
        {"kind": "transform", "status": "succeeded", "exit_code": 0, "rows_inserted": 3},
        {"kind": "transform", "status": "failed", "exit_code": 1, "rows_inserted": None},
    ]
    assert PIPELINE_RUNS.name == PIPELINE_RUNS_TABLE
    shown = recorded_runs(local_catalog(LakehousePaths.resolve(history.home)))
    assert shown is not None
    assert shown.columns == tuple(PIPELINE_RUNS.column_names)
    assert [r["status"] for r in shown.rows] == ["failed", "succeeded"]


def test_bad_usage_and_help_record_nothing_and_delete_day_is_a_run(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    home = history.copy(tmp_path)
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    reason(run_main(["--home", str(home), "transform", "--date", future], monkeypatch, capsys), 2)
    succeeded(run_main(["--home", str(home), "transform", "--help"], monkeypatch, capsys))
    assert len(runs_json(home, tmp_path)) == 2

    deleted = run_cli(
        ["--home", str(home), "delete-day", "--date", history.loaded.isoformat(),
         "--reason", "test", "--format", "json"],
        cwd=tmp_path,
    )  # fmt: skip
    succeeded(deleted)
    nothing = run_cli(
        ["--home", str(home), "delete-day", "--date", history.loaded.isoformat(),
         "--reason", "again"],
        cwd=tmp_path,
    )  # fmt: skip
    reason(nothing, 1)
    again, removal, *_ = runs_json(home, tmp_path)
    assert (removal["kind"], removal["status"], removal["rows_deleted"]) == (
        "delete-day",
        "succeeded",
        3,
    )
    silver = local_catalog(LakehousePaths.resolve(home)).load_table(ARTISTS_SILVER.identifier)
    assert removal["snapshot_id"] == silver.current_snapshot().snapshot_id  # type: ignore[union-attr]
    summary = silver.current_snapshot().summary.additional_properties  # type: ignore[union-attr]
    assert summary["run_id"] == removal["run_id"]  # the row names the commit's run
    assert (again["kind"], again["status"], again["exit_code"]) == ("delete-day", "failed", 1)
    assert again["error"] == nothing.err.strip().removeprefix("spotify-lakehouse: ")


def test_runs_on_a_home_without_history(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = run_cli(["--home", str(home), "runs"], cwd=tmp_path)
    reason(missing, 1, "no lakehouse at")
    home.mkdir()
    empty = run_cli(["--home", str(home), "runs"], cwd=tmp_path)
    succeeded(empty, "no runs recorded")
    assert (
        json.loads(run_cli(["--home", str(home), "runs", "--format", "json"], cwd=tmp_path).out)
        == []
    )
    assert not (home / "catalog.db").exists()  # reading created nothing
