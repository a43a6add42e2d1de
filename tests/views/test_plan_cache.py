"""The on-disk plan cache of local queries (views.plan_cache): fast, and never wrong.

A cached plan is keyed by the table's metadata file, so these tests pin that a commit is
always seen, that a damaged or foreign cache file is never trusted, that a cached query
plans nothing with pyiceberg (in a fresh process too), that ``--as-of`` from the cache
follows the time-travel rule exactly, and that a home this user cannot write still gets
a cache (in the user's cache folder) without anything written under it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import views.local
import views.scan
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_SILVER
from catalog.iceberg.timetravel import NoSnapshotAsOfError, resolve_as_of
from catalog.paths import LakehousePaths
from tests.views.conftest import Artist, SilverWriter
from views import plan_cache
from views.local import LocalEngine
from views.sqlfiles import load_sql

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
A, B = Artist("a" * 22, "Alpha"), Artist("b" * 22, "Bravo")
COUNT_BY_DAY = "SELECT snapshot_date, count(*) AS n FROM artists_silver GROUP BY 1 ORDER BY 1"


def _entries(paths: LakehousePaths) -> list[Path]:
    return sorted((paths.home / plan_cache.HOME_CACHE_DIR).glob("[0-9a-f]*.json"))


def _no_pyiceberg_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every pyiceberg step of the read path fail: a cached query must not need one.

    The process's own memory of entries is dropped first, so the plan comes from disk, as
    in a new process.
    """
    views.local._ENTRIES.clear()

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("pyiceberg was asked to plan a query whose plan is cached")

    monkeypatch.setattr(views.local.LocalEngine, "_load", refuse)
    monkeypatch.setattr(views.local, "table_entry", refuse)
    monkeypatch.setattr(views.scan, "snapshot_files", refuse)


def test_a_new_commit_is_never_answered_from_an_older_plan(
    home: LakehousePaths, silver: SilverWriter
) -> None:
    silver.load(D1, {A: 10, B: 20})
    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2),)
    assert len(_entries(home)) == 1

    silver.load(D2, {A: 11})  # a new metadata file: the next query must see D2

    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2), (D2, 1))
    assert len(_entries(home)) == 2
    silver.load(D2, {A: 12, B: 21})  # a re-load of D2 (overwrite): new files, new plan
    result = LocalEngine(home).execute("SELECT sum(followers) AS s FROM artists_silver")
    assert result.rows == ((10 + 20 + 12 + 21,),)


def test_a_cached_query_plans_nothing_with_pyiceberg(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    silver.load(D1, {A: 10, B: 20})
    silver.load(D2, {A: 11, B: 22})
    first = LocalEngine(home).execute(load_sql("avg_daily_followers_gained"), as_of=D2)
    filtered = LocalEngine(home).execute(
        "SELECT count(*) FROM artists_silver WHERE snapshot_date = DATE '2026-03-02'"
    )

    _no_pyiceberg_planning(monkeypatch)

    again = LocalEngine(home).execute(load_sql("avg_daily_followers_gained"), as_of=D2)
    assert again.rows == first.rows
    assert again.reads[0].as_of is not None
    assert again.reads[0].as_of.tag_date == D2
    assert (
        LocalEngine(home)
        .execute("SELECT count(*) FROM artists_silver WHERE snapshot_date = DATE '2026-03-02'")
        .rows
        == filtered.rows
        == ((2,),)
    )


def test_a_plan_warmed_after_a_load_serves_the_first_query(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    silver.load(D1, {A: 10, B: 20})
    silver.load(D2, {A: 11})
    views.scan.warm_plan(home, local_catalog(home).load_table(ARTISTS_SILVER.identifier))

    _no_pyiceberg_planning(monkeypatch)

    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2), (D2, 1))
    as_of = LocalEngine(home).execute(COUNT_BY_DAY, as_of=D2)  # D2's tag: the current snapshot
    assert as_of.rows == ((D1, 2), (D2, 1))


