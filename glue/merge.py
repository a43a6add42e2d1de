"""MERGE one day into silver and keep the daily load tags right.

The rules (ARCHITECTURE.md, "Data"):

* a load of day D touches only rows of D: ``t.snapshot_date = DATE 'D'`` is in the ON clause;
* business columns are compared null-safely (``<=>``) and only changed rows are updated;
* a re-run that changes nothing makes no commit: the changed rows are computed first and
  the MERGE is skipped when there are none (a copy-on-write MERGE whose matches change
  nothing would still rewrite files and commit). They are materialized with
  ``localCheckpoint``, not ``cache()``: a cached plan over the target table makes Spark
  re-cache inside the Iceberg commit, which deadlocks the SQLite catalog (SQLITE_BUSY);
* a load that changes something is one commit whose summary has ``snapshot_date``,
  ``run_id`` (and a ``load_id`` naming this attempt), then tag ``snapshot-D`` points at it;
* a tag that went missing, or that names an older load of D than the latest one on main
  (the job died between the MERGE and the tag), is re-created from the snapshot summaries;
* a day beyond the tag retention gets no tag (:func:`catalog.iceberg.tags.tag_retained`, the
  one rule maintenance drops tags by), so a late backfill is never tagged, dropped, re-tagged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from catalog.iceberg.tables import SILVER_BUSINESS_COLUMNS
from catalog.iceberg.tags import (
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    tag_date,
    tag_name,
    tag_retained,
)
from catalog.iceberg.timetravel import utc_from_millis
from glue.commit import sql_with_commit_properties

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

#: Snapshot-summary property that names one load attempt, so the job finds its own commit
#: even when another writer commits right after it.
SUMMARY_LOAD_ID = "load_id"


@dataclass(frozen=True)
class MergeOutcome:
    inserted: int
    updated: int
    snapshot_id: int | None  # None: nothing changed, no commit

    @property
    def committed(self) -> bool:
        return self.snapshot_id is not None


def _day_literal(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _unchanged(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in columns)


def merge_day(
    spark: SparkSession,
    table: str,
    source: DataFrame,
    *,
    day: date,
    run_id: str,
    business_columns: tuple[str, ...] = SILVER_BUSINESS_COLUMNS,
) -> MergeOutcome:
    """MERGE ``source`` (rows of ``day`` only, one per artist_id) into ``table``."""
    token = uuid.uuid4().hex
    source_view, changes_view = f"silver_source_{token}", f"silver_changes_{token}"
    source.createOrReplaceTempView(source_view)
    unchanged = _unchanged(business_columns)
    try:
        changes = spark.sql(
            f"""
            SELECT s.*, t.artist_id IS NULL AS `_is_new`
            FROM {source_view} s
            LEFT JOIN {table} t
              ON t.snapshot_date = {_day_literal(day)} AND t.artist_id = s.artist_id
            WHERE t.artist_id IS NULL OR NOT ({unchanged})
            """
        ).localCheckpoint(eager=True)
        summary = changes.selectExpr(
            "count_if(`_is_new`) AS inserted", "count_if(NOT `_is_new`) AS updated"
        ).first()
        assert summary is not None  # an aggregate without GROUP BY always has one row
        inserted, updated = int(summary["inserted"] or 0), int(summary["updated"] or 0)
        if inserted + updated == 0:
            return MergeOutcome(0, 0, None)
        changes.drop("_is_new").createOrReplaceTempView(changes_view)
        load_id = token
        sql_with_commit_properties(
            spark,
            f"""
            MERGE INTO {table} t
            USING {changes_view} s
            ON t.snapshot_date = {_day_literal(day)} AND t.artist_id = s.artist_id
            WHEN MATCHED AND NOT ({unchanged}) THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *
            """,
            {
                SUMMARY_SNAPSHOT_DATE: day.isoformat(),
                SUMMARY_RUN_ID: run_id,
                SUMMARY_LOAD_ID: load_id,
            },
        )
        return MergeOutcome(inserted, updated, _snapshot_of_load(spark, table, load_id))
    finally:
        spark.catalog.dropTempView(source_view)
        spark.catalog.dropTempView(changes_view)


def _snapshot_of_load(spark: SparkSession, table: str, load_id: str) -> int:
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots "
        f"WHERE summary['{SUMMARY_LOAD_ID}'] = '{load_id}' ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    if not rows:
        raise RuntimeError(f"the MERGE for load {load_id} committed no snapshot to {table}")
    return int(rows[0]["snapshot_id"])


def set_load_tag(
    spark: SparkSession,
    table: str,
    day: date,
    snapshot_id: int,
    retention_days: int,
    *,
    today: date | None = None,
) -> str | None:
    """Create or replace ``snapshot-D`` so it names the latest load of D; the tag's name.

    A day already beyond the tag retention (``today`` UTC, default now) gets no tag:
    maintenance would drop it (:func:`catalog.iceberg.tags.tag_retained`). Returns ``None``
    then, and logs it.
    """
    name = tag_name(day)
    today = today or datetime.now(UTC).date()
    if not tag_retained(day, today, retention_days):
        log.warning(
            "not tagging %s: %s is more than %d days before %s (tag retention), so an as-of "
            "read of that day stays an error",
            name,
            day.isoformat(),
            retention_days,
            today.isoformat(),
        )
        return None
    spark.sql(
        f"ALTER TABLE {table} CREATE OR REPLACE TAG `{name}` "
        f"AS OF VERSION {snapshot_id} RETAIN {retention_days} DAYS"
    )
    return name


@dataclass(frozen=True)
class LoadCommit:
    snapshot_id: int
    snapshot_date: date
    committed_at: datetime  # UTC


def load_commits(spark: SparkSession, table: str) -> list[LoadCommit]:
    """Commits on main's history that loaded a day (summary has ``snapshot_date``).

    The commit time is read as epoch milliseconds: a collected ``TimestampType`` is
    converted in the Python process's local zone, not the Spark session's.
    """
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


def repair_tags(
    spark: SparkSession, table: str, retention_days: int, *, today: date | None = None
) -> list[str]:
    """Make every retained day's tag name its latest load on main; returns the tags set.

    A tag is (re-)created when it is missing, or when it names another snapshot than the
    latest load commit of its day on main's history (the job died after a re-load's MERGE
    and before :func:`set_load_tag`; a run that changes nothing would never move it).
    A day beyond the tag retention (:func:`catalog.iceberg.tags.tag_retained`, ``today`` UTC)
    is left alone: maintenance removed its tag on purpose, or will.
    """
    today = today or datetime.now(UTC).date()
    latest: dict[date, LoadCommit] = {}
    for commit in load_commits(spark, table):
        latest[commit.snapshot_date] = commit  # ordered by committed_at: last one wins
    tagged = {
        d: int(r["snapshot_id"])
        for r in spark.sql(
            f"SELECT name, snapshot_id FROM {table}.refs WHERE type = 'TAG'"
        ).collect()
        if (d := tag_date(r["name"])) is not None
    }
    repaired: list[str] = []
    aged_out: list[date] = []
    for day, commit in sorted(latest.items()):
        if tagged.get(day) == commit.snapshot_id:
            continue
        if not tag_retained(day, today, retention_days):
            aged_out.append(day)
            continue
        name = set_load_tag(spark, table, day, commit.snapshot_id, retention_days, today=today)
        if name is not None:
            repaired.append(name)
    if aged_out:
        log.info(
            "%d load day(s) of %s are beyond the %d-day tag retention, their tags are not "
            "repaired (%s .. %s)",
            len(aged_out),
            table,
            retention_days,
            aged_out[0].isoformat(),
            aged_out[-1].isoformat(),
        )
    return repaired
