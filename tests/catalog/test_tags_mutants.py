"""The load-tag rule (:mod:`catalog.iceberg.tags.rule`) case by case, and its Spark applier
on a recording stand-in for the session: no JVM, no catalog, microseconds per case.

The end-to-end tests (``tests/glue/test_transform.py``, ``tests/catalog/test_maintenance.py``,
``tests/expectations/test_persist.py``) apply the rule to real tables; this module pins down
every boundary of the decisions themselves, for mutmut (docs/mutation-testing.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from catalog.iceberg.tags import (
    DEFAULT_TAG_RETENTION_DAYS,
    MS_PER_DAY,
    Hold,
    LoadTag,
    Repairs,
    TagPlan,
    Upkeep,
    as_of_tag,
    load_tag_date,
    needed_max_ref_age_ms,
    plan_load_tag,
    plan_repairs,
    plan_side_table_tag,
    plan_upkeep,
    retention_days_of,
    tag_retained,
    tag_retention_ms,
    with_spark,
)

TODAY = date(2026, 11, 24)


def d(n: int) -> date:
    return date(2026, 11, n)


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --- naming and retention ------------------------------------------------------------------


@pytest.mark.parametrize("ref_type", ["TAG", "tag", "Tag"])
def test_a_load_tag_is_a_tag_named_by_its_day(ref_type: str) -> None:
    assert load_tag_date("snapshot-2026-11-05", ref_type) == d(5)


@pytest.mark.parametrize(
    ("name", "ref_type"),
    [("snapshot-2026-11-05", "BRANCH"), ("snapshot-2026-11-05", "branch"), ("main", "TAG")],
)
def test_other_refs_are_not_load_tags(name: str, ref_type: str) -> None:
    assert load_tag_date(name, ref_type) is None


def test_retention_counts_whole_days_and_keeps_the_last_one() -> None:
    assert DEFAULT_TAG_RETENTION_DAYS == 400
    assert tag_retained(TODAY - timedelta(days=400), TODAY, 400)
    assert not tag_retained(TODAY - timedelta(days=401), TODAY, 400)
    assert tag_retained(TODAY + timedelta(days=1), TODAY, 400)
    assert tag_retained(TODAY, TODAY, 0)


def test_a_tag_kept_n_days_has_n_days_of_milliseconds() -> None:
    assert MS_PER_DAY == 86_400_000
    assert tag_retention_ms(3) == 3 * 86_400_000
    assert tag_retention_ms() == 400 * 86_400_000


@pytest.mark.parametrize(
    ("ages", "days"),
    [
        ([], 400),
        ([None, None], 400),
        ([None, 30 * MS_PER_DAY], 30),
        ([10 * MS_PER_DAY, 30 * MS_PER_DAY, 20 * MS_PER_DAY], 30),
        ([MS_PER_DAY * 3 // 2], 2),  # rounded
        ([MS_PER_DAY * 5 // 4], 1),
        ([1000], 1),  # at least a day
    ],
)
def test_retention_in_days_from_the_tags_age_limits(ages: list[int | None], days: int) -> None:
    assert retention_days_of(ages) == days


def test_the_age_a_tag_needs_runs_to_the_end_of_its_last_retained_day() -> None:
    day = d(1)
    commit = at(day, 7)
    end = at(day + timedelta(days=401))  # the first day past 400 days of retention
    needed = needed_max_ref_age_ms(day, commit, 400, now=at(day, 8))
    assert needed == (end - commit).total_seconds() * 1000
    assert needed > tag_retention_ms(400)  # a tag made with RETAIN 400 DAYS needs more
    later = end + timedelta(hours=5)
    assert needed_max_ref_age_ms(day, commit, 400, now=later) == (
        (later - commit).total_seconds() * 1000
    )


# --- create / move -------------------------------------------------------------------------


def test_a_plan_names_the_day_the_snapshot_and_the_retention() -> None:
    plan = plan_load_tag(d(20), 7, 30, TODAY)
    assert plan == TagPlan("snapshot-2026-11-20", 7, 30)
    assert plan.max_ref_age_ms == 30 * MS_PER_DAY
    assert plan.done_by(7, 30 * MS_PER_DAY)
    assert not plan.done_by(8, 30 * MS_PER_DAY)
    assert not plan.done_by(7, 31 * MS_PER_DAY)
    assert not plan.done_by(7, None)
    assert not plan.done_by(None, 30 * MS_PER_DAY)


def test_a_day_beyond_retention_gets_no_tag() -> None:
    assert plan_load_tag(TODAY - timedelta(days=10), 1, 10, TODAY) is not None
    assert plan_load_tag(TODAY - timedelta(days=11), 1, 10, TODAY) is None


def test_repairs_tag_missing_and_stale_days_of_retention_only() -> None:
    latest = {d(24): 40, d(20): 20, d(22): 22, d(10): 10, d(11): 11, d(21): 21}
    tagged = {d(20): 20, d(22): 5, d(10): 10, d(23): 23}  # 22 stale; 21, 24, 11 missing
    repairs = plan_repairs(latest, tagged, 12, TODAY)
    assert repairs == Repairs(
        plans=(
            TagPlan("snapshot-2026-11-21", 21, 12),
            TagPlan("snapshot-2026-11-22", 22, 12),
            TagPlan("snapshot-2026-11-24", 40, 12),
        ),
        aged_out=(d(11),),  # d(10) is beyond retention too, but its tag is right: not listed
    )
    assert plan_repairs({}, tagged, 12, TODAY) == Repairs((), ())


def test_aged_out_days_are_listed_oldest_first() -> None:
    repairs = plan_repairs({d(3): 3, d(1): 1, d(2): 2}, {}, 1, TODAY)
    assert repairs == Repairs((), (d(1), d(2), d(3)))


def side(**kwargs: Any) -> TagPlan | Hold:
    arguments: dict[str, Any] = {
        "committed": False,
        "tagged": False,
        "latest_load": None,
        "current": None,
        "retention_days": 30,
        "today": TODAY,
    }
    return plan_side_table_tag(d(20), **(arguments | kwargs))


def test_a_side_table_commit_moves_the_tag_to_the_days_latest_load() -> None:
    plan = TagPlan("snapshot-2026-11-20", 5, 30)
    assert side(committed=True, tagged=True, latest_load=5, current=9) == plan
    assert side(committed=True, latest_load=5) == plan


def test_a_side_table_commit_without_a_load_on_main_is_an_error() -> None:
    with pytest.raises(LookupError, match="no commit of 2026-11-20 on the main branch"):
        side(committed=True, current=9)


def test_without_a_commit_a_side_tables_tag_stays() -> None:
    assert side(tagged=True, latest_load=5, current=9) is Hold.TAG_STAYS


def test_a_missing_side_table_tag_names_the_latest_load_else_the_current_state() -> None:
    assert side(latest_load=5, current=9) == TagPlan("snapshot-2026-11-20", 5, 30)
    assert side(current=9) == TagPlan("snapshot-2026-11-20", 9, 30)
    assert side() is Hold.NOTHING_TO_TAG


def test_a_side_table_day_beyond_retention_is_held_before_anything_else() -> None:
    old = {"retention_days": 3}
    assert side(**old) is Hold.BEYOND_RETENTION  # no empty commit either
    assert side(tagged=True, **old) is Hold.BEYOND_RETENTION
    assert side(committed=True, **old) is Hold.BEYOND_RETENTION
    assert side(committed=True, latest_load=5, retention_days=4) == TagPlan(
        "snapshot-2026-11-20", 5, 4
    )


# --- upkeep (maintenance) ------------------------------------------------------------------


def tag(day: date, snapshot_id: int, age_days: float | None) -> LoadTag:
    age = None if age_days is None else round(age_days * MS_PER_DAY)
    return LoadTag(f"snapshot-{day.isoformat()}", day, snapshot_id, age)


def test_upkeep_drops_tags_past_retention_and_extends_short_ones() -> None:
    now = at(TODAY, 12)
    tags = [
        tag(d(22), 22, None),  # no age limit: kept as it is
        tag(d(23), 99, 1),  # its snapshot is not retained: left alone
        tag(d(2), 2, 400),  # 22 days old, retention 20: dropped
        tag(d(1), 1, 400),  # dropped
        tag(d(20), 20, 3),  # committed d(20) 06:00; needs until d(20) + 21 days: extended
        tag(d(10), 10, 1),  # extended
        tag(d(21), 21, 400),  # long enough: kept as it is
    ]
    commits = {n: at(d(n), 6) for n in (1, 2, 10, 20, 21, 22)}
    upkeep = plan_upkeep(tags, commits, retention_days=20, today=TODAY, now=now)
    # needed: from 06:00 of the commit day to 00:00 of day + 21 = 20.75 days -> RETAIN 21
    assert upkeep == Upkeep(
        drop=("snapshot-2026-11-01", "snapshot-2026-11-02"),
        extend=(
            TagPlan("snapshot-2026-11-10", 10, 21),
            TagPlan("snapshot-2026-11-20", 20, 21),
        ),
    )


def test_upkeep_leaves_a_tag_whose_age_limit_is_exactly_enough() -> None:
    day = d(20)
    commit = at(day)
    exact = needed_max_ref_age_ms(day, commit, 20, at(TODAY))
    kept = LoadTag("snapshot-2026-11-20", day, 20, int(exact))
    assert plan_upkeep([kept], {20: commit}, retention_days=20, today=TODAY, now=at(TODAY)) == (
        Upkeep((), ())
    )
    short = LoadTag("snapshot-2026-11-20", day, 20, int(exact) - 1)
    assert plan_upkeep([short], {20: commit}, retention_days=20, today=TODAY, now=at(TODAY)) == (
        Upkeep((), (TagPlan("snapshot-2026-11-20", 20, 21),))
    )


def test_upkeep_rounds_the_needed_age_up_to_whole_days() -> None:
    day = d(20)
    commit = at(day, 18)  # needs 20.25 days: RETAIN 21
    upkeep = plan_upkeep(
        [tag(day, 20, 1)], {20: commit}, retention_days=20, today=TODAY, now=at(TODAY)
    )
    assert upkeep.extend == (TagPlan("snapshot-2026-11-20", 20, 21),)
    upkeep = plan_upkeep(
        [tag(day, 20, 1)], {20: at(day)}, retention_days=20, today=TODAY, now=at(TODAY)
    )
    assert upkeep.extend == (TagPlan("snapshot-2026-11-20", 20, 21),)


# --- as-of ---------------------------------------------------------------------------------


def test_as_of_picks_the_latest_tag_at_or_before_the_day() -> None:
    tags = [tag(d(5), 5, None), tag(d(1), 1, None), tag(d(3), 3, None)]
    assert as_of_tag(tags, d(3)) == tags[2]
    assert as_of_tag(tags, d(4)) == tags[2]
    assert as_of_tag(tags, d(30)) == tags[0]
    assert as_of_tag(tags, d(1)) == tags[1]
    assert as_of_tag(tags, date(2026, 10, 31)) is None
    assert as_of_tag([], d(3)) is None


# --- the Spark applier, on a recording stand-in ----------------------------------------------


@dataclass
class RecordingSpark:
    """Answers ``SELECT`` from canned rows (by the metadata table it reads), records the rest."""

    refs: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    def sql(self, statement: str) -> RecordingSpark.Result:
        text = " ".join(statement.split())
        if text.startswith("SELECT"):
            if ".history" in text:
                return self.Result(self.loads)
            return self.Result(self.refs if text.endswith(".refs") else self.snapshots)
        self.statements.append(text)
        return self.Result([])

    @dataclass
    class Result:
        rows: list[dict[str, Any]]

        def collect(self) -> list[dict[str, Any]]:
            return self.rows


T = "lakehouse.spotify.artists_silver"


def ref(name: str, snapshot_id: int, kind: str = "TAG", age: int | None = None) -> dict[str, Any]:
    return {"name": name, "type": kind, "snapshot_id": snapshot_id, "max_reference_age_in_ms": age}


def test_spark_sets_a_load_tag_with_one_statement() -> None:
    spark = RecordingSpark()
    name = with_spark.set_load_tag(spark, T, d(20), 7, 30, today=TODAY)  # type: ignore[arg-type]
    assert name == "snapshot-2026-11-20"
    assert spark.statements == [
        f"ALTER TABLE {T} CREATE OR REPLACE TAG `snapshot-2026-11-20` AS OF VERSION 7 "
        "RETAIN 30 DAYS"
    ]


def test_spark_sets_no_tag_beyond_retention(caplog: pytest.LogCaptureFixture) -> None:
    spark = RecordingSpark()
    assert with_spark.set_load_tag(spark, T, d(1), 7, 10, today=TODAY) is None  # type: ignore[arg-type]
    assert spark.statements == []
    assert "not tagging snapshot-2026-11-01" in caplog.text


def test_spark_reads_load_tags_from_refs() -> None:
    spark = RecordingSpark(
        refs=[
            ref("snapshot-2026-11-03", 3, age=5),
            ref("main", 3, "BRANCH"),
            ref("snapshot-2026-11-01", 1),
            ref("snapshot-2026-11-02", 2, "BRANCH"),
        ]
    )
    assert with_spark.read_load_tags(spark, T) == [  # type: ignore[arg-type]
        LoadTag("snapshot-2026-11-01", d(1), 1, None),
        LoadTag("snapshot-2026-11-03", d(3), 3, 5),
    ]


def test_spark_repairs_from_the_latest_load_of_each_day() -> None:
    ms = int(at(d(20)).timestamp() * 1000)
    spark = RecordingSpark(
        refs=[ref("snapshot-2026-11-20", 1), ref("snapshot-2026-11-01", 5)],
        loads=[
            {"snapshot_id": 1, "committed_ms": ms, "day": "2026-11-20"},
            {"snapshot_id": 2, "committed_ms": ms + 1, "day": "2026-11-20"},  # the re-load
            {"snapshot_id": 3, "committed_ms": ms + 2, "day": "2026-11-21"},
            {"snapshot_id": 4, "committed_ms": ms + 3, "day": "2026-11-02"},  # aged out
        ],
    )
    repaired = with_spark.repair_load_tags(spark, T, 10, today=TODAY)  # type: ignore[arg-type]
    assert repaired == ["snapshot-2026-11-20", "snapshot-2026-11-21"]
    assert spark.statements == [
        f"ALTER TABLE {T} CREATE OR REPLACE TAG `snapshot-2026-11-20` AS OF VERSION 2 "
        "RETAIN 10 DAYS",
        f"ALTER TABLE {T} CREATE OR REPLACE TAG `snapshot-2026-11-21` AS OF VERSION 3 "
        "RETAIN 10 DAYS",
    ]


def test_spark_upkeep_drops_and_re_creates() -> None:
    spark = RecordingSpark(
        refs=[
            ref("snapshot-2026-11-01", 1, age=400 * MS_PER_DAY),
            ref("snapshot-2026-11-20", 20, age=MS_PER_DAY),
        ],
        snapshots=[
            {"snapshot_id": n, "committed_ms": int(at(d(n)).timestamp() * 1000)} for n in (1, 20)
        ],
    )
    dropped, extended = with_spark.upkeep_load_tags(
        spark,  # type: ignore[arg-type]
        T,
        retention_days=20,
        today=TODAY,
        now=at(TODAY),
    )
    assert (dropped, extended) == (("snapshot-2026-11-01",), ("snapshot-2026-11-20",))
    assert spark.statements == [
        f"ALTER TABLE {T} DROP TAG IF EXISTS `snapshot-2026-11-01`",
        f"ALTER TABLE {T} CREATE OR REPLACE TAG `snapshot-2026-11-20` AS OF VERSION 20 "
        "RETAIN 21 DAYS",
    ]
