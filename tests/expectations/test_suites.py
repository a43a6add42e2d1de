"""The silver and bronze suites on pandas frames: each check, row ids, parameters. No Spark."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from expectations.frame import Candidate, PartCheck, PreviousCount, silver_check_rows
from expectations.quarantine import judge
from expectations.runner import SuiteOutcome, quality_context

DAY = date(2026, 11, 1)
GOOD_ID = "4YRxDV8wJFPHPTeXepOstw"


def candidate(row_id: int, **overrides: Any) -> Candidate:
    row: dict[str, Any] = {
        "artist_id": f"{GOOD_ID[:-2]}{row_id:02d}",
        "snapshot_date": DAY,
        "name": f"Artist {row_id}",
        "followers": 1_000_000,
        "popularity": 50,
    }
    followers_type = overrides.pop("followers_json_type", "integer")
    row.update(overrides)
    return Candidate(row_id, row, {"row": row_id}, "part-0", followers_type)


def validate(
    candidates: list[Candidate],
    *,
    previous: dict[str, PreviousCount] | None = None,
    backdated: bool = False,
    max_rows: int | None = 100,
) -> SuiteOutcome:
    rows = silver_check_rows(candidates, day=DAY, previous=previous or {}, backdated=backdated)
    return quality_context().validate_silver(
        rows, day=DAY, max_rows=max_rows, max_daily_follower_change=0.05, engine="pandas"
    )


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"artist_id": None}, ["artist_id_present"]),
        ({"artist_id": "4YRxDV8wJFPHPTeXepOst!"}, ["artist_id_format"]),
        ({"artist_id": "4YRxDV8wJFPHPTeXepOs"}, ["artist_id_format"]),
        ({"snapshot_date": date(2026, 10, 31)}, ["snapshot_date_is_day"]),
        ({"name": None}, ["name_present"]),
        ({"followers": None, "followers_json_type": None}, ["followers_present"]),
        (
            {"followers": None, "followers_json_type": "number"},
            ["followers_present", "followers_integer"],
        ),
        ({"followers": -1}, ["followers_in_range"]),
        ({"followers": 2_000_000_000}, ["followers_in_range"]),
        ({"popularity": 101}, ["popularity_null_or_in_range"]),
        ({"popularity": None}, []),
        ({"followers": 1_999_999_999, "popularity": 0}, []),
    ],
)
def test_each_row_check_names_the_failing_row(overrides: dict[str, Any], failed: list[str]) -> None:
    outcome = validate([candidate(0), candidate(7, **overrides)])
    assert outcome.row_failures() == ({7: failed} if failed else {})
    assert [r.name for r in outcome.failed] == failed
    assert outcome.success is (not failed)


def test_duplicates_fail_uniqueness_and_the_preferred_copy_loads() -> None:
    first, second = candidate(0), candidate(1, artist_id=candidate(0).row["artist_id"])
    outcome = validate([first, second, candidate(2)])
    assert outcome.row_failures() == {0: ["artist_day_unique"], 1: ["artist_day_unique"]}
    verdict = judge([first, second, candidate(2)], outcome, preference=lambda c: c.row_id)
    assert [c.row_id for c in verdict.good] == [1, 2]
    assert [(q.candidate.row_id, q.failed_expectations) for q in verdict.quarantined] == [
        (0, ("artist_day_unique",))
    ]


def test_row_count_is_checked_against_the_roster_without_quarantining() -> None:
    outcome = validate([candidate(0), candidate(1), candidate(2)], max_rows=2)
    [failed] = outcome.failed
    assert (failed.name, failed.row_level, failed.observed_value) == (
        "row_count_within_roster",
        False,
        3,
    )
    assert outcome.row_failures() == {}
    assert validate([candidate(0)], max_rows=None).success  # an old manifest: no roster size


def test_follower_jump_and_backdated_fetch_are_warnings_only() -> None:
    jumped = candidate(1, followers=1_200_000)  # +20% in two days: 10% a day
    steady = candidate(2, followers=1_000_100)
    previous = {
        jumped.row["artist_id"]: PreviousCount(date(2026, 10, 30), 1_000_000),
        steady.row["artist_id"]: PreviousCount(date(2026, 10, 31), 1_000_000),
    }
    outcome = validate([jumped, steady], previous=previous, backdated=True)
    assert outcome.success  # warnings never fail the suite
    assert outcome.row_failures() == {}
    assert outcome.row_failures(severity="warning") == {
        1: ["follower_change_within_bound", "fetch_not_backdated"],
        2: ["fetch_not_backdated"],
    }
    verdict = judge([jumped, steady], outcome, preference=lambda c: c.row_id)
    assert [c.row_id for c in verdict.good] == [1, 2]


def test_bronze_suite_flags_sha_parse_and_count_mismatches() -> None:
    parts = [
        PartCheck("ok", "a" * 64, "a" * 64, 2, 2, True),
        PartCheck("tampered", "a" * 64, "b" * 64, 2, 2, True),
        PartCheck("missing", "a" * 64, None, 2, None, False, "missing"),
        PartCheck("garbled", "c" * 64, "c" * 64, 2, None, False, "not JSON"),
        PartCheck("short", "d" * 64, "d" * 64, 3, 2, True),
    ]
    outcome = quality_context().validate_bronze(parts)
    assert not outcome.success
    failures = {r.name: r.unexpected_row_ids for r in outcome.results}
    assert failures == {
        "bronze_part_sha256_matches": (1, 2),
        "bronze_part_parses": (2, 3),
        "bronze_part_record_count_matches": (2, 3, 4),
    }


def test_the_context_is_built_once_per_process() -> None:
    assert quality_context() is quality_context()
