"""MERGE one day into silver: one commit per load that changes something, none otherwise.

The rules (ARCHITECTURE.md, "Data"):

* a load of day D touches only rows of D: ``t.snapshot_date = DATE 'D'`` is in the ON clause;
* business columns are compared null-safely (``<=>``) and only changed rows are updated;
* a re-run that changes nothing makes no commit: the changed rows are computed first and
  the MERGE is skipped when there are none (a copy-on-write MERGE whose matches change
  nothing would still rewrite files and commit). They are materialized with
  ``localCheckpoint``, not ``cache()``: a cached plan over the target table makes Spark
  re-cache inside the Iceberg commit, which deadlocks the SQLite catalog (SQLITE_BUSY);
* a load that changes something is one commit whose summary has ``snapshot_date``,
  ``run_id`` (and a ``load_id`` naming this attempt).

The tag ``snapshot-D`` that follows the commit, and the repair of missing or stale tags, are
the load-tag rule's (:mod:`catalog.iceberg.tags`), applied with Spark by
:mod:`catalog.iceberg.tags.with_spark` (:func:`glue.transform.load_day` calls both).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from catalog.iceberg.tables import SILVER_BUSINESS_COLUMNS
from catalog.iceberg.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE
from glue.commit import sql_with_commit_properties

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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
