"""Write one day into silver: one commit per load that changes something, none otherwise.

The rules (ARCHITECTURE.md, "Data"):

* a load of day D touches only rows of D;
* **the first load of a day is an append** (:func:`append_day`): when silver has no file
  that may hold a row of D (:func:`catalog.iceberg.writes.day_has_files`, metadata only),
  the validated rows are appended with pyiceberg, and ``snapshot-D`` is set in the same
  catalog commit (:func:`catalog.iceberg.writes.commit_with_tags`). The commit requires
  ``main`` to be where it was when the table was read: a writer that got in between (a
  concurrent load of D) makes it fail and the caller decides again, so a first load can
  never be appended twice. No SparkSession is needed for it;
* **a re-load MERGEs** (:func:`merge_day`): ``t.snapshot_date = DATE 'D'`` is in the ON
  clause, business columns are compared null-safely (``<=>``) and only changed rows are
  updated; artists of D that the new bronze run no longer has (``present_ids``) are deleted
  in the same commit. A re-run that changes nothing makes no commit: the changes are
  computed first and the MERGE is skipped when there are none (a copy-on-write MERGE whose
  matches change nothing would still rewrite files and commit). The job computes them in
  Python first (:func:`day_changes`, from the day's rows read with pyiceberg), so an
  unchanged re-run starts no SparkSession; the MERGE computes them again in Spark, against
  the table as it commits to it. They are materialized with ``localCheckpoint``, not
  ``cache()``: a cached plan over the target table makes Spark re-cache inside the Iceberg
  commit, which deadlocks the SQLite catalog (SQLITE_BUSY);
* either way the load is one commit whose summary has ``snapshot_date``, ``run_id``, a
  ``load_id`` naming this attempt, and the rows it inserted, updated and deleted
  (:func:`load_properties`): the same keys for an append and a MERGE.

Which path a day takes, the tag that follows a MERGE and the repair of missing or stale tags
are decided by :func:`glue.transform.load_day` with the load-tag rule
(:mod:`catalog.iceberg.tags`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.iceberg.tables import SILVER_BUSINESS_COLUMNS
from catalog.iceberg.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE, TagPlan
from catalog.iceberg.writes import commit_with_tags
from glue.commit import sql_with_commit_properties

if TYPE_CHECKING:
    from pyiceberg.table import Table, Transaction
    from pyspark.sql import DataFrame, SparkSession

#: Snapshot-summary property that names one load attempt, so the job finds its own commit
#: even when another writer commits right after it.
SUMMARY_LOAD_ID = "load_id"
#: Snapshot-summary properties counting the rows a load inserted, updated and deleted (the
#: rows themselves, not Iceberg's ``added-records``, which counts every row of each file a
#: copy-on-write MERGE rewrote).
SUMMARY_INSERTED = "inserted_rows"
SUMMARY_UPDATED = "updated_rows"
SUMMARY_DELETED = "deleted_rows"
#: The summary keys every load commit of silver carries, append or MERGE.
LOAD_SUMMARY_KEYS = (
    SUMMARY_SNAPSHOT_DATE,
    SUMMARY_RUN_ID,
    SUMMARY_LOAD_ID,
    SUMMARY_INSERTED,
    SUMMARY_UPDATED,
    SUMMARY_DELETED,
)


@dataclass(frozen=True)
class MergeOutcome:
    inserted: int
    updated: int
    snapshot_id: int | None  # None: nothing changed, no commit
    deleted: int = 0
    #: The load was the day's first, appended (its tag is in the same commit).
    appended: bool = False

    @property
    def committed(self) -> bool:
        return self.snapshot_id is not None


def new_load_id() -> str:
    return uuid.uuid4().hex


def load_properties(
    day: date, run_id: str, load_id: str, *, inserted: int, updated: int, deleted: int
) -> dict[str, str]:
    """The snapshot summary of a load commit (:data:`LOAD_SUMMARY_KEYS`)."""
    return {
        SUMMARY_SNAPSHOT_DATE: day.isoformat(),
        SUMMARY_RUN_ID: run_id,
        SUMMARY_LOAD_ID: load_id,
        SUMMARY_INSERTED: str(inserted),
        SUMMARY_UPDATED: str(updated),
        SUMMARY_DELETED: str(deleted),
    }


def snapshot_of_load(table: Table, load_id: str) -> int | None:
    """The snapshot the load ``load_id`` committed to ``table`` (pyiceberg metadata), if any."""
    found = [
        s
        for s in table.metadata.snapshots
        if s.summary is not None and s.summary.additional_properties.get(SUMMARY_LOAD_ID) == load_id
    ]
    latest = max(found, key=lambda s: (s.sequence_number or 0, s.timestamp_ms), default=None)
    return latest.snapshot_id if latest is not None else None


def append_day(
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    day: date,
    run_id: str,
    load_id: str,
    tags: Callable[[int], Iterable[TagPlan]] = lambda _: (),
) -> MergeOutcome:
    """The first load of ``day``: append ``rows`` (silver columns, one per artist, all of
    ``day``) to ``table``, with the tags ``tags`` gives for the new snapshot, in one commit.

    The caller has checked, on this very ``table`` state, that it holds no row of ``day``;
    the commit fails (``CommitFailedException``) if ``main`` has moved since.
    """
    import pyarrow as pa

    data = pa.Table.from_pylist(list(rows), schema=table.schema().as_arrow())
    properties = load_properties(day, run_id, load_id, inserted=len(rows), updated=0, deleted=0)

    def stage(transaction: Transaction) -> None:
        transaction.append(data, snapshot_properties=properties)

    made = commit_with_tags(table, stage, lambda sid: tags(sid) if sid is not None else ())
    return MergeOutcome(len(rows), 0, made, appended=True)


@dataclass(frozen=True)
class DayChanges:
    """What a load of a day would change, against the rows the day has now."""

    inserted: tuple[str, ...]  # artist ids
    updated: tuple[str, ...]
    deleted: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


def day_changes(
    existing: Iterable[Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    *,
    present_ids: Collection[str],
    business_columns: tuple[str, ...] = SILVER_BUSINESS_COLUMNS,
) -> DayChanges:
    """The changes :func:`merge_day` would make, computed in Python from the day's rows as
    silver has them (``existing``) and the validated rows (``rows``): the same null-safe
    comparison of the business columns (``None`` equals ``None``, lists element-wise).
    A re-run whose answer is "nothing" needs no SparkSession at all."""
    before = {r["artist_id"]: r for r in existing}
    inserted, updated = [], []
    for row in rows:
        old = before.get(row["artist_id"])
        if old is None:
            inserted.append(row["artist_id"])
        elif any(old.get(c) != row.get(c) for c in business_columns):
            updated.append(row["artist_id"])
    deleted = sorted(a for a in before if a not in present_ids)
    return DayChanges(tuple(inserted), tuple(updated), tuple(deleted))


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
    present_ids: Collection[str] | None = None,
    load_id: str | None = None,
    find_snapshot: Callable[[str], int | None] | None = None,
) -> MergeOutcome:
    """MERGE ``source`` (rows of ``day`` only, one per artist_id) into ``table``.

    ``present_ids``: every artist the day's bronze run has (loaded or not); the rows of
    ``day`` of any other artist are deleted in the same commit. ``None`` deletes nothing.
    ``find_snapshot`` finds the commit of a load id (default: the table's ``snapshots``
    metadata table, through Spark).
    """
    token = uuid.uuid4().hex
    load_id = load_id or token
    source_view, changes_view = f"silver_source_{token}", f"silver_changes_{token}"
    present_view = f"silver_present_{token}"
    source.createOrReplaceTempView(source_view)
    columns = [f"`{c}`" for c in source.columns]
    unchanged = _unchanged(business_columns)
    on = f"t.snapshot_date = {_day_literal(day)} AND t.artist_id = s.artist_id"
    try:
        changed = f"""
            SELECT {", ".join(f"s.{c}" for c in columns)},
                   CASE WHEN t.artist_id IS NULL THEN 'insert' ELSE 'update' END AS `_op`
            FROM {source_view} s
            LEFT JOIN {table} t ON {on}
            WHERE t.artist_id IS NULL OR NOT ({unchanged})
            """
        if present_ids is not None:
            spark.createDataFrame(
                [(i,) for i in sorted(set(present_ids))], "artist_id string"
            ).createOrReplaceTempView(present_view)
            changed += f"""
            UNION ALL
            SELECT {", ".join(f"t.{c}" for c in columns)}, 'delete' AS `_op`
            FROM {table} t
            LEFT ANTI JOIN {present_view} p ON t.artist_id = p.artist_id
            WHERE t.snapshot_date = {_day_literal(day)}
            """
        changes = spark.sql(changed).localCheckpoint(eager=True)
        summary = changes.selectExpr(
            "count_if(`_op` = 'insert') AS inserted",
            "count_if(`_op` = 'update') AS updated",
            "count_if(`_op` = 'delete') AS deleted",
        ).first()
        assert summary is not None  # an aggregate without GROUP BY always has one row
        inserted, updated, deleted = (
            int(summary[k] or 0) for k in ("inserted", "updated", "deleted")
        )
        if inserted + updated + deleted == 0:
            return MergeOutcome(0, 0, None)
        changes.createOrReplaceTempView(changes_view)
        assignments = ", ".join(f"t.{c} = s.{c}" for c in columns)
        sql_with_commit_properties(
            spark,
            f"""
            MERGE INTO {table} t
            USING {changes_view} s
            ON {on}
            WHEN MATCHED AND s.`_op` = 'delete' THEN DELETE
            WHEN MATCHED AND NOT ({unchanged}) THEN UPDATE SET {assignments}
            WHEN NOT MATCHED AND s.`_op` = 'insert' THEN
              INSERT ({", ".join(columns)}) VALUES ({", ".join(f"s.{c}" for c in columns)})
            """,
            load_properties(
                day, run_id, load_id, inserted=inserted, updated=updated, deleted=deleted
            ),
        )
        find = find_snapshot or (lambda lid: _snapshot_of_load(spark, table, lid))
        snapshot_id = find(load_id)
        if snapshot_id is None:
            raise RuntimeError(f"the MERGE for load {load_id} committed no snapshot to {table}")
        return MergeOutcome(inserted, updated, snapshot_id, deleted)
    finally:
        for view in (source_view, changes_view, present_view):
            spark.catalog.dropTempView(view)


def _snapshot_of_load(spark: SparkSession, table: str, load_id: str) -> int | None:
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots "
        f"WHERE summary['{SUMMARY_LOAD_ID}'] = '{load_id}' ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    return int(rows[0]["snapshot_id"]) if rows else None
