"""``transform --dry-run`` / ``backfill --dry-run`` through the console script.

The home is built in this process through the pipeline the CLI runs (the simulator over real
HTTP, bronze folders, the SQLite catalog): two days loaded, a third fetched only. Every test
works on a copy of it. "Writes nothing" is checked byte for byte: every file of the home
(``catalog.db`` and its ``-wal``/``-shm`` included) hashed before and after, and each
table's metadata file, snapshots and refs. "Exactly what the load would do" is checked by
running the real load afterwards and comparing: its counts, the rows silver holds after it,
its exit status and reason line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import ARTISTS_SILVER, SILVER_BUSINESS_COLUMNS
from catalog.paths import LakehousePaths
from glue.dry_run import existing_tables
from glue.transform import NOTHING_RECORDED
from infra.local.pipeline import LocalPipeline
from infra.local.spotify import SpotifyFetch
from ingest.roster import Roster, demo_roster
from tests.bronze_days import artist, write_day
from tests.cli._run import Outcome, reason, run_cli, run_main, succeeded
from tests.cli.conftest import utc_today

pytestmark = pytest.mark.timeout(900)

ROSTER = demo_roster(3, seed=3)


def days() -> tuple[date, date, date]:
    """Two loaded days and one fetched only (asked when needed: a run may cross midnight)."""
    last = utc_today() - timedelta(days=1)
    return last - timedelta(days=2), last - timedelta(days=1), last


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, tuple[date, date, date]]]:
    """The home, with a SQLite connection held open on its catalog until the module ends.

    SQLite checkpoints the WAL into ``catalog.db`` and deletes it when the LAST connection
    closes. Once the pipeline has stopped Spark, the last one is a pyiceberg engine nobody
    disposes of, closed whenever the garbage collector reaches it: between the build and a
    test's copy or not, depending on what this process ran before (seen under pytest-xdist,
    where a worker runs other files first). Held open from inside the pipeline's block,
    this connection keeps the WAL (and the un-checkpointed commits in it) on disk.
    """
    root = tmp_path_factory.mktemp("dry-run")
    paths = LakehousePaths.resolve(root / "home")
    d1, d2, d3 = days()
    with LocalPipeline(paths, fetch=SpotifyFetch(simulator=True, roster=ROSTER, seed=3)) as p:
        p.run(d1)
        p.run(d2)
        p.ingest(d3)
        keeper = sqlite3.connect(paths.catalog_db)
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchone()  # joins the WAL
    try:
        yield paths.home, (d1, d2, d3)
    finally:
        keeper.close()


@pytest.fixture
def home(built: tuple[Path, tuple[date, date, date]], tmp_path: Path) -> Path:
    """A copy of the module's home: the loads these tests compare with write to it."""
    copy = tmp_path / "home"
    shutil.copytree(built[0], copy, symlinks=True)
    # Commits not yet checkpointed into catalog.db: a dry run that opened the home's catalog
    # (instead of a copy) would checkpoint them on exit, and the byte comparison would see it.
    assert (copy / "catalog.db-wal").stat().st_size > 0
    return copy


def tree(home: Path) -> dict[str, str]:
    """Every file and folder of the home, files with the hash of their bytes."""
    return {
        str(p.relative_to(home)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        )
        for p in sorted(home.rglob("*"))
    }


@contextmanager
def catalog_of(home: Path) -> Iterator[Catalog]:
    """The home's catalog read from a copy of its SQLite files: opening the home's own
    would checkpoint its WAL into ``catalog.db`` (a reader's close does), and the home must
    keep the bytes a dry run is checked against."""
    with tempfile.TemporaryDirectory() as folder:
        for name in ("catalog.db", "catalog.db-wal"):
            if (home / name).is_file():
                shutil.copyfile(home / name, Path(folder) / name)
        catalog = SqlCatalog(
            CATALOG_NAME,
            uri=f"sqlite:///{Path(folder) / 'catalog.db'}",
            warehouse=(home / "warehouse").as_uri(),
        )
        try:
            yield catalog
        finally:
            catalog.engine.dispose()


def tables_state(home: Path) -> dict[str, Any]:
    """Each table's metadata file, snapshots and refs."""
    with catalog_of(home) as catalog:
        return {
            name: (
                table.metadata_location,
                [s.snapshot_id for s in table.snapshots()],
                {ref: r.snapshot_id for ref, r in table.metadata.refs.items()},
            )
            for name, table in existing_tables(catalog).items()
        }


