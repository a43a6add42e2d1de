"""Operators' day two (issue 9): each dead end reproduced through the real CLI, then the way
out. Items: a corrupted ``_manifest.json`` (1), a deleted catalog (2), raw exceptions (3),
read-only homes (4).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from catalog.bronze.layout import manifest_key, unreadable_manifest_key
from tests.cli._run import CLI, Outcome, clean_env, reason, run_cli, run_main, succeeded
from tests.cli.conftest import LoadedHome, utc_today

GARBAGE = b'{"run_id": "20261101T000000Z-abcdef", "parts": [ truncated by a disk fault'


def copy_home(loaded: LoadedHome, into: Path) -> Path:
    """A copy of the shared loaded home that a test may damage."""
    home = into / "home"
    shutil.copytree(loaded.require(), home, symlinks=True)
    return home


# 1. A corrupted manifest --------------------------------------------------------------------


def test_forced_ingest_replaces_an_unreadable_manifest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    day = (utc_today() - timedelta(days=1)).isoformat()
    succeeded(run_cli(["--home", str(home), "ingest", "--simulator", "--date", day], cwd=tmp_path))
    manifest = home / "bronze" / manifest_key(utc_today() - timedelta(days=1))
    manifest.write_bytes(GARBAGE)

    # transform names --force; before the fix, ingest --force failed on the same manifest.
    reason(
        run_cli(["--home", str(home), "transform", "--date", day], cwd=tmp_path),
        1,
        "--force",
    )
    reason(
        run_cli(["--home", str(home), "ingest", "--simulator", "--date", day], cwd=tmp_path),
        1,
        "unreadable",
        "--force",
    )
    forced = run_cli(
        ["--home", str(home), "ingest", "--simulator", "--force", "--date", day], cwd=tmp_path
    )
    succeeded(forced, "20 artists")
    kept = home / "bronze" / unreadable_manifest_key(utc_today() - timedelta(days=1), GARBAGE)
    assert kept.read_bytes() == GARBAGE  # the old bytes beside it, never deleted
    assert json.loads(manifest.read_bytes())["record_count"] == 20

    # run --force takes the same way out, then loads the day.
    manifest.write_bytes(GARBAGE + b" again")
    ran = run_cli(
        ["--home", str(home), "run", "--simulator", "--force", "--date", day], cwd=tmp_path
    )
    succeeded(ran, "20 inserted")
    kept_again = unreadable_manifest_key(utc_today() - timedelta(days=1), GARBAGE + b" again")
    assert (home / "bronze" / kept_again).read_bytes() == GARBAGE + b" again"
    assert kept.read_bytes() == GARBAGE


# 2. A deleted catalog -----------------------------------------------------------------------


def test_a_deleted_catalog_is_detected_refused_and_repaired(
    loaded_home: LoadedHome, tmp_path: Path
) -> None:
    home = copy_home(loaded_home, tmp_path)
    before = run_cli(["--home", str(home), "snapshots", "--format", "json"], cwd=tmp_path)
    succeeded(before)
    for path in home.glob("catalog.db*"):
        path.unlink()

    def cli(*argv: str) -> Outcome:
        return run_cli(["--home", str(home), *argv], cwd=tmp_path)

    # doctor no longer says all is fine; writers refuse instead of starting a new history.
    doctor = cli("doctor", "--simulator", "--format", "json")
    reason(doctor, 1, "catalog", "repair-catalog")
    assert not (home / "catalog.db").exists()
    reason(cli("transform", "--date", loaded_home.last.isoformat()), 1, "repair-catalog")
    reason(cli("maintain", "--no-compact"), 1, "repair-catalog")
    reason(cli("views", "deploy"), 1, "repair-catalog")
    for read in (["snapshots"], ["quality"], ["query", "SELECT * FROM Spotify_Gold_View"]):
        reason(cli(*read), 1, "repair-catalog", "spotify.artists_silver")
    assert not (home / "catalog.db").exists()

    repaired = cli("repair-catalog", "--format", "json")
    succeeded(repaired)
    tables = {row["table"]: row for row in json.loads(repaired.out)}
    assert {"spotify.artists_silver", "spotify.artists_quarantine", "spotify.dq_results"} <= set(
        tables
    )
    assert tables["spotify.artists_silver"]["tags"] == 2

    after = cli("snapshots", "--format", "json")
    succeeded(after)
    assert json.loads(after.out) == json.loads(before.out)  # history, tags, snapshots intact
    as_of = cli(
        "query",
        "SELECT count(*) AS n FROM Spotify_Gold_View",
        "--as-of",
        loaded_home.first.isoformat(),
        "--format",
        "json",
    )
    succeeded(as_of)
    assert json.loads(as_of.out) == [{"n": 20}]
    succeeded(cli("repair-catalog"), "knows every table")  # a second run changes nothing
    succeeded(cli("doctor", "--simulator", "--format", "json"))


# 3. Raw exceptions --------------------------------------------------------------------------


def test_home_naming_a_file_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("not a home\n")
    for command in (["quality"], ["snapshots"], ["maintain"], ["repair-catalog"]):
        outcome = run_main(["--home", str(afile), *command], monkeypatch, capsys)
        reason(outcome, 2, "is a file", "pass a directory")


@pytest.mark.parametrize(
    ("command", "expect"),
    [
        (["maintain", "--no-compact"], "no lakehouse at"),
        (["repair-catalog"], "no lakehouse at"),
        (["quality"], "no lakehouse at"),
        (["snapshots"], "nothing has been loaded"),
        (["query", "SELECT * FROM Spotify_Gold_View"], "--home"),
    ],
)
def test_read_commands_never_create_a_missing_home(
    tmp_path: Path, command: list[str], expect: str
) -> None:
    typo = tmp_path / "lakehuose"
    reason(run_cli(["--home", str(typo), *command], cwd=tmp_path), 1, expect, "--home")
    assert not typo.exists()


def malform(db: Path) -> None:
    """Keep SQLite's header page, overwrite the rest: 'database disk image is malformed'."""
    body = bytearray(db.read_bytes())
    page = int.from_bytes(body[16:18], "big") or 65536
    body[page + 100 :] = b"\x5a" * (len(body) - page - 100)
    db.write_bytes(bytes(body))
    with pytest.raises(sqlite3.DatabaseError, match="malformed"), closing(sqlite3.connect(db)) as c:
        c.execute("SELECT * FROM iceberg_tables").fetchall()


