"""The cross-day checks end to end: a home with 30 loaded days, then days whose bronze a test
edited (a follower spike, a shrunk roster), through the real transform.

One module fixture builds the home and makes every write, in order (first loads only: no
Spark): 30 clean days of six artists with steady gains; day A with artist 3's count jumped
by 25 times its trailing median gain (under the 5% day-over-day bound), loaded with the
default (warning) severity; day B with artist 5's count jumped the same way, loaded by the
``transform`` command with ``LAKEHOUSE_DQ_GAIN_SPIKE_SEVERITY=critical``; day C with only
four artists, loaded with ``LAKEHOUSE_DQ_ROSTER_SHRINK_SEVERITY=critical``. The tests then
only read what those runs left: silver, the quarantine, ``dq_results``, the HTML reports and
``spotify-lakehouse quality``, so they pass in any order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.table import Table

from catalog.bronze.local import LocalBronzeStore
from catalog.iceberg.profiles import local_catalog
from catalog.iceberg.tables import ARTISTS_QUARANTINE, ARTISTS_SILVER, DQ_RESULTS
from catalog.paths import LakehousePaths
from expectations.cross_day import HISTORY_FIELDS
from expectations.suites import (
    DAY_GAP_WITHIN_BOUND,
    FOLLOWER_CHANGE_WITHIN_BOUND,
    FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN,
    GAIN_SPIKE_SEVERITY_ENV,
    ROSTER_NOT_SHRINKING,
    ROSTER_SHRINK_SEVERITY_ENV,
    ROW_COUNT_NEAR_PREVIOUS_LOAD,
    QualitySettings,
)
from glue.history import read_history
from glue.job import run_local_day
from glue.transform import TransformResult
from tests.bronze_days import artist, write_day
from tests.cli._run import Outcome, reason, run_cli

pytestmark = pytest.mark.timeout(600)

FIRST = date(2026, 9, 16)  # the history crosses a month boundary (two partitions)
HISTORY_DAYS = 30
ARTISTS = range(1, 7)
DAY_A = FIRST + timedelta(days=HISTORY_DAYS)  # artist 3 spikes: warning
DAY_B = DAY_A + timedelta(days=1)  # artist 5 spikes: critical
DAY_C = DAY_B + timedelta(days=1)  # two artists gone: critical roster shrink
SPIKE = 25  # times the artist's median daily gain


def gain(i: int, n: int) -> int:
    """Artist i's gain on day n: 1,000 x i, with a 10% or 20% bump two days in three."""
    return 1_000 * i + (n % 3) * 100 * i


def followers(i: int, n: int) -> int:
    return 1_000_000 * i + sum(gain(i, k) for k in range(1, n + 1))


def median_gain(i: int) -> int:
    return 1_100 * i  # days in three: +0%, +10%, +20%


def no_spark() -> Any:
    raise AssertionError("first loads need no Spark")


@dataclass(frozen=True)
class Scenario:
    paths: LakehousePaths
    day_a: TransformResult
    day_b: Outcome
    day_c: Outcome
    quality: Outcome
    counts: dict[tuple[date, int], int]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("cross-day")
    paths = LakehousePaths.resolve(root / "home").ensure()
    store = LocalBronzeStore(paths.bronze)
    counts: dict[tuple[date, int], int] = {}
    for n in range(HISTORY_DAYS):
        day = FIRST + timedelta(days=n)
        counts.update({(day, i): followers(i, n) for i in ARTISTS})
        write_day(store, day, [[artist(i, followers=counts[(day, i)]) for i in ARTISTS]])
        result = run_local_day(no_spark, paths, day, settings=QualitySettings())
        assert result.quality.failed_expectations == [], (day, result.quality)

    last = FIRST + timedelta(days=HISTORY_DAYS - 1)
    n = HISTORY_DAYS
    counts.update({(DAY_A, i): followers(i, n) for i in ARTISTS})
    counts[(DAY_A, 3)] = counts[(last, 3)] + SPIKE * median_gain(3)
    write_day(store, DAY_A, [[artist(i, followers=counts[(DAY_A, i)]) for i in ARTISTS]])
    day_a = run_local_day(no_spark, paths, DAY_A, settings=QualitySettings())

    counts.update({(DAY_B, i): counts[(DAY_A, i)] + gain(i, n + 1) for i in ARTISTS})
    counts[(DAY_B, 5)] = counts[(DAY_A, 5)] + SPIKE * median_gain(5)
    write_day(store, DAY_B, [[artist(i, followers=counts[(DAY_B, i)]) for i in ARTISTS]])
    home = ["--home", str(paths.home)]
    day_b = run_cli(
        [*home, "transform", "--date", DAY_B.isoformat()],
        cwd=root,
        env={GAIN_SPIKE_SEVERITY_ENV: "critical"},
    )

    counts.update({(DAY_C, i): counts[(DAY_B, i)] + gain(i, n + 2) for i in range(1, 5)})
    write_day(store, DAY_C, [[artist(i, followers=counts[(DAY_C, i)]) for i in range(1, 5)]])
    day_c = run_cli(
        [*home, "transform", "--date", DAY_C.isoformat()],
        cwd=root,
        env={ROSTER_SHRINK_SEVERITY_ENV: "critical"},
    )
    quality = run_cli([*home, "quality", "--format", "json"], cwd=root)
    return Scenario(paths, day_a, day_b, day_c, quality, counts)