def silver_day(home: Path, day: date) -> dict[str, dict[str, Any]]:
    with catalog_of(home) as catalog:
        rows = catalog.load_table(ARTISTS_SILVER.identifier).scan().to_arrow().to_pylist()
    return {r["artist_id"]: r for r in rows if r["snapshot_date"] == day}


def dry_run(home: Path, cwd: Path, *argv: str) -> tuple[Outcome, dict[str, str]]:
    """``argv`` with ``--dry-run`` on ``home``, and the home's files after it (which must be
    the files before it, byte for byte, with every table where it was)."""
    state = tables_state(home)
    before = tree(home)
    outcome = run_cli(["--home", str(home), *argv, "--dry-run"], cwd=cwd)
    after = tree(home)
    assert after == before, f"the dry run changed the home\n{outcome.describe()}"
    assert tables_state(home) == state
    return outcome, after


def plans(outcome: Outcome) -> list[dict[str, Any]]:
    succeeded(outcome)
    found: list[dict[str, Any]] = json.loads(outcome.out)
    return found


def changes_of(plan: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(c["artist_id"], c["change"], c["column"], c["old"], c["new"]) for c in plan["changes"]}


def test_a_day_not_loaded_yet_lists_every_good_row_as_an_insert(home: Path, tmp_path: Path) -> None:
    d3 = days()[2].isoformat()
    outcome, _ = dry_run(home, tmp_path, "transform", "--date", d3, "--format", "json")
    [plan] = plans(outcome)
    assert (plan["snapshot_date"], plan["write"], plan["exit_code"]) == (d3, "append", 0)
    assert (plan["inserted"], plan["updated"], plan["deleted"], plan["quarantined"]) == (
        3,
        0,
        0,
        0,
    )

    loaded = run_cli(["--home", str(home), "transform", "--date", d3], cwd=tmp_path)
    succeeded(loaded, f"{d3}: 3 inserted, 0 updated, 0 deleted, 0 quarantined")
    silver = silver_day(home, date.fromisoformat(d3))
    assert set(silver) == set(ROSTER.ids)
    assert changes_of(plan) == {
        (a, "insert", "followers", None, row["followers"]) for a, row in silver.items()
    }


def test_a_changed_reingest_lists_exactly_what_the_merge_then_changes(
    home: Path, tmp_path: Path
) -> None:
    d2 = days()[1]
    # A new bronze run of d2: another seed (other counts), the first artist gone, a new one.
    roster = Roster(demo_roster(4, seed=3).artists[1:], origin="test: one artist swapped")
    fetch = SpotifyFetch(simulator=True, roster=roster, seed=99, force=True)
    with LocalPipeline(LakehousePaths.resolve(home), fetch=fetch) as pipeline:
        pipeline.ingest(d2)
    before = silver_day(home, d2)

    outcome, _ = dry_run(home, tmp_path, "transform", "--date", d2.isoformat(), "--format", "json")
    [plan] = plans(outcome)
    table, _ = dry_run(home, tmp_path, "transform", "--date", d2.isoformat())
    summary = (
        f"{d2}: would insert {plan['inserted']}, update {plan['updated']}, "
        f"delete {plan['deleted']}, quarantine 0 (one MERGE commit"
    )
    succeeded(table, summary, "followers", *(str(c["name"]) for c in plan["changes"]))

    loaded = run_cli(["--home", str(home), "transform", "--date", d2.isoformat()], cwd=tmp_path)
    succeeded(
        loaded,
        f"{d2}: {plan['inserted']} inserted, {plan['updated']} updated, "
        f"{plan['deleted']} deleted, 0 quarantined; snapshot",
    )
    after = silver_day(home, d2)
    happened = {
        (a, "insert", "followers", None, after[a]["followers"])
        for a in after.keys() - before.keys()
    }
    happened |= {
        (a, "delete", "followers", before[a]["followers"], None)
        for a in before.keys() - after.keys()
    }
    happened |= {
        (a, "update", c, before[a][c], after[a][c])
        for a in before.keys() & after.keys()
        for c in SILVER_BUSINESS_COLUMNS
        if before[a][c] != after[a][c]
    }
    assert changes_of(plan) == happened
    assert (plan["inserted"], plan["deleted"]) == (1, 1)
    assert plan["updated"] >= 1  # another seed, other counts
    assert {c[0] for c in happened if c[1] == "update"} <= set(roster.ids)