def test_a_malformed_catalog_is_one_line_with_the_way_out(
    loaded_home: LoadedHome, tmp_path: Path
) -> None:
    home = copy_home(loaded_home, tmp_path)
    for path in home.glob("catalog.db-*"):
        path.unlink()
    malform(home / "catalog.db")
    for command in (
        ["quality"],
        ["snapshots"],
        ["query", "SELECT count(*) FROM spotify.artists_silver"],
        ["transform", "--date", loaded_home.last.isoformat()],
        ["repair-catalog"],
    ):
        outcome = run_cli(["--home", str(home), *command], cwd=tmp_path)
        reason(outcome, 1, "malformed", "repair-catalog", "backup")
        assert "DatabaseError" not in outcome.err


def test_athena_without_aws_settings_names_the_setting(tmp_path: Path) -> None:
    outcome = run_cli(["query", "SELECT 1", "--engine", "athena"], cwd=tmp_path)
    reason(outcome, 1, "AWS_REGION", "local engine")
    assert "NoRegionError" not in outcome.err


def test_a_load_killed_after_its_checks_is_not_a_success(
    loaded_home: LoadedHome, tmp_path: Path
) -> None:
    """The job records the day's checks, then MERGEs: killed in between, the checks passed
    but silver never got the day. Reproduced by putting silver back to its empty first
    metadata (the state such a kill leaves for a first load)."""
    home = copy_home(loaded_home, tmp_path)
    with closing(sqlite3.connect(home / "catalog.db")) as db:
        metadata = sorted(
            (home / "warehouse" / "spotify" / "artists_silver" / "metadata").glob(
                "00000-*.metadata.json"
            )
        )
        db.execute(
            "UPDATE iceberg_tables SET metadata_location = ? WHERE table_name = 'artists_silver'",
            (metadata[0].as_uri(),),
        )
        db.commit()
    outcome = run_cli(["--home", str(home), "quality", "--format", "json"], cwd=tmp_path)
    succeeded(outcome)
    rows = json.loads(outcome.out)
    assert len(rows) == 2
    for row in rows:
        assert row["success"] is False, row
        assert "load_not_committed" in row["failed_expectations"]
    # The untouched home still lists both days as passed.
    intact = run_cli(["--home", str(loaded_home.home), "quality", "--format", "json"], cwd=tmp_path)
    assert [r["success"] for r in json.loads(intact.out)] == [True, True]


