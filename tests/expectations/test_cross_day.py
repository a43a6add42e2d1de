"""The cross-day checks on pandas frames: history summarized, each check, severities, the
fast path, and where a failure shows (dq_results rows, the HTML report, ``quality``'s
summary). No table, no Spark: silver's history is given as the rows a scan would return.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from catalog.errors import LakehouseError
from expectations.cross_day import (
    ArtistHistory,
    HistoryMatrix,
    PreviousLoad,
    SilverHistory,
    summarize_history,
    summarize_matrix,
    window_start,
    with_basis,
)
from expectations.frame import (
    SILVER_CHECK_COLUMNS,
    Candidate,
    PreviousCount,
    pandas_frame,
    silver_check_rows,
)
from expectations.quarantine import judge
from expectations.report import render_report
from expectations.results import QualityRun
from expectations.runner import (
    QualityContext,
    SuiteOutcome,
    _outcomes,
    clean_outcomes,
    quality_context,
)
from expectations.suites import (
    DAY_GAP_SEVERITY_ENV,
    DAY_GAP_WITHIN_BOUND,
    FOLLOWER_CHANGE_WITHIN_BOUND,
    FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN,
    GAIN_SPIKE_SEVERITY_ENV,
    HISTORY_WINDOW_DAYS,
    MAX_DAY_GAP_ENV,
    MAX_GAIN_TO_TRAILING_MEDIAN_ENV,
    MAX_ROSTER_SHRINK_ENV,
    MIN_GAIN_HISTORY_ENV,
    PARAM_DAY,
    PARAM_MAX_CHANGE,
    PARAM_MAX_ROWS,
    ROSTER_NOT_SHRINKING,
    ROSTER_SHRINK_SEVERITY_ENV,
    ROW_COUNT_NEAR_PREVIOUS_LOAD,
    SILVER_SUITE,
    TRAILING_GAIN_DAYS,
    CrossDaySettings,
    QualitySettings,
    QualitySettingsError,
    silver_expectations,
)

DAY = date(2026, 11, 30)
CROSS_DAY = {
    FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN,
    DAY_GAP_WITHIN_BOUND,
    ROSTER_NOT_SHRINKING,
    ROW_COUNT_NEAR_PREVIOUS_LOAD,
}


def artist_id(i: int) -> str:
    return f"{i:022d}"


def candidate(i: int, followers: int, **overrides: Any) -> Candidate:
    row: dict[str, Any] = {
        "artist_id": artist_id(i),
        "snapshot_date": DAY,
        "name": f"Artist {i}",
        "followers": followers,
        "popularity": 50,
        "genres": ["pop"],
        "image_url": None,
        "spotify_url": None,
        "fetched_at": datetime(2026, 11, 30, 6, tzinfo=UTC),
        "run_id": "r",
        "source_file": "p0",
    }
    row.update(overrides)
    return Candidate(i, row, {"id": artist_id(i)}, "p0", "integer")


def base(i: int) -> int:
    return 10_000_000 * i


def gain(i: int, d: int) -> int:
    """Artist i's gain on the d-th day: 1,000 a day, 1,200 every third (median 1,000)."""
    return 1_000 + (200 if d % 3 == 0 else 0)


def history_rows(
    artists: range, days: int = 31, *, skip: dict[int, set[int]] | None = None
) -> list[dict[str, Any]]:
    """Silver's rows of the ``days`` days before DAY: steady gains per artist."""
    rows = []
    for i in artists:
        followers = base(i)
        for d in range(days, 0, -1):
            followers += gain(i, d)
            if d in (skip or {}).get(i, set()):
                continue
            rows.append(
                {
                    "artist_id": artist_id(i),
                    "snapshot_date": DAY - timedelta(days=d),
                    "followers": followers,
                }
            )
    return rows


def latest(rows: list[dict[str, Any]], i: int) -> int:
    mine = [r for r in rows if r["artist_id"] == artist_id(i)]
    return int(max(mine, key=lambda r: r["snapshot_date"])["followers"])