def table(s: Scenario, identifier: tuple[str, str]) -> Table:
    return local_catalog(s.paths).load_table(identifier)


def rows_of(s: Scenario, identifier: tuple[str, str], day: date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table(s, identifier).scan().to_arrow().to_pylist()
    return [r for r in rows if r["snapshot_date"] == day]


def results_of(s: Scenario, day: date) -> dict[str, dict[str, Any]]:
    """The dq_results rows of the latest run of ``day``, by expectation."""
    rows = rows_of(s, DQ_RESULTS.identifier, day)
    latest = max(r["validated_at"] for r in rows)
    return {r["expectation"]: r for r in rows if r["validated_at"] == latest}


def quality_of(s: Scenario, day: date) -> dict[str, Any]:
    assert s.quality.code == 0, s.quality.describe()
    [run] = [r for r in json.loads(s.quality.out) if r["snapshot_date"] == day.isoformat()]
    return dict(run)


def test_a_spike_beyond_the_trailing_median_warns_and_the_day_loads(scenario: Scenario) -> None:
    s = scenario
    assert (s.day_a.rows, s.day_a.quarantined, s.day_a.write) == (6, 0, "append")
    loaded = {r["artist_id"]: r["followers"] for r in rows_of(s, ARTISTS_SILVER.identifier, DAY_A)}
    assert loaded[artist(3)["id"]] == s.counts[(DAY_A, 3)]  # loaded as received, flagged

    results = results_of(s, DAY_A)
    spike = results[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    assert (spike["success"], spike["severity"], spike["unexpected_count"]) == (
        False,
        "warning",
        1,
    )
    assert json.loads(spike["observed_value"]) == {"unexpected_sample": [float(SPIKE)]}
    assert results[FOLLOWER_CHANGE_WITHIN_BOUND]["success"]  # the 5% bound misses it
    for name in (DAY_GAP_WITHIN_BOUND, ROSTER_NOT_SHRINKING, ROW_COUNT_NEAR_PREVIOUS_LOAD):
        assert results[name]["success"], name
    basis = json.loads(results[ROSTER_NOT_SHRINKING]["observed_value"])
    assert basis["previous_load"] == (DAY_A - timedelta(days=1)).isoformat()
    assert (basis["artists"], basis["previous_artists"]) == (6, 6)

    run = quality_of(s, DAY_A)
    assert (run["success"], run["quarantined_rows"]) == (True, 0)
    assert run["failed_expectations"] == [FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    html = Path(run["report"]).read_text()
    assert (
        '<td>follower_gain_within_trailing_median</td><td>warning</td><td class="warn">warn</td>'
        in html
    )
    assert "Loaded rows with warnings (1)" in html
    assert artist(3)["id"] in html


def test_a_critical_spike_quarantines_the_artist_and_the_rest_of_the_day_loads(
    scenario: Scenario,
) -> None:
    s = scenario
    assert s.day_b.code == 0, s.day_b.describe()
    loaded = {r["artist_id"] for r in rows_of(s, ARTISTS_SILVER.identifier, DAY_B)}
    assert loaded == {artist(i)["id"] for i in ARTISTS if i != 5}
    [quarantined] = rows_of(s, ARTISTS_QUARANTINE.identifier, DAY_B)
    assert quarantined["artist_id"] == artist(5)["id"]
    assert quarantined["failed_expectations"] == [FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    assert json.loads(quarantined["raw_record"])["followers"]["total"] == s.counts[(DAY_B, 5)]

    spike = results_of(s, DAY_B)[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    assert (spike["success"], spike["severity"], spike["quarantined_rows"]) == (
        False,
        "critical",
        1,
    )
    run = quality_of(s, DAY_B)
    assert (run["success"], run["evaluated_rows"], run["quarantined_rows"]) == (False, 6, 1)
    assert run["failed_expectations"] == [FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    html = Path(run["report"]).read_text()
    assert (
        '<td>follower_gain_within_trailing_median</td><td>critical</td><td class="fail">FAIL</td>'
        in html
    )
    assert "Quarantined rows (not loaded) (1)" in html


def test_a_critical_roster_shrink_refuses_the_day(scenario: Scenario) -> None:
    s = scenario
    reason(s.day_c, 1, f"no row of {DAY_C.isoformat()} passed validation", ROSTER_NOT_SHRINKING)
    assert rows_of(s, ARTISTS_SILVER.identifier, DAY_C) == []
    quarantined = rows_of(s, ARTISTS_QUARANTINE.identifier, DAY_C)
    assert sorted(r["artist_id"] for r in quarantined) == [artist(i)["id"] for i in range(1, 5)]
    assert {tuple(r["failed_expectations"]) for r in quarantined} == {(ROSTER_NOT_SHRINKING,)}

    results = results_of(s, DAY_C)
    shrink = results[ROSTER_NOT_SHRINKING]
    assert (shrink["success"], shrink["severity"]) == (False, "critical")
    # Day B loaded five artists (artist 5 was quarantined): four is fewer than ceil(4.5).
    assert json.loads(shrink["observed_value"]) == {
        "artists": 4,
        "previous_load": DAY_B.isoformat(),
        "previous_artists": 5,
        "min_artists": 5,
    }
    rows = results[ROW_COUNT_NEAR_PREVIOUS_LOAD]
    assert (rows["success"], rows["severity"]) == (False, "warning")

    run = quality_of(s, DAY_C)
    assert (run["success"], run["quarantined_rows"]) == (False, 4)
    assert run["failed_expectations"] == [ROSTER_NOT_SHRINKING, ROW_COUNT_NEAR_PREVIOUS_LOAD]
    html = Path(run["report"]).read_text()
    assert '<td>roster_not_shrinking</td><td>critical</td><td class="fail">FAIL</td>' in html
    assert "previous_artists" in html


def test_the_history_read_is_the_window_only_and_three_columns(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read prunes the months before the window (no data file of them is planned) and
    selects three columns."""
    s = scenario
    silver = table(s, ARTISTS_SILVER.identifier)
    scans: list[Any] = []
    real_scan = Table.scan

    def recording(self: Table, *args: Any, **kwargs: Any) -> Any:
        made = real_scan(self, *args, **kwargs)
        scans.append(made)
        return made

    monkeypatch.setattr(Table, "scan", recording)
    later = date(2026, 11, 2)  # window 2026-10-02 .. 2026-11-01: September is outside
    history = read_history(local_catalog(s.paths), later, table=silver)
    [scan] = scans
    assert tuple(scan.selected_fields) == HISTORY_FIELDS
    planned = {task.file.partition[0] for task in scan.plan_files()}
    every = {task.file.partition[0] for task in real_scan(silver).plan_files()}
    assert len(every) == 2  # September and October
    assert len(planned) == 1  # October only
    assert history.window_start == date(2026, 10, 2)
    assert history.previous_load is not None
    assert history.previous_load.snapshot_date == DAY_B  # C was refused
    # 2026-10-02 .. 10-15 (14 days of six), A (six), B (five: artist 5 was quarantined)
    assert len(scan.to_arrow()) == 14 * 6 + 6 + 5