# 4. Read-only homes -------------------------------------------------------------------------


def _can_mount_read_only(probe: Path) -> bool:
    """Whether this process may make a read-only bind mount in a mount namespace of its own
    (root in most containers): the closest thing to a read-only disk a test can make."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    done = subprocess.run(
        [
            unshare,
            "-m",
            "/bin/sh",
            "-c",
            f"mount --bind {probe} {probe} && mount -o remount,bind,ro {probe}",
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def read_only_home(loaded_home: LoadedHome, tmp_path: Path) -> Iterator[Path]:
    home = copy_home(loaded_home, tmp_path)
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    yield home
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def run_read_only(home: Path, argv: list[str], cwd: Path) -> Outcome:
    """The CLI on ``home`` as a user who cannot write it: as that user when not root (the
    modes are enforced), as root on a read-only bind mount of it otherwise."""
    if os.geteuid() != 0:
        return run_cli(["--home", str(home), *argv], cwd=cwd)
    script = (
        f'mount --bind "{home}" "{home}" && mount -o remount,bind,ro "{home}" && '
        f'exec "{CLI}" --home "{home}" "$@"'
    )
    done = subprocess.run(
        [shutil.which("unshare") or "/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh", *argv],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    return Outcome(tuple(argv), done.returncode, done.stdout.decode(), done.stderr.decode(), 0.0)


def test_read_commands_work_on_a_home_this_user_cannot_write(
    read_only_home: Path, loaded_home: LoadedHome, tmp_path: Path
) -> None:
    if os.geteuid() == 0 and not _can_mount_read_only(tmp_path):
        pytest.skip("root ignores file modes and cannot make a read-only mount here")
    listing = sorted(str(p) for p in read_only_home.rglob("*"))
    snapshots = run_read_only(read_only_home, ["snapshots", "--format", "json"], tmp_path)
    succeeded(snapshots)
    assert len(json.loads(snapshots.out)) == 2
    quality = run_read_only(read_only_home, ["quality", "--format", "json"], tmp_path)
    succeeded(quality)
    assert [r["success"] for r in json.loads(quality.out)] == [True, True]
    query = run_read_only(
        read_only_home,
        ["query", "SELECT count(*) AS n FROM Spotify_Gold_View", "--format", "json"],
        tmp_path,
    )
    succeeded(query)
    assert json.loads(query.out) == [{"n": 40}]
    out = tmp_path / "elsewhere" / "chart.png"
    out.parent.mkdir()
    chart = run_read_only(read_only_home, ["chart", "--out", str(out), "--days", "2"], tmp_path)
    succeeded(chart, "chart.png")
    assert out.stat().st_size > 0
    history = run_read_only(read_only_home, ["runs", "--format", "json"], tmp_path)
    succeeded(history)
    recorded = json.loads(history.out)
    assert {"run", "backfill"} <= {r["kind"] for r in recorded}  # the home's two builders
    assert {r["status"] for r in recorded} == {"succeeded"}
    gaps = run_read_only(read_only_home, ["gaps", "--format", "json"], tmp_path)
    succeeded(gaps)
    assert {g["kind"] for g in json.loads(gaps.out)} <= {"no_bronze"}  # at most today's
    page_dir = tmp_path / "elsewhere" / "dashboard"
    page = run_read_only(read_only_home, ["dashboard", "--out", str(page_dir)], tmp_path)
    succeeded(page, "index.html")
    assert (page_dir / "index.html").stat().st_size > 0
    assert sorted(str(p) for p in read_only_home.rglob("*")) == listing  # nothing written