@pytest.fixture(scope="module")
def gx() -> QualityContext:
    return quality_context()


def validate(
    gx: QualityContext,
    candidates: list[Candidate],
    history: SilverHistory,
    cross_day: CrossDaySettings | None = None,
) -> SuiteOutcome:
    rows = silver_check_rows(
        candidates, day=DAY, previous=history.previous, backdated=False, history=history
    )
    return gx.validate_silver(
        rows,
        day=DAY,
        max_rows=None,
        max_daily_follower_change=0.05,
        engine="pandas",
        cross_day=cross_day,
        previous_load=history.previous_load,
    )


def by_name(outcome: SuiteOutcome) -> dict[str, Any]:
    return {r.name: r for r in outcome.results}


# The history --------------------------------------------------------------------------------


def test_history_gives_each_artist_its_previous_row_and_trailing_median_gain() -> None:
    rows = history_rows(range(1, 4), skip={2: {1, 2}})  # artist 2 missing the last two days
    rows.append({"artist_id": artist_id(9), "snapshot_date": DAY - timedelta(40), "followers": 5})
    history = summarize_history(rows, DAY, min_gains=7)

    one = history.artists[artist_id(1)]
    assert one.previous is not None
    assert one.previous.snapshot_date == DAY - timedelta(days=1)
    assert one.previous.followers == latest(rows, 1)
    assert one.gains == 28  # gains ending on the 28 days before DAY, not the 30 in the window
    assert one.median_gain == 1_000
    two = history.artists[artist_id(2)]
    assert two.previous is not None
    assert two.previous.snapshot_date == DAY - timedelta(days=3)
    assert artist_id(9) not in history.artists  # outside the window: never read into it
    # The previous load is the latest day with rows: artist 2 is not in it.
    assert history.previous_load == PreviousLoad(DAY - timedelta(days=1), 2, 2)
    assert history.previous == {
        a: h.previous for a, h in history.artists.items() if h.previous is not None
    }


def test_a_gain_over_a_gap_counts_per_day_and_short_history_has_no_median() -> None:
    rows = [
        {"artist_id": "a", "snapshot_date": DAY - timedelta(days=5), "followers": 100},
        {"artist_id": "a", "snapshot_date": DAY - timedelta(days=3), "followers": 300},  # 2 days
        {"artist_id": "a", "snapshot_date": DAY - timedelta(days=2), "followers": 250},  # -50
        {"artist_id": "a", "snapshot_date": DAY - timedelta(days=1), "followers": None},
    ]
    assert summarize_history(rows, DAY, min_gains=2).artists["a"].median_gain == 75.0
    short = summarize_history(rows, DAY, min_gains=3).artists["a"]
    assert (short.median_gain, short.gains) == (None, 2)
    assert summarize_history([], DAY, min_gains=1) == SilverHistory(DAY, DAY - timedelta(31))


def test_the_check_columns_come_from_the_history() -> None:
    history = SilverHistory(
        DAY,
        DAY - timedelta(days=31),
        {
            artist_id(1): ArtistHistory(
                previous=summarize_history(
                    [{"artist_id": "x", "snapshot_date": DAY - timedelta(4), "followers": 1_000}],
                    DAY,
                    min_gains=1,
                )
                .artists["x"]
                .previous,
                median_gain=100.0,
                gains=9,
            ),
            artist_id(2): ArtistHistory(None, None),
        },
    )
    rows = silver_check_rows(
        [candidate(1, 3_000), candidate(2, 5), candidate(3, 7), candidate(1, 10**400)],
        day=DAY,
        previous=history.previous,
        backdated=False,
        history=history,
    )
    columns = [name for name, _ in SILVER_CHECK_COLUMNS]
    values = [dict(zip(columns, row, strict=True)) for row in rows]
    assert values[0]["gain_to_trailing_median"] == 5.0  # 2,000 in 4 days: 500 a day, 5x 100
    assert values[0]["days_since_previous"] == 4
    assert (values[1]["gain_to_trailing_median"], values[1]["days_since_previous"]) == (None, None)
    assert (values[2]["gain_to_trailing_median"], values[2]["days_since_previous"]) == (None, None)
    assert values[3]["gain_to_trailing_median"] == float("inf")  # no crash on the division
    frame = pandas_frame(columns, rows)
    assert str(frame["days_since_previous"].dtype) == "Int64"


