"""The two business questions, unchanged Athena SQL, on today's UTC data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.views.conftest import Artist, SilverWriter
from tests.views.expected import avg_daily_gained, gold_rows
from views.local import LocalEngine
from views.sqlfiles import (
    AVG_DAILY_FOLLOWERS_GAINED,
    BUSINESS_QUESTIONS,
    TOP_5_MOST_FOLLOWED_TODAY,
    load_sql,
)

ARTISTS = [Artist(f"artist{i:02d}", f"Artist {i}") for i in range(7)]


def _today() -> datetime:
    return datetime.now(UTC)


def _load(silver: SilverWriter) -> None:
    today = _today().date()
    # Yesterday the order is reversed, so "today" must really filter on today's date.
    silver.load(today - timedelta(3), {a: 1_000 * (i + 1) for i, a in enumerate(ARTISTS)})
    silver.load(today - timedelta(1), {a: 100_000 - 1_000 * i for i, a in enumerate(ARTISTS)})
    silver.load(today, {a: 100_000 - 1_000 * i + 7 * i * i for i, a in enumerate(ARTISTS)})


def test_both_questions_are_shipped() -> None:
    assert set(BUSINESS_QUESTIONS) == {TOP_5_MOST_FOLLOWED_TODAY, AVG_DAILY_FOLLOWERS_GAINED}
    assert "CAST(date as DATE)=CURRENT_DATE" in load_sql(TOP_5_MOST_FOLLOWED_TODAY)
    assert "CAST(avg(Followers_Gained) as INT)" in load_sql(AVG_DAILY_FOLLOWERS_GAINED)


def test_top_5_most_followed_today(silver: SilverWriter, engine: LocalEngine) -> None:
    _load(silver)
    today = _today().date()

    result = engine.execute(load_sql(TOP_5_MOST_FOLLOWED_TODAY))

    todays = [r for r in gold_rows(silver.rows()) if r["date"] == today]
    expected = sorted(todays, key=lambda r: -r["followers"])[:5]
    assert [(r["artist_id"], r["followers"]) for r in result.to_records()] == [
        (r["artist_id"], r["followers"]) for r in expected
    ]
    assert {r["date"] for r in result.to_records()} == {today}
    assert [r["follower_rank"] for r in result.to_records()] == [1, 2, 3, 4, 5]


def test_average_daily_followers_gained(silver: SilverWriter, engine: LocalEngine) -> None:
    _load(silver)
    # a single-day artist has no gain at all: NULL, sorted last
    silver.load(_today().date(), {**{a: 1 for a in ARTISTS}, Artist("solo", "Solo"): 9})

    result = engine.execute(load_sql(AVG_DAILY_FOLLOWERS_GAINED))

    assert result.columns == ("name", "avg_daily_followers_gained")
    assert list(result.rows) == avg_daily_gained(gold_rows(silver.rows()))
    assert result.rows[-1] == ("Solo", None)


def test_current_date_is_the_utc_date(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """CURRENT_DATE is the UTC date even where the process's local date is another day.

    The zone is chosen now so the local date really differs from the UTC date: UTC+14 in
    the UTC afternoon, UTC-12 in the UTC morning. A local-zone CURRENT_DATE cannot pass.
    """
    utc_hour = _today().hour
    monkeypatch.setenv("TZ", "Pacific/Kiritimati" if utc_hour >= 12 else "Etc/GMT+12")
    time.tzset()
    try:
        before = _today().date()
        local = datetime.now().date()  # the local date is the point here
        assert local != before, "precondition: the local date must differ from the UTC date"
        (value,) = engine.execute("SELECT CURRENT_DATE AS today").column("today")
        assert value in {before, _today().date()}
    finally:
        monkeypatch.undo()
        time.tzset()
