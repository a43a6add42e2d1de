"""A day on which every expectation holds costs GX's verdicts only (``BOOLEAN_ONLY``).

The outcomes recorded for such a day (dq_results rows, the report) must be exactly what the
detailed run (``COMPLETE``) gives: each case below is validated both ways and compared. A
day where anything fails or warns takes the detailed run, so its outcomes are that run's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from expectations.frame import (
    BRONZE_CHECK_COLUMNS,
    SILVER_CHECK_COLUMNS,
    Candidate,
    PartCheck,
    PreviousCount,
    pandas_frame,
    silver_check_rows,
)
from expectations.runner import (
    ExpectationOutcome,
    QualityContext,
    _outcomes,
    clean_outcomes,
    quality_context,
)
from expectations.suites import PARAM_DAY, PARAM_MAX_CHANGE, PARAM_MAX_ROWS

DAY = date(2026, 11, 1)
BEFORE = date(2026, 10, 31)


def artist_id(i: int) -> str:
    return f"{i:022d}"


def candidate(i: int, **overrides: Any) -> Candidate:
    row: dict[str, Any] = {
        "artist_id": artist_id(i),
        "snapshot_date": DAY,
        "name": f"Artist {i}",
        "followers": 1_000_000 + i,
        "popularity": i % 101,
        "genres": ["pop"],
        "image_url": None,
        "spotify_url": None,
        "fetched_at": datetime(2026, 11, 1, 6, tzinfo=UTC),
        "run_id": "r",
        "source_file": "p0",
    }
    json_type = overrides.pop("followers_json_type", "integer")
    row.update(overrides)
    return Candidate(i, row, {}, "p0", json_type)


@pytest.fixture(scope="module")
def gx() -> QualityContext:
    return quality_context()


@pytest.fixture
def detailed_runs(gx: QualityContext, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the detailed (``COMPLETE``) runs the context makes."""
    calls: list[str] = []
    real = QualityContext._run

    def counting(self: QualityContext, suite: Any, *args: Any) -> Any:
        calls.append(suite.name)
        return real(self, suite, *args)

    monkeypatch.setattr(QualityContext, "_run", counting)
    return calls


def silver_both_ways(
    gx: QualityContext,
    candidates: list[Candidate],
    previous: dict[str, PreviousCount] | None = None,
    *,
    max_rows: int | None = 50,
    backdated: bool = False,
) -> tuple[tuple[ExpectationOutcome, ...], tuple[ExpectationOutcome, ...]]:
    rows = silver_check_rows(candidates, day=DAY, previous=previous or {}, backdated=backdated)
    fast = gx.validate_silver(
        rows, day=DAY, max_rows=max_rows, max_daily_follower_change=0.05, engine="pandas"
    ).results
    parameters = {PARAM_DAY: [DAY], PARAM_MAX_ROWS: max_rows, PARAM_MAX_CHANGE: 0.05}
    columns = [name for name, _ in SILVER_CHECK_COLUMNS]
    detailed = _outcomes(
        gx.silver_suite,
        QualityContext._run(
            gx, gx.silver_suite, gx._pandas, pandas_frame(columns, rows), parameters
        ),
    )
    return fast, detailed


@pytest.mark.parametrize("size", [1, 3, 20])
def test_a_clean_day_is_recorded_exactly_as_the_detailed_run_would(
    gx: QualityContext, detailed_runs: list[str], size: int
) -> None:
    candidates = [
        candidate(i, popularity=None if i % 3 == 0 else i, genres=None if i % 2 else ["x"])
        for i in range(size)
    ]
    previous = {artist_id(i): PreviousCount(BEFORE, 1_000_000) for i in range(0, size, 2)}
    fast, detailed = silver_both_ways(gx, candidates, previous, max_rows=None if size == 3 else 50)
    assert detailed_runs == ["silver"]  # only the comparison's own detailed run
    assert fast == detailed
    assert fast == clean_outcomes(gx.silver_suite, size)


@pytest.mark.parametrize(
    "broken",
    [
        {"followers": -1},  # critical, row level
        {"artist_id": None},
        {"followers_json_type": "number"},
        {"artist_id": artist_id(0)},  # a duplicate of row 0
    ],
)
def test_a_day_where_something_fails_gets_the_details(
    gx: QualityContext, detailed_runs: list[str], broken: dict[str, Any]
) -> None:
    candidates = [candidate(i) for i in range(4)]
    candidates.append(candidate(9, **broken))
    fast, detailed = silver_both_ways(gx, candidates)
    assert detailed_runs == ["silver", "silver"]  # the fallback, then the comparison
    assert fast == detailed
    assert not all(o.success for o in fast)


def test_a_warning_or_a_row_count_beyond_the_roster_gets_the_details(
    gx: QualityContext, detailed_runs: list[str]
) -> None:
    jump = {artist_id(1): PreviousCount(BEFORE, 10)}  # a 100,000x jump: the warning
    fast, detailed = silver_both_ways(gx, [candidate(i) for i in range(3)], jump, backdated=True)
    assert fast == detailed
    assert {o.name for o in fast if not o.success} == {
        "follower_change_within_bound",
        "fetch_not_backdated",
    }
    fast, detailed = silver_both_ways(gx, [candidate(i) for i in range(3)], max_rows=2)
    assert fast == detailed
    assert [o.name for o in fast if not o.success] == ["row_count_within_roster"]
    assert detailed_runs == ["silver"] * 4


def part(key: str, *, sha: str | None = "a" * 64, found: int | None = 20) -> PartCheck:
    return PartCheck(key, "a" * 64, sha, 20, found, found is not None)


def test_the_bronze_suite_clean_or_not_is_recorded_as_the_detailed_run_would(
    gx: QualityContext, detailed_runs: list[str]
) -> None:
    for parts in (
        [part("p0")],
        [part("p0"), part("p1")],
        [part("p0"), part("p1", sha=None, found=None)],
        [part("p0", found=19)],
    ):
        fast = gx.validate_bronze(parts).results
        rows = [p.as_row(i) for i, p in enumerate(parts)]
        frame = pandas_frame(BRONZE_CHECK_COLUMNS, rows)
        detailed = _outcomes(
            gx.bronze_suite, QualityContext._run(gx, gx.bronze_suite, gx._pandas, frame, {})
        )
        assert fast == detailed
    # two clean days took the verdicts only; the two broken ones, and each comparison, detail
    assert detailed_runs == ["bronze"] * 6