def test_a_flat_history_compares_with_one_follower_a_day_not_zero() -> None:
    rows = [
        {"artist_id": "a", "snapshot_date": DAY - timedelta(days=d), "followers": 500}
        for d in range(1, 10)
    ]
    artist = summarize_history(rows, DAY, min_gains=7).artists["a"]
    assert artist.median_gain == 0.0
    assert artist.gain_to_trailing_median(500, DAY) == 0.0
    assert artist.gain_to_trailing_median(530, DAY) == 30.0


# The checks ---------------------------------------------------------------------------------


def test_a_spike_beyond_n_times_the_trailing_median_warns_and_loads(gx: QualityContext) -> None:
    rows = history_rows(range(1, 6))
    history = summarize_history(rows, DAY, min_gains=7)
    day = [candidate(i, latest(rows, i) + 1_000) for i in range(1, 6)]
    spiked = latest(rows, 3) + 25_000  # 25x the median gain, only 0.08% of the count
    day[2] = candidate(3, spiked)
    outcome = validate(gx, day, history)

    results = by_name(outcome)
    spike = results[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    assert (spike.success, spike.severity, spike.unexpected_row_ids) == (False, "warning", (3,))
    assert spike.observed_value == {"unexpected_sample": [25.0]}
    assert results[FOLLOWER_CHANGE_WITHIN_BOUND].success  # the 5% bound does not see it
    assert outcome.success  # a warning never fails the suite
    verdict = judge(day, outcome, preference=lambda c: c.row_id)
    assert [c.row_id for c in verdict.good] == [1, 2, 3, 4, 5]
    assert verdict.warnings == {3: [FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]}

    # A drop is a move too; and below M gains of history the artist is not judged.
    dropped = [*day[:2], candidate(3, latest(rows, 3) - 25_000), *day[3:]]
    assert not by_name(validate(gx, dropped, history))[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN].success
    too_young = summarize_history(history_rows(range(1, 6), days=7), DAY, min_gains=7)
    assert too_young.artists[artist_id(3)].gains == 6
    assert by_name(validate(gx, day, too_young))[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN].success


def test_a_critical_spike_quarantines_the_artist_and_the_rest_loads(gx: QualityContext) -> None:
    rows = history_rows(range(1, 6))
    history = summarize_history(rows, DAY, min_gains=7)
    day = [candidate(i, latest(rows, i) + 1_100) for i in range(1, 6)]
    day[1] = candidate(2, latest(rows, 2) + 11_000)  # 11x: beyond the default 10
    critical = CrossDaySettings(gain_spike_severity="critical")
    outcome = validate(gx, day, history, critical)
    assert not outcome.success
    verdict = judge(day, outcome, preference=lambda c: c.row_id)
    assert [c.row_id for c in verdict.good] == [1, 3, 4, 5]
    assert [(q.candidate.row_id, q.failed_expectations) for q in verdict.quarantined] == [
        (2, (FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN,))
    ]
    # N is a parameter of the day: at 12x the same day passes.
    relaxed = CrossDaySettings(gain_spike_severity="critical", max_gain_to_trailing_median=12)
    assert validate(gx, day, history, relaxed).success


def test_an_artist_whose_previous_row_is_more_than_k_days_back_is_flagged(
    gx: QualityContext,
) -> None:
    rows = history_rows(range(1, 4), skip={2: {1, 2, 3, 4}})  # previous row 5 days back
    history = summarize_history(rows, DAY, min_gains=7)
    day = [candidate(i, latest(rows, i) + 1_000 * (5 if i == 2 else 1)) for i in range(1, 4)]
    gap = by_name(validate(gx, day, history))[DAY_GAP_WITHIN_BOUND]
    assert (gap.success, gap.unexpected_row_ids, gap.observed_value) == (
        False,
        (2,),
        {"unexpected_sample": [5]},
    )
    assert validate(gx, day, history, CrossDaySettings(max_day_gap=5)).success
    # The gain over the gap is per day: 5,000 in 5 days is no spike.
    assert by_name(validate(gx, day, history))[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN].success


def test_the_roster_shrinking_against_the_previous_load_fails_the_day(gx: QualityContext) -> None:
    rows = history_rows(range(1, 21), days=3)
    history = summarize_history(rows, DAY, min_gains=7)
    assert history.previous_load == PreviousLoad(DAY - timedelta(days=1), 20, 20)

    eighteen = [candidate(i, latest(rows, i) + 1_000) for i in range(1, 19)]
    results = by_name(validate(gx, eighteen, history, CrossDaySettings(max_row_count_change=0.2)))
    assert results[ROSTER_NOT_SHRINKING].success  # 10% fewer is allowed (exactly, no float slip)

    seventeen = eighteen[:17]
    outcome = validate(gx, seventeen, history)
    results = by_name(outcome)
    shrink = results[ROSTER_NOT_SHRINKING]
    assert (shrink.success, shrink.severity, shrink.row_level) == (False, "warning", False)
    assert shrink.observed_value == {
        "artists": 17,
        "previous_load": (DAY - timedelta(days=1)).isoformat(),
        "previous_artists": 20,
        "min_artists": 18,
    }
    assert not results[ROW_COUNT_NEAR_PREVIOUS_LOAD].success  # 17 rows, 18..22 allowed
    verdict = judge(seventeen, outcome, preference=lambda c: c.row_id)
    assert len(verdict.good) == 17  # a warning: the day loads

    # Critical: the day is refused, every record quarantined with the check's name.
    critical = CrossDaySettings(roster_shrink_severity="critical", max_row_count_change=0.5)
    outcome = validate(gx, seventeen, history, critical)
    assert not outcome.success
    verdict = judge(seventeen, outcome, preference=lambda c: c.row_id)
    assert verdict.good == []
    assert {q.failed_expectations for q in verdict.quarantined} == {(ROSTER_NOT_SHRINKING,)}
    assert len(verdict.quarantined) == 17
    assert verdict.warnings == {}


def test_the_row_count_is_checked_both_ways_against_the_previous_load(gx: QualityContext) -> None:
    rows = history_rows(range(1, 11), days=2)
    history = summarize_history(rows, DAY, min_gains=7)
    eleven = [candidate(i, latest(rows, i) + 1_000) for i in range(1, 11)]
    eleven.append(candidate(11, 5_000_000))  # a new artist: no history, no per-artist check
    assert validate(gx, eleven, history).success
    twelve = [*eleven, candidate(12, 6_000_000)]
    outcome = validate(gx, twelve, history, CrossDaySettings(row_count_change_severity="critical"))
    rows_check = by_name(outcome)[ROW_COUNT_NEAR_PREVIOUS_LOAD]
    assert (rows_check.success, rows_check.severity) == (False, "critical")
    assert rows_check.observed_value == {
        "rows": 12,
        "previous_load": (DAY - timedelta(days=1)).isoformat(),
        "previous_rows": 10,
        "min_rows": 9,
        "max_rows": 11,
    }
    assert judge(twelve, outcome, preference=lambda c: c.row_id).good == []


def test_without_history_every_cross_day_check_holds(gx: QualityContext) -> None:
    outcome = validate(gx, [candidate(1, 5), candidate(2, 6)], SilverHistory(DAY, DAY))
    results = by_name(outcome)
    assert all(results[name].success for name in CROSS_DAY)
    assert results[ROSTER_NOT_SHRINKING].observed_value == 2  # compared with nothing
    assert results[ROW_COUNT_NEAR_PREVIOUS_LOAD].observed_value == 2


@pytest.mark.parametrize("size", [1, 5])
def test_a_clean_day_with_history_is_recorded_as_the_detailed_run_would(
    gx: QualityContext, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict-only path (``clean_outcomes``) knows the cross-day checks' answers too,
    so a clean day with history costs no detailed run."""
    rows = history_rows(range(1, size + 1))
    history = summarize_history(rows, DAY, min_gains=7)
    day = [candidate(i, latest(rows, i) + 1_000) for i in range(1, size + 1)]
    detailed_runs: list[str] = []
    real = QualityContext._run

    def counting(self: QualityContext, suite: Any, *args: Any) -> Any:
        detailed_runs.append(suite.name)
        return real(self, suite, *args)

    monkeypatch.setattr(QualityContext, "_run", counting)
    fast = validate(gx, day, history).results
    assert detailed_runs == []
    check_rows = silver_check_rows(
        day, day=DAY, previous=history.previous, backdated=False, history=history
    )
    assert history.previous_load is not None
    parameters = {
        PARAM_DAY: [DAY],
        PARAM_MAX_ROWS: None,
        PARAM_MAX_CHANGE: 0.05,
        **CrossDaySettings().day_parameters(
            history.previous_load.rows, history.previous_load.artists
        ),
    }
    detailed = _outcomes(
        gx.silver_suite,
        QualityContext._run(
            gx,
            gx.silver_suite,
            gx._pandas,
            pandas_frame([name for name, _ in SILVER_CHECK_COLUMNS], check_rows),
            parameters,
        ),
    )
    clean = clean_outcomes(gx.silver_suite, size)
    assert clean is not None
    for outcomes in (detailed, clean):
        recorded = tuple(
            replace(
                r,
                observed_value=with_basis(
                    r.name, r.observed_value, history.previous_load, parameters
                ),
            )
            for r in outcomes
        )
        assert fast == recorded


# Settings -----------------------------------------------------------------------------------


def test_cross_day_settings_from_env_and_their_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert QualitySettings.from_env().cross_day == CrossDaySettings()
    monkeypatch.setenv(MAX_GAIN_TO_TRAILING_MEDIAN_ENV, "4.5")
    monkeypatch.setenv(MIN_GAIN_HISTORY_ENV, "3")
    monkeypatch.setenv(MAX_DAY_GAP_ENV, "6")
    monkeypatch.setenv(MAX_ROSTER_SHRINK_ENV, "0.25")
    monkeypatch.setenv(GAIN_SPIKE_SEVERITY_ENV, "CRITICAL")
    monkeypatch.setenv(ROSTER_SHRINK_SEVERITY_ENV, "critical")
    settings = QualitySettings.from_env().cross_day
    assert settings == CrossDaySettings(
        max_gain_to_trailing_median=4.5,
        min_gain_history=3,
        max_day_gap=6,
        max_roster_shrink=0.25,
        gain_spike_severity="critical",
        roster_shrink_severity="critical",
    )
    for name, value, fragment in (
        (DAY_GAP_SEVERITY_ENV, "fatal", "critical"),
        (MAX_DAY_GAP_ENV, "31", "1..30"),
        (MAX_DAY_GAP_ENV, "three", "whole number"),
        (MAX_ROSTER_SHRINK_ENV, "1.5", "[0, 1)"),
    ):
        with monkeypatch.context() as scoped:
            scoped.setenv(name, value)
            with pytest.raises(QualitySettingsError, match=re.escape(fragment)) as raised:
                QualitySettings.from_env()
            assert isinstance(raised.value, LakehouseError)
            assert isinstance(raised.value, ValueError)


def test_day_bounds_are_exact_fractions() -> None:
    parameters = CrossDaySettings(max_roster_shrink=0.1, max_row_count_change=0.1).day_parameters(
        20, 20
    )
    assert parameters["min_artists_vs_previous_load"] == 18  # not 19 from 18.000000000000004
    assert (
        parameters["min_rows_vs_previous_load"],
        parameters["max_rows_vs_previous_load"],
    ) == (18, 22)
    none = CrossDaySettings().day_parameters(None, None)
    assert (none["min_artists_vs_previous_load"], none["max_rows_vs_previous_load"]) == (0, None)


def test_each_severity_builds_its_suite_once(gx: QualityContext) -> None:
    default = gx.silver_suite_for(CrossDaySettings())
    assert default is gx.silver_suite
    critical = CrossDaySettings(day_gap_severity="critical")
    suite = gx.silver_suite_for(critical)
    assert suite is gx.silver_suite_for(
        CrossDaySettings(day_gap_severity="critical", max_day_gap=9)
    )
    assert suite.name == SILVER_SUITE
    severities = {
        (e.meta or {})["name"]: str(e.severity).rsplit(".", 1)[-1].lower()
        for e in suite.expectations
    }
    assert severities[DAY_GAP_WITHIN_BOUND] == "critical"
    assert severities[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN] == "warning"
    assert len(silver_expectations(critical)) == len(silver_expectations())


# Where a failure shows ----------------------------------------------------------------------


def test_failures_show_in_dq_results_the_report_and_the_summary(gx: QualityContext) -> None:
    rows = history_rows(range(1, 6))
    history = summarize_history(rows, DAY, min_gains=7)
    day = [candidate(i, latest(rows, i) + 1_000) for i in range(1, 5)]  # artist 5 is gone
    day[0] = candidate(1, latest(rows, 1) + 40_000)
    outcome = validate(gx, day, history, CrossDaySettings(roster_shrink_severity="critical"))
    verdict = judge(day, outcome, preference=lambda c: c.row_id)
    run = QualityRun(
        snapshot_date=DAY,
        run_id="run-1",
        validation_id="v1",
        validated_at=datetime(2026, 11, 30, 7, tzinfo=UTC),
        outcomes=(outcome,),
        quarantined=tuple(verdict.quarantined),
    )
    records = {r["expectation"]: r for r in run.dq_records("/r.html")}
    assert records[ROSTER_NOT_SHRINKING]["success"] is False
    assert records[ROSTER_NOT_SHRINKING]["severity"] == "critical"
    assert json.loads(records[ROSTER_NOT_SHRINKING]["observed_value"])["previous_artists"] == 5
    spike = records[FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN]
    assert (spike["success"], spike["severity"], spike["unexpected_count"]) == (False, "warning", 1)
    assert json.loads(spike["observed_value"]) == {"unexpected_sample": [40.0]}

    summary = QualityRun.from_records(run.dq_records("/r.html")).summary()
    assert summary.success is False
    assert summary.failed_expectations[0] == ROSTER_NOT_SHRINKING  # critical first
    assert FOLLOWER_GAIN_WITHIN_TRAILING_MEDIAN in summary.failed_expectations

    html = render_report(run)
    assert '<td>roster_not_shrinking</td><td>critical</td><td class="fail">FAIL</td>' in html
    assert (
        '<td>follower_gain_within_trailing_median</td><td>warning</td><td class="warn">warn</td>'
        in html
    )
    assert "previous_artists" in html
    assert "Quarantined rows (not loaded) (4)" in html


# The column-wise summary against the rule stated row by row ----------------------------------


def row_by_row(
    rows: Iterable[Mapping[str, Any]],
    day: date,
    *,
    min_gains: int,
    window_days: int = HISTORY_WINDOW_DAYS,
) -> SilverHistory:
    """The rule stated row by row (the implementation before it went column-wise): the
    oracle :func:`summarize_history_table` is held to. The history of ``day`` from silver's
    rows of the window (``artist_id``,
    ``snapshot_date``, ``followers``; rows outside ``[day - window_days, day)`` ignored).

    An artist's daily gains are taken between its consecutive rows (per day between them,
    so a two-day gap counts as two days), for gains ending on one of the
    :data:`TRAILING_GAIN_DAYS` days before ``day``; the median is of their absolute values.
    The previous load is the latest day in the window with rows: its row count and distinct
    artists.
    """
    start = window_start(day, window_days)
    gains_from = day - timedelta(days=TRAILING_GAIN_DAYS)
    counts: dict[str, dict[date, int]] = {}
    per_day_rows: dict[date, int] = {}
    per_day_artists: dict[date, set[str]] = {}
    for row in rows:
        when, artist = row["snapshot_date"], row["artist_id"]
        if artist is None or not start <= when < day:
            continue
        per_day_rows[when] = per_day_rows.get(when, 0) + 1
        per_day_artists.setdefault(when, set()).add(artist)
        if row["followers"] is not None:
            counts.setdefault(artist, {})[when] = int(row["followers"])
    artists: dict[str, ArtistHistory] = {}
    for artist, by_day in counts.items():
        days = sorted(by_day)
        gains = [
            abs(by_day[b] - by_day[a]) / (b - a).days
            for a, b in itertools.pairwise(days)
            if b >= gains_from
        ]
        last = days[-1]
        artists[artist] = ArtistHistory(
            previous=PreviousCount(last, by_day[last]),
            median_gain=float(statistics.median(gains)) if len(gains) >= min_gains else None,
            gains=len(gains),
        )
    previous_load = None
    if per_day_rows:
        latest = max(per_day_rows)
        previous_load = PreviousLoad(latest, per_day_rows[latest], len(per_day_artists[latest]))
    return SilverHistory(day, start, artists, previous_load)


@pytest.mark.parametrize("seed", range(40))
def test_the_column_wise_history_is_the_row_by_row_rule(seed: int) -> None:
    """Random windows (shuffled rows, gaps, null counts and artists, rows outside the window,
    repeated days, 0..12 artists): the same artists, previous counts, medians and previous
    load as the row-by-row statement of the rule."""
    rnd = random.Random(seed)
    day = date(2026, 6, 15)
    for _ in range(10):
        rows: list[dict[str, Any]] = []
        for artist in range(rnd.randint(0, 12)):
            for _ in range(rnd.randint(0, 40)):
                rows.append(
                    {
                        "artist_id": None if rnd.random() < 0.02 else f"a{artist}",
                        "snapshot_date": day - timedelta(days=rnd.randint(-3, 40)),
                        "followers": None
                        if rnd.random() < 0.1
                        else rnd.randint(0, 10 ** rnd.randint(1, 12)),
                    }
                )
        rnd.shuffle(rows)
        min_gains = rnd.randint(1, 8)
        expected = row_by_row(rows, day, min_gains=min_gains)
        assert summarize_history(rows, day, min_gains=min_gains) == expected


def _random_window_rows(rnd: random.Random, day: date, artists: int) -> list[dict[str, Any]]:
    """Rows of silver around ``day``'s window: gaps, null counts, repeated days, rows out of
    the window, a null artist now and then."""
    rows: list[dict[str, Any]] = []
    for artist in range(artists):
        for _ in range(rnd.randint(0, 40)):
            rows.append(
                {
                    "artist_id": None if rnd.random() < 0.02 else f"a{artist}",
                    "snapshot_date": day - timedelta(days=rnd.randint(-3, 40)),
                    "followers": None
                    if rnd.random() < 0.1
                    else rnd.choice([rnd.randint(0, 10 ** rnd.randint(1, 12)), 2**52, 2**62]),
                }
            )
    rnd.shuffle(rows)
    return rows


def _random_count(rnd: random.Random) -> object:
    """A count as a record may carry it: mostly a plain integer, sometimes at or past the
    bounds the column-wise path takes, sometimes no integer at all."""
    return rnd.choice(
        [
            rnd.randint(0, 10**9),
            rnd.randint(0, 10**9),
            rnd.randint(0, 10**9),
            -rnd.randint(1, 10**6),
            2**52,
            2**52 + 1,
            -(2**52) - 1,
            2**63 + 5,
            10**400,
            True,
            False,
            None,
            1.5,
            "12",
        ]
    )


@pytest.mark.parametrize("seed", range(30))
def test_the_column_wise_check_values_are_the_row_by_row_ones(seed: int) -> None:
    """The check frame's cross-day columns (and the day-over-day change) from the history's
    columns equal what each artist's :class:`ArtistHistory` gives one row at a time, for
    random histories and counts of every kind (unknown artists, no artist, huge, negative,
    boolean, non-integer counts)."""
    rnd = random.Random(seed)
    day = date(2026, 6, 15)
    for _ in range(5):
        rows = _random_window_rows(rnd, day, rnd.randint(0, 10))
        history = summarize_history(rows, day, min_gains=rnd.randint(1, 8))
        one_at_a_time = replace(history, artists=dict(history.artists))
        candidates = [
            candidate(n, 0, artist_id=rnd.choice([f"a{rnd.randint(0, 12)}", None]))
            for n in range(rnd.randint(0, 30))
        ]
        for c in candidates:
            c.row["followers"] = _random_count(rnd)
        columns = silver_check_rows(candidates, day=day, backdated=False, history=history)
        rows_by_row = silver_check_rows(candidates, day=day, backdated=False, history=one_at_a_time)
        assert columns == rows_by_row
        # The previous counts given explicitly win over the history's own.
        given = silver_check_rows(
            candidates, day=day, previous=one_at_a_time.previous, backdated=False, history=history
        )
        assert given == rows_by_row


@pytest.mark.parametrize("seed", range(20))
def test_a_carried_matrix_summarizes_as_the_rows_read_again(seed: int) -> None:
    """Day by day, the window read once and then carried (each day's rows added with
    :meth:`HistoryMatrix.with_day`, the days that left dropped with ``since``) gives the
    history the rows of silver would give read afresh, through roster changes (artists
    leaving, joining, a day's counts missing)."""
    rnd = random.Random(seed)
    first = date(2026, 5, 1)
    silver: list[dict[str, Any]] = []
    artists = [f"a{i}" for i in range(rnd.randint(0, 8))]
    for n in range(45):
        when = first + timedelta(days=n)
        if rnd.random() < 0.15:
            artists = [a for a in artists if rnd.random() < 0.8] + [f"b{n}"]
        silver.extend(
            {
                "artist_id": None if rnd.random() < 0.02 else a,
                "snapshot_date": when,
                "followers": None if rnd.random() < 0.05 else rnd.randint(0, 10**8),
            }
            for a in artists
            if rnd.random() < 0.95
        )
    read_on = first + timedelta(days=rnd.randint(0, 20))
    min_gains = rnd.randint(1, 8)
    start = window_start(read_on)
    matrix = HistoryMatrix.from_table(summarize_history_rows_table(silver), start, read_on)
    for n in range((read_on - first).days, 45):
        day = first + timedelta(days=n)
        matrix = matrix.since(window_start(day))
        carried = summarize_matrix(matrix, day, min_gains=min_gains)
        assert carried == summarize_history(silver, day, min_gains=min_gains), day
        of_day = [r for r in silver if r["snapshot_date"] == day]
        matrix = matrix.with_day(
            day, [r["artist_id"] for r in of_day], [r["followers"] for r in of_day]
        )


def summarize_history_rows_table(rows: list[dict[str, Any]]) -> Any:
    """``rows`` as the Arrow table a scan of silver's history columns returns."""
    import pyarrow as pa

    schema = pa.schema(
        [("artist_id", pa.string()), ("snapshot_date", pa.date32()), ("followers", pa.int64())]
    )
    return pa.Table.from_pylist(rows, schema=schema)
