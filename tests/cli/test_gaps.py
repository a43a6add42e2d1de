"""``spotify-lakehouse gaps``: every kind of missing day found on a real home, with its fix.

The home is built in this process through the pipeline the CLI runs (simulator over real
HTTP, bronze folders, the SQLite catalog, pyiceberg appends); each damage is what an
operator meets: a day never fetched, a fetch that died before its manifest, a damaged
manifest, a day fetched but never loaded, a day fetched again after its load. ``gaps``
itself runs as the console script. The kinds no simulator day produces cheaply (a refused
load, failed checks) are decided by the pure :func:`infra.local.gaps.find_gaps`, tested
below with the same states the reader builds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from catalog.bronze.layout import day_prefix, manifest_key
from catalog.iceberg.deletes import DaySelection, delete_day
from catalog.iceberg.profiles import local_catalog
from catalog.paths import LakehousePaths
from expectations.results import RunSummary
from infra.local.gaps import DayState, GapKind, find_gaps
from infra.local.pipeline import LocalPipeline
from infra.local.spotify import SpotifyFetch
from ingest.roster import demo_roster
from tests.cli._run import run_cli
from tests.cli.conftest import utc_today

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def damaged_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, date]]:
    root = tmp_path_factory.mktemp("gaps")
    paths = LakehousePaths.resolve(root / "home")
    today = utc_today()
    days = {
        name: today - timedelta(days=n)
        for name, n in (
            ("deleted", 7),
            ("loaded", 6),
            ("never_fetched", 5),
            ("fetched_only", 4),
            ("fetched_again", 3),
            ("damaged_manifest", 2),
            ("died_mid_fetch", 1),
        )
    }
    roster = demo_roster(3, seed=3)
    fetch = SpotifyFetch(simulator=True, roster=roster, seed=3)
    with LocalPipeline(paths, fetch=fetch) as pipeline:
        for name in ("deleted", "loaded", "fetched_again", "damaged_manifest"):
            pipeline.run(days[name])
        pipeline.ingest(days["fetched_only"])
    with LocalPipeline(paths, fetch=replace(fetch, force=True)) as pipeline:
        pipeline.ingest(days["fetched_again"])  # a new bronze run, after the load
    delete_day(
        local_catalog(paths),
        DaySelection(days["deleted"]),
        reason="a test takes it back",
        run_id="delete-1",
    )
    manifest = paths.bronze / manifest_key(days["damaged_manifest"])
    manifest.write_bytes(manifest.read_bytes()[:40])
    orphan = paths.bronze / day_prefix(days["died_mid_fetch"]) / "run_id=x" / "part-00000.json"
    orphan.parent.mkdir(parents=True)
    orphan.write_text('{"artists": []}')
    return paths.home, days


def test_gaps_lists_each_missing_day_with_its_fix(
    damaged_home: tuple[Path, dict[str, date]], tmp_path: Path
) -> None:
    home, days = damaged_home
    outcome = run_cli(["--home", str(home), "gaps", "--format", "json"], cwd=tmp_path)
    assert outcome.code == 0, outcome.describe()
    found = {g["day"]: g for g in json.loads(outcome.out)}
    kinds = {
        day: found[day.isoformat()]["kind"] for day in days.values() if day.isoformat() in found
    }
    assert kinds == {
        days["deleted"]: "deleted",
        days["never_fetched"]: "no_bronze",
        days["fetched_only"]: "not_loaded",
        days["fetched_again"]: "stale",
        days["damaged_manifest"]: "unreadable_manifest",
        days["died_mid_fetch"]: "no_bronze",
    }, outcome.describe()
    today = utc_today()
    assert found[today.isoformat()]["kind"] == "no_bronze"  # the range ends today
    assert found[today.isoformat()]["fix"] == f"spotify-lakehouse run --date {today}"
    d = days["fetched_only"].isoformat()
    assert found[d]["fix"] == f"spotify-lakehouse transform --date {d}"
    d = days["damaged_manifest"].isoformat()
    assert found[d]["fix"].startswith(f"spotify-lakehouse run --date {d} --force")
    assert "a test takes it back" in found[days["deleted"].isoformat()]["detail"]
    assert "never finished" in found[days["died_mid_fetch"].isoformat()]["detail"]
    assert "--allow-backdated" in found[days["never_fetched"].isoformat()]["fix"]
    assert set(found) <= {d.isoformat() for d in [*days.values(), today]}


def test_a_range_limits_the_days_and_the_table_says_how_many_are_complete(
    damaged_home: tuple[Path, dict[str, date]], tmp_path: Path
) -> None:
    home, days = damaged_home
    first, last = days["loaded"], days["never_fetched"]
    outcome = run_cli(
        ["--home", str(home), "gaps", "--start", str(first), "--end", str(last)], cwd=tmp_path
    )
    assert outcome.code == 0, outcome.describe()
    assert f"{first} .. {last}: 1 of 2 day(s) complete, 1 need attention" in outcome.err
    assert "no_bronze" in outcome.out
    assert str(days["fetched_only"]) not in outcome.out


def test_a_fixed_day_leaves_the_list(
    damaged_home: tuple[Path, dict[str, date]], tmp_path: Path
) -> None:
    shared, days = damaged_home
    home = tmp_path / "copy"  # the module's home stays as the other tests expect it
    shutil.copytree(shared, home, symlinks=True)
    day = days["fetched_only"]
    paths = LakehousePaths.resolve(home)
    with LocalPipeline(paths) as pipeline:
        pipeline.transform(day)
    outcome = run_cli(
        ["--home", str(home), "gaps", "--start", str(day), "--end", str(day)], cwd=tmp_path
    )
    assert outcome.code == 0, outcome.describe()
    assert "1 of 1 day(s) complete" in outcome.err, outcome.describe()


def test_a_missing_home_is_refused_not_created(tmp_path: Path) -> None:
    outcome = run_cli(["--home", str(tmp_path / "typo"), "gaps"], cwd=tmp_path)
    assert outcome.code == 1
    assert "no lakehouse at" in outcome.err
    assert not (tmp_path / "typo").exists()


# The decision, state by state -------------------------------------------------------------

DAY = date(2026, 11, 10)
TODAY = date(2026, 11, 20)


def _run(run_id: str, *, success: bool = True, quarantined: int = 0) -> RunSummary:
    failed = [] if success else ["followers_within_range"]
    return RunSummary(DAY, run_id, success, 20, quarantined, failed, None)


def _state(**changes: object) -> DayState:
    base = DayState(
        manifest_run="r2",
        manifest_unreadable=None,
        has_parts=True,
        loaded_runs=frozenset({"r2"}),
        loaded=True,
        quality=_run("r2"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        (_state(), None),
        (_state(loaded_runs=frozenset({"r1"})), None),  # re-validated r2, nothing changed
        (_state(loaded_runs=frozenset({"r1"}), quality=_run("r1")), GapKind.STALE),
        (_state(loaded_runs=frozenset(), quality=None, loaded=True), GapKind.STALE),
        (_state(loaded=False, loaded_runs=frozenset(), quality=None), GapKind.NOT_LOADED),
        (
            _state(loaded=False, loaded_runs=frozenset(), quality=_run("r2", success=False)),
            GapKind.LOAD_FAILED,
        ),
        (_state(quality=_run("r2", success=False, quarantined=2)), GapKind.DQ_FAILED),
        (_state(manifest_run=None, manifest_unreadable="bad JSON"), GapKind.UNREADABLE_MANIFEST),
        (_state(deleted_reason="GDPR request"), GapKind.DELETED),
        (_state(manifest_run=None, has_parts=False, loaded=False), GapKind.NO_BRONZE),
    ],
)
def test_each_state_gets_its_kind(state: DayState, kind: GapKind | None) -> None:
    found = find_gaps([DAY], {DAY: state}, TODAY)
    assert [g.kind for g in found] == ([kind] if kind else [])


def test_failed_checks_name_the_expectations_and_the_quarantine() -> None:
    (gap,) = find_gaps(
        [DAY], {DAY: _state(quality=_run("r2", success=False, quarantined=2))}, TODAY
    )
    assert "followers_within_range" in gap.detail
    assert "2 row(s) quarantined" in gap.detail
    assert gap.fix.startswith("spotify-lakehouse quality --date 2026-11-10")


def test_a_day_nobody_knows_is_a_gap() -> None:
    (gap,) = find_gaps([DAY], {}, TODAY)
    assert gap.kind is GapKind.NO_BRONZE
    assert "--allow-backdated" in gap.fix
    (gap,) = find_gaps([TODAY], {}, TODAY)
    assert gap.fix == "spotify-lakehouse run --date 2026-11-20"
