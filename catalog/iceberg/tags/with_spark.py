"""Load tags with Spark SQL: maintenance's upkeep (and a Spark-side repair of silver's tags).

The job's own loads tag with pyiceberg, in the load's commit
(:mod:`catalog.iceberg.tags.with_pyiceberg`): reading the ``refs``/``snapshots``/``history``
metadata tables through Spark cost the daily load 0.3-0.5 s, more than its write.

Carries out what :mod:`catalog.iceberg.tags.rule` decides, with Iceberg's Spark SQL
extensions (``ALTER TABLE ... CREATE OR REPLACE TAG ... RETAIN n DAYS``, ``DROP TAG``), and
reads what it decides from through the metadata tables (``refs``, ``snapshots``,
``history``). The session is passed in: nothing here imports pyspark at module level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from catalog.iceberg.tags.rule import (
    SUMMARY_SNAPSHOT_DATE,
    LoadTag,
    TagPlan,
    load_tag_date,
    plan_load_tag,
    plan_repairs,
    plan_upkeep,
    tag_name,
)
from catalog.iceberg.timetravel import utc_from_millis

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def apply(spark: SparkSession, table: str, plan: TagPlan) -> None:
    """Create the tag, or replace it (move, re-age): one metadata commit."""
    spark.sql(
        f"ALTER TABLE {table} CREATE OR REPLACE TAG `{plan.name}` "
        f"AS OF VERSION {plan.snapshot_id} RETAIN {plan.retain_days} DAYS"
    )


def drop(spark: SparkSession, table: str, name: str) -> None:
    spark.sql(f"ALTER TABLE {table} DROP TAG IF EXISTS `{name}`")


def read_load_tags(spark: SparkSession, table: str) -> list[LoadTag]:
    """The table's load tags (``refs`` of type tag named ``snapshot-D``), oldest day first."""
    rows = spark.sql(
        f"SELECT name, type, snapshot_id, max_reference_age_in_ms FROM {table}.refs"
    ).collect()
    tags: list[LoadTag] = []
    for row in rows:
        day = load_tag_date(row["name"], row["type"])
        if day is None:
            continue
        age = row["max_reference_age_in_ms"]
        max_age = int(age) if age is not None else None
        tags.append(LoadTag(row["name"], day, int(row["snapshot_id"]), max_age))
    return sorted(tags, key=lambda t: t.day)


@dataclass(frozen=True)
class LoadCommit:
    snapshot_id: int
    snapshot_date: date
    committed_at: datetime  # UTC


def load_commits(spark: SparkSession, table: str) -> list[LoadCommit]:
    """Commits on main's history that loaded a day (summary has ``snapshot_date``), oldest
    first. Commit times are read as epoch milliseconds (see :func:`utc_from_millis`)."""
    rows = spark.sql(
        f"""
        SELECT s.snapshot_id, unix_millis(s.committed_at) AS committed_ms,
               s.summary['{SUMMARY_SNAPSHOT_DATE}'] AS day
        FROM {table}.snapshots s
        JOIN {table}.history h ON h.snapshot_id = s.snapshot_id
        WHERE h.is_current_ancestor AND s.summary['{SUMMARY_SNAPSHOT_DATE}'] IS NOT NULL
        ORDER BY s.committed_at
        """
    ).collect()
    return [_load_commit(r) for r in rows]


def _load_commit(row: Any) -> LoadCommit:
    return LoadCommit(
        int(row["snapshot_id"]),
        date.fromisoformat(row["day"]),
        utc_from_millis(int(row["committed_ms"])),
    )


def commit_times(spark: SparkSession, table: str) -> dict[int, datetime]:
    """Each retained snapshot's commit time, in UTC (see :func:`utc_from_millis`)."""
    rows = spark.sql(
        f"SELECT snapshot_id, unix_millis(committed_at) AS committed_ms FROM {table}.snapshots"
    ).collect()
    return {int(r["snapshot_id"]): utc_from_millis(int(r["committed_ms"])) for r in rows}


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def set_load_tag(
    spark: SparkSession,
    table: str,
    day: date,
    snapshot_id: int,
    retention_days: int,
    *,
    today: date | None = None,
) -> str | None:
    """Point ``snapshot-D`` at ``snapshot_id``, the load of ``day`` just committed; the tag's
    name, or ``None`` (logged) for a day beyond the retention (``today`` UTC, default now)."""
    today = _today(today)
    plan = plan_load_tag(day, snapshot_id, retention_days, today)
    if plan is None:
        log.warning(
            "not tagging %s: %s is more than %d days before %s (tag retention), so an as-of "
            "read of that day stays an error",
            tag_name(day),
            day.isoformat(),
            retention_days,
            today.isoformat(),
        )
        return None
    apply(spark, table, plan)
    return plan.name


def repair_load_tags(
    spark: SparkSession, table: str, retention_days: int, *, today: date | None = None
) -> list[str]:
    """Make every retained day's tag name its latest load on main (:func:`plan_repairs`);
    returns the tags set. Days beyond the retention (``today`` UTC) are logged, not tagged."""
    latest: dict[date, int] = {}
    for commit in load_commits(spark, table):
        latest[commit.snapshot_date] = commit.snapshot_id  # oldest first: last one wins
    tagged = {t.day: t.snapshot_id for t in read_load_tags(spark, table)}
    repairs = plan_repairs(latest, tagged, retention_days, _today(today))
    for plan in repairs.plans:
        apply(spark, table, plan)
    if repairs.aged_out:
        log.info(
            "%d load day(s) of %s are beyond the %d-day tag retention, their tags are not "
            "repaired (%s .. %s)",
            len(repairs.aged_out),
            table,
            retention_days,
            repairs.aged_out[0].isoformat(),
            repairs.aged_out[-1].isoformat(),
        )
    return [plan.name for plan in repairs.plans]


def upkeep_load_tags(
    spark: SparkSession, table: str, *, retention_days: int, today: date, now: datetime
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Maintenance's pass over the tags (:func:`plan_upkeep`): the names dropped, extended."""
    upkeep = plan_upkeep(
        read_load_tags(spark, table),
        commit_times(spark, table),
        retention_days=retention_days,
        today=today,
        now=now,
    )
    for name in upkeep.drop:
        drop(spark, table, name)
    for plan in upkeep.extend:
        apply(spark, table, plan)
    return upkeep.drop, tuple(plan.name for plan in upkeep.extend)