def test_cached_files_are_pruned_by_the_querys_predicates(
    home: LakehousePaths, silver: SilverWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    silver.load(D1, {A: 10})
    silver.load(D2, {A: 11})
    silver.load(D3, {A: 12})
    LocalEngine(home).execute(COUNT_BY_DAY)  # the plans of both snapshots read, cached
    LocalEngine(home).execute(COUNT_BY_DAY, as_of=D1)
    reads: list[views.scan.PlannedRead] = []
    original = views.scan.plan_read

    def spy(*args: Any, **kwargs: Any) -> views.scan.PlannedRead:
        read = original(*args, **kwargs)
        reads.append(read)
        return read

    monkeypatch.setattr(views.local, "plan_read", spy)
    _no_pyiceberg_planning(monkeypatch)

    result = LocalEngine(home).execute(
        "SELECT count(*) FROM artists_silver WHERE snapshot_date >= DATE '2026-03-02'"
    )
    assert result.rows == ((2,),)
    assert len(reads[0].files) == 2  # the file of D1 is never opened
    as_of = LocalEngine(home).execute(COUNT_BY_DAY, as_of=D1)
    assert as_of.rows == ((D1, 1),)
    assert len(reads[1].files) == 1


@pytest.mark.parametrize("damage", ["truncated", "garbage", "tampered", "other key"])
def test_a_damaged_cache_file_is_never_trusted_and_is_rewritten(
    home: LakehousePaths, silver: SilverWriter, damage: str
) -> None:
    silver.load(D1, {A: 10, B: 20})
    LocalEngine(home).execute(COUNT_BY_DAY)
    views.local._ENTRIES.clear()  # as in a new process: the entry must come from disk
    (entry,) = _entries(home)
    text = entry.read_text()
    if damage == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "tampered":  # valid JSON that names no file: a trusted copy reads 0 rows
        document = json.loads(text)
        for files in document["payload"]["snapshots"].values():
            files.clear()
        entry.write_text(json.dumps(document))
    else:  # a whole valid entry, but for another metadata file
        document = json.loads(text)
        document["payload"]["metadata_location"] += ".old"
        document["sha256"] = plan_cache._checksum(document["payload"])
        entry.write_text(json.dumps(document))

    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2),)
    repaired = json.loads(entry.read_text())
    assert repaired["sha256"] == plan_cache._checksum(repaired["payload"])
    assert any(repaired["payload"]["snapshots"].values())


def test_as_of_from_the_cache_follows_the_time_travel_rule(
    home: LakehousePaths, silver: SilverWriter
) -> None:
    s1 = silver.load(D1, {A: 10})
    silver.load(D2, {A: 11})
    silver.load(D3, {A: 12})
    silver.rollback_to(s1)  # D2 and D3 leave main's history: their tags no longer count
    silver.load(D3, {A: 13})
    table = local_catalog(home).load_table(ARTISTS_SILVER.identifier)
    entry = views.scan.table_entry(table)

    for day in (D1, D2, D3, date(2026, 3, 9)):
        expected = resolve_as_of(table, day)
        assert entry.as_of(day) == (expected.tag_date, expected.snapshot_id), day
    with pytest.raises(NoSnapshotAsOfError):
        resolve_as_of(table, date(2026, 2, 1))
    assert entry.as_of(date(2026, 2, 1)) is None
    LocalEngine(home).execute(COUNT_BY_DAY)  # cached now: the error must still come
    with pytest.raises(NoSnapshotAsOfError):
        LocalEngine(home).execute(COUNT_BY_DAY, as_of=date(2026, 2, 1))
    assert LocalEngine(home).execute(COUNT_BY_DAY, as_of=D2).rows == ((D1, 1),)


def test_a_home_this_user_cannot_write_caches_in_the_users_folder(
    home: LakehousePaths,
    silver: SilverWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    silver.load(D1, {A: 10, B: 20})
    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv(plan_cache.USER_CACHE_ENV, str(user_cache))
    real_access = os.access

    def read_only_home(path: Any, mode: int, **kwargs: Any) -> bool:
        inside = Path(path).resolve().is_relative_to(home.home)
        return False if inside and mode & os.W_OK else real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", read_only_home)

    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2),)
    assert not (home.home / "cache").exists()
    assert len(list(user_cache.rglob("[0-9a-f]*.json"))) == 1
    _no_pyiceberg_planning(monkeypatch)
    assert LocalEngine(home).execute(COUNT_BY_DAY).rows == ((D1, 2),)


def test_a_cached_query_process_loads_no_pyiceberg_reader(
    home: LakehousePaths, silver: SilverWriter
) -> None:
    """In a fresh process, as the CLI runs: with its plan cached, a query imports no
    pyiceberg module at all (so it parses no metadata file and reads no manifest), and
    with its outline and translations remembered no sqlglot module and no pydantic (so it
    parses no SQL), and no pyarrow (its columns are plain types, fetched as rows); the first
    query, which had none of them yet, used both."""
    silver.load(D1, {A: 10, B: 20})
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["spotify-lakehouse", "--home", {str(home.home)!r}, "query",
                    "top_5_most_followed_today", "--format", "json"]
        from infra.cli.main import main
        try:
            main()
        except SystemExit as e:
            assert not e.code, e.code
        added = sorted(m for m in sys.modules if m.startswith("pyiceberg"))
        print("ADDED", ",".join(added), file=sys.stderr)
        unneeded = ("sqlglot", "pydantic", "pyarrow")
        parsing = sorted(m for m in sys.modules if m.split(".")[0] in unneeded)
        print("PARSING", ",".join(parsing), file=sys.stderr)
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    run = [sys.executable, "-c", script]
    first = subprocess.run(run, capture_output=True, text=True, env=environment, check=False)
    assert first.returncode == 0, first.stderr
    assert "pyiceberg.catalog.noop" in first.stderr  # the first one planned with pyiceberg
    assert "sqlglot.optimizer.scope" in first.stderr  # ... and parsed the query
    second = subprocess.run(run, capture_output=True, text=True, env=environment, check=False)
    assert second.returncode == 0, second.stderr
    assert "ADDED \n" in second.stderr, second.stderr
    assert second.stderr.rstrip().endswith("PARSING"), second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
