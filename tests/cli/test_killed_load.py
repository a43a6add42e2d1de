"""A transform killed between its checks and silver's commit is never a success in ``quality``
(issue 9, item 7).

The kill is real and exact: the ``transform`` process is started with a ``sitecustomize``
(found first on ``PYTHONPATH``, imported by Python at start-up, nothing in the project reads
it) that makes silver's commit function send SIGKILL to its own process. Then ``quality``
runs as a process of its own on that home.

The job writes a run's quarantine and dq_results rows after silver's commit and tag, so the
killed run leaves none: a first load killed leaves the day without a run, a re-load killed
leaves the run that did load the day (not the killed run's passing checks, nor its
quarantined record).
"""

from __future__ import annotations

import json
import signal
from datetime import date
from pathlib import Path
from typing import Any

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, ARTISTS_SILVER
from catalog.paths import LakehousePaths
from glue.job import run_local_day
from tests.bronze_days import artist, write_day
from tests.cli._run import Outcome, run_cli, succeeded

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)

#: Silver's commits, as :mod:`glue.transform` calls them: a first load's append, a MERGE.
KILL_AT = ("append_day", "merge_day")

SITECUSTOMIZE = """
import os
import signal

import glue.transform


def _killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


for _name in {names!r}:
    setattr(glue.transform, _name, _killed)
"""


def roster(day: date, bump: int = 0) -> list[Any]:
    return [artist(i, followers=1_000_000 * i + day.day * 100 + bump) for i in (1, 2, 3)]


def no_spark() -> Any:
    raise AssertionError("a first load needs no Spark")


def killed_transform(paths: LakehousePaths, day: date, tmp_path: Path) -> Outcome:
    """``transform --date day`` as a process that dies by SIGKILL at silver's commit."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE.format(names=KILL_AT))
    return run_cli(
        ["--home", str(paths.home), "transform", "--date", day.isoformat()],
        cwd=tmp_path,
        env={"PYTHONPATH": str(hook)},
    )


def quality(paths: LakehousePaths, tmp_path: Path) -> dict[date, dict[str, Any]]:
    outcome = run_cli(["--home", str(paths.home), "quality", "--format", "json"], cwd=tmp_path)
    succeeded(outcome)
    return {date.fromisoformat(r["snapshot_date"]): r for r in json.loads(outcome.out)}


def run_ids(paths: LakehousePaths, day: date, identifier: tuple[str, str]) -> set[str]:
    table = local_catalog(paths).load_table(identifier)
    rows = table.scan(row_filter=f"snapshot_date = '{day.isoformat()}'").to_arrow().to_pylist()
    return {r["run_id"] for r in rows}


def silver_run_ids(paths: LakehousePaths, day: date) -> set[str]:
    return run_ids(paths, day, ARTISTS_SILVER.identifier)


def test_a_load_killed_at_silvers_commit_is_not_listed_as_passed(tmp_path: Path) -> None:
    paths = LakehousePaths.resolve(tmp_path / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    write_day(store, D1, [roster(D1)], run_id="run-a")
    run_local_day(no_spark, paths, D1)  # day 1 loaded from run-a, and its checks passed

    # Day 1 re-ingested with other numbers (a MERGE), day 2 for the first time (an append):
    # each transform is killed at silver's commit, after its checks passed.
    bad = artist(9, followers=-5)  # fails followers_in_range: quarantined by run-b
    write_day(store, D1, [[*roster(D1, bump=7), bad]], run_id="run-b", replace=True)
    write_day(store, D2, [roster(D2)], run_id="run-c")
    for day in (D1, D2):
        outcome = killed_transform(paths, day, tmp_path)
        assert outcome.code == -signal.SIGKILL, outcome.describe()

    assert silver_run_ids(paths, D1) == {"run-a"}  # the kill left silver as it was
    assert silver_run_ids(paths, D2) == set()
    assert run_ids(paths, D1, ARTISTS_QUARANTINE.identifier) == set()  # nor its quarantine
    runs = quality(paths, tmp_path)
    # Day 1: the run that loaded it, not the killed run's passing checks.
    assert runs[D1]["run_id"] == "run-a", runs[D1]
    assert runs[D1]["success"] is True
    # Day 2: nothing loaded it, so nothing says it passed.
    assert D2 not in runs or runs[D2]["success"] is False, runs.get(D2)

    # The same transforms, not killed: both days load and are reported as passed.
    for day in (D1, D2):
        succeeded(
            run_cli(
                ["--home", str(paths.home), "transform", "--date", day.isoformat()], cwd=tmp_path
            )
        )
    runs = quality(paths, tmp_path)
    assert (runs[D1]["run_id"], runs[D1]["quarantined_rows"]) == ("run-b", 1)
    assert "followers_in_range" in runs[D1]["failed_expectations"]
    assert run_ids(paths, D1, ARTISTS_QUARANTINE.identifier) == {"run-b"}
    assert (runs[D2]["run_id"], runs[D2]["success"]) == ("run-c", True)
    assert silver_run_ids(paths, D1) == {"run-b"}
