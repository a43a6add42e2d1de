"""``spotify-lakehouse delete-day`` from the outside, as a user runs it.

A home of its own is built by the CLI (bronze days written through the real store, then
``backfill``: first loads are appends, no JVM), then days are taken back through the
console script. Checked: what it prints (table, json), what ``snapshots`` and ``query
--as-of`` say afterwards (as-of the later day byte for byte as before), that bronze is
untouched, that nothing to delete is exit 1 with no commit, and bad usage exit 2.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.bronze.local import LocalBronzeStore
from tests.bronze_days import artist, write_day
from tests.cli._run import Outcome, reason, run_cli, run_main, succeeded
from tests.cli.conftest import utc_today

#: The record of the middle day that fails validation: it goes to the quarantine.
BAD = artist(9, followers=-5)
COUNT_BY_DAY = "SELECT snapshot_date, count(*) AS n FROM artists_silver GROUP BY 1 ORDER BY 1"


@dataclass(frozen=True)
class Home:
    root: Path
    home: Path
    days: tuple[date, date, date]

    def cli(self, *argv: str) -> Outcome:
        return run_cli(["--home", str(self.home), *argv], cwd=self.root)

    def json(self, *argv: str) -> Any:
        outcome = self.cli(*argv, "--format", "json")
        succeeded(outcome)
        return json.loads(outcome.out)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """Three days of three artists; the middle one also quarantined one record."""
    root = tmp_path_factory.mktemp("cli-delete-day")
    home = root / "home"
    last = utc_today() - timedelta(days=1)
    days = (last - timedelta(days=2), last - timedelta(days=1), last)
    store = LocalBronzeStore(home / "bronze")
    for day in days:
        objects = [artist(i, followers=1_000_000 * i + day.day) for i in range(1, 4)]
        write_day(store, day, [objects + ([BAD] if day == days[1] else [])], run_id=f"r{day}")
    built = Home(root, home, days)
    succeeded(built.cli("backfill", "--start", days[0].isoformat(), "--end", last.isoformat()))
    return built


def bronze_digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "bronze").rglob("*"))
        if p.is_file()
    }


def catalog_state(home: Path) -> list[tuple[str, str]]:
    """Each table's current metadata file, as the catalog records it: a commit changes it."""
    with closing(sqlite3.connect(home / "catalog.db")) as conn:
        rows = conn.execute(
            "SELECT table_name, metadata_location FROM iceberg_tables ORDER BY 1"
        ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_delete_day_takes_back_an_artist_then_the_day(loaded: Home) -> None:
    """One sequence on one home (each step depends on the one before)."""
    first, middle, last = (d.isoformat() for d in loaded.days)
    later_before = loaded.json("query", "SELECT * FROM artists_silver", "--as-of", last)
    bronze = bronze_digest(loaded.home)

    # one artist-day: printed as a table, summary line on stderr
    gone = artist(2)["id"]
    outcome = loaded.cli("delete-day", "--date", middle, "--artist", gone, "--reason", "asked")
    succeeded(outcome, gone, "Artist 2", str(2_000_000 + loaded.days[1].day), "moved")
    assert "removed 1 from spotify.artists_silver" in outcome.err
    assert "none from spotify.artists_quarantine (no commit)" in outcome.err
    assert "reason: asked" in outcome.err

    # the rest of the day, as JSON: silver's two rows and the quarantined record
    removed = loaded.json("delete-day", "--date", middle, "--reason", "bad fetch")
    assert sorted((r["table"], r["artist_id"], r["name"], r["followers"]) for r in removed) == [
        ("spotify.artists_quarantine", BAD["id"], "Artist 9", -5),
        ("spotify.artists_silver", artist(1)["id"], "Artist 1", 1_000_000 + loaded.days[1].day),
        ("spotify.artists_silver", artist(3)["id"], "Artist 3", 3_000_000 + loaded.days[1].day),
    ]
    assert {(r["tag"], r["tag_outcome"]) for r in removed} == {(f"snapshot-{middle}", "moved")}
    silver_commit = {r["snapshot_id"] for r in removed if r["table"] == "spotify.artists_silver"}

    # snapshots lists the deletion as a change of the day, carrying the day's tag
    loads = loaded.json("snapshots")
    latest = loads[-1]
    assert {latest["snapshot_id"]} == silver_commit
    assert (latest["snapshot_date"], latest["tag"]) == (middle, f"snapshot-{middle}")
    # "delete" when the day's rows had files of their own; "overwrite" when they shared one
    # (a backfill that crossed a month end compacted the month into one file)
    assert latest["operation"] in {"delete", "overwrite"}
    # as-of the later day: exactly as before; as-of the day: without the day's rows
    assert loaded.json("query", "SELECT * FROM artists_silver", "--as-of", last) == later_before
    assert loaded.json("query", COUNT_BY_DAY, "--as-of", middle) == [
        {"snapshot_date": first, "n": 3}
    ]
    assert loaded.json("query", COUNT_BY_DAY) == [
        {"snapshot_date": first, "n": 3},
        {"snapshot_date": last, "n": 3},
    ]
    assert bronze_digest(loaded.home) == bronze

    # again: nothing left, exit 1 with one line, and no commit on any lakehouse table (the
    # failed run itself is recorded in spotify.pipeline_runs: that is what the table is for)
    state = catalog_state(loaded.home)
    again = loaded.cli("delete-day", "--date", middle, "--reason", "bad fetch")
    reason(again, 1, "nothing to delete", middle, "nothing was committed")
    assert again.out == ""
    after = catalog_state(loaded.home)
    assert [t for t in after if t[0] != "pipeline_runs"] == [
        t for t in state if t[0] != "pipeline_runs"
    ]
    assert dict(after)["pipeline_runs"] != dict(state).get("pipeline_runs")


def test_a_home_that_lost_its_catalog_is_refused(tmp_path: Path) -> None:
    """A writer on a warehouse the catalog does not know would miss the rows it was asked
    to remove: refused with the way out, like every writer."""
    metadata = tmp_path / "home" / "warehouse" / "spotify.db" / "artists_silver" / "metadata"
    metadata.mkdir(parents=True)
    (metadata / "00001-a.metadata.json").write_text("{}")
    outcome = run_cli(
        ["--home", str(tmp_path / "home"), "delete-day", "--date", "2026-11-01", "--reason", "x"],
        cwd=tmp_path,
    )
    reason(outcome, 1, "repair-catalog")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--date", "2026-11-01"], "--reason"),
        (["--date", "2026-11-01", "--reason", "  "], "--reason"),
        (["--reason", "x"], "--date"),
        (["--date", "2026-13-01", "--reason", "x"], "--date"),
        (["--date", "2026-11-01", "--reason", "x", "--artist", "Taylor Swift"], "--artist"),
        (["--date", "2026-11-01", "--reason", "x", "--format", "xml"], "--format"),
    ],
    ids=["no-reason", "blank-reason", "no-date", "bad-date", "artist-name", "bad-format"],
)
def test_bad_usage_is_exit_2_before_anything_is_read(
    argv: list[str],
    fragment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    outcome = run_main(["--home", str(home), "delete-day", *argv], monkeypatch, capsys)
    reason(outcome, 2, fragment)
    assert not home.exists()
