"""The commands that change silver leave the query plan of its new snapshot cached.

A ``query`` that finds its plan (:mod:`views.plan_cache`, keyed by the metadata file the
catalog points at) imports no pyiceberg; :mod:`infra.local.plans` writes that plan at the end
of a load and of ``delete-day``, so the first query after them is a cached one. Checked here
through the real CLI: after each command, the entry for silver's *current* metadata file is
on disk and lists the snapshot's files, and a query answers from it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from catalog.bronze.local import LocalBronzeStore
from catalog.paths import LakehousePaths
from tests.bronze_days import artist, write_day
from tests.cli._run import run_cli, succeeded
from tests.cli.conftest import utc_today
from views import plan_cache
from views.tables import ReadOnlyCatalog


def _current_entry(home: Path) -> plan_cache.TableEntry | None:
    paths = LakehousePaths(home)
    location = ReadOnlyCatalog(paths).metadata_location("artists_silver")
    assert location is not None
    return plan_cache.load(paths, location)


def test_load_and_delete_day_leave_the_current_plan_cached(tmp_path: Path) -> None:
    home = tmp_path / "home"
    last = utc_today() - timedelta(days=1)
    days = (last - timedelta(days=1), last)
    store = LocalBronzeStore(home / "bronze")
    for day in days:
        write_day(store, day, [[artist(i, followers=1_000 * i + day.day) for i in (1, 2)]])

    def cli(*argv: str) -> str:
        outcome = run_cli(["--home", str(home), *argv], cwd=tmp_path)
        succeeded(outcome)
        return outcome.out

    assert not (home / "cache").exists()
    cli("backfill", "--start", days[0].isoformat(), "--end", last.isoformat())
    after_load = _current_entry(home)
    assert after_load is not None, "the backfill left no plan for silver's current snapshot"
    assert after_load.current_snapshot_id in after_load.snapshots
    assert after_load.snapshots[after_load.current_snapshot_id]  # the snapshot's data files

    cli("delete-day", "--date", last.isoformat(), "--artist", artist(2)["id"], "--reason", "t")
    after_delete = _current_entry(home)
    assert after_delete is not None, "delete-day left no plan for its new snapshot"
    assert after_delete.metadata_location != after_load.metadata_location
    rows = json.loads(cli("query", "SELECT artist_id FROM artists_silver", "--format", "json"))
    assert sorted(r["artist_id"] for r in rows) == sorted(
        [artist(1)["id"], artist(2)["id"], artist(1)["id"]]
    )