def test_an_unchanged_rerun_reports_nothing_to_change(home: Path, tmp_path: Path) -> None:
    d1, d2, d3 = days()
    outcome, _ = dry_run(home, tmp_path, "transform", "--date", d1.isoformat())
    succeeded(outcome, f"{d1}: would insert 0, update 0, delete 0, quarantine 0 (nothing to change")
    assert "artist_id" not in outcome.out  # no table of changes

    ranged, _ = dry_run(
        home, tmp_path, "backfill", "--start", str(d1), "--end", str(d3), "--format", "json"
    )
    found = plans(ranged)
    assert [(p["snapshot_date"], p["write"]) for p in found] == [
        (str(d1), "none"),
        (str(d2), "none"),
        (str(d3), "append"),
    ]
    assert [p["changes"] for p in found[:2]] == [[], []]


def _corrupt_part(home: Path, day: date) -> None:
    store = LocalBronzeStore(home / "bronze")
    manifest = store.read_manifest(day)
    assert manifest is not None
    part = home / "bronze" / manifest.parts[0].key
    body = part.read_bytes()
    part.write_bytes(body[:-2] + b" " + body[-2:])


def _no_valid_row(home: Path, day: date) -> None:
    store = LocalBronzeStore(home / "bronze")
    write_day(store, day, [[artist(i, followers=-1) for i in (1, 2)]], run_id="bad", replace=True)


@pytest.mark.parametrize(
    ("case", "damage"),
    [
        ("no-manifest", None),
        ("bronze-checks-fail", _corrupt_part),
        ("no-valid-row", _no_valid_row),
    ],
)
def test_a_refused_day_exits_as_the_load_would_and_writes_nothing(
    home: Path, tmp_path: Path, case: str, damage: Any
) -> None:
    day = utc_today() if case == "no-manifest" else days()[2]
    if damage is not None:
        damage(home, day)
    outcome, _ = dry_run(home, tmp_path, "transform", "--date", day.isoformat())
    loaded = run_cli(["--home", str(home), "transform", "--date", day.isoformat()], cwd=tmp_path)
    assert loaded.code != 0, loaded.describe()
    real = reason(loaded, loaded.code)
    dry = reason(outcome, loaded.code)  # the same exit status
    if case == "no-valid-row":
        report = real.rsplit(" (", 1)[1].rstrip(")")
        assert Path(report).is_file()  # the load wrote its report; the dry run did not
        assert dry == real.replace(report, NOTHING_RECORDED)
    else:
        assert dry == real


def test_a_range_with_a_refused_day_prints_every_day_then_exits_as_the_backfill_would(
    home: Path, tmp_path: Path
) -> None:
    d1 = days()[0]
    today = utc_today()
    argv = ["backfill", "--start", str(d1), "--end", str(today)]
    outcome, _ = dry_run(home, tmp_path, *argv)
    line = reason(outcome, 1, f"the backfill would stop at {today}", "incomplete")
    assert "3 day(s) before it would load" in line
    assert outcome.out.count("would insert") == 3
    assert f"{today}: would be refused (exit 1)" in outcome.out
    loaded = run_cli(["--home", str(home), *argv], cwd=tmp_path)
    # The backfill's progress lines come first on stderr; its reason is the last line.
    assert loaded.code == outcome.code, loaded.describe()
    assert f"stopped at {today}" in loaded.err.splitlines()[-1], loaded.describe()


def test_a_dry_run_works_on_a_home_it_cannot_write(home: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere: a read-only home cannot be made")
    d3 = days()[2].isoformat()
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        outcome, _ = dry_run(home, tmp_path, "transform", "--date", d3)
        succeeded(outcome, f"{d3}: would insert 3")
    finally:
        for path in [home, *home.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            ["backfill", "--start", "2026-11-01", "--end", "2026-11-02", "--simulator"],
            "--simulator",
        ),
        (["transform", "--date", "2026-11-01", "--format", "json"], "--format"),
    ],
)
def test_a_dry_run_that_would_write_or_a_format_without_one_is_bad_usage(
    argv: list[str],
    fragment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = ["--dry-run"] if "--simulator" in argv else []
    outcome = run_main(["--home", str(tmp_path / "h"), *argv, *extra], monkeypatch, capsys)
    reason(outcome, 2, fragment)
    assert not (tmp_path / "h").exists()
