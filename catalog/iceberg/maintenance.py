"""Table maintenance: daily tags kept, snapshots expired, small files compacted, orphans removed.

Why Spark: pyiceberg 0.12 can only drop snapshots from the metadata
(``table.maintenance.expire_snapshots().by_ids``); it deletes no file, cannot compact and
cannot find orphans. Iceberg's Spark procedures do all three correctly, with the same code on
one machine (``catalog.runtime.spark.build_local_session``) and in the Glue job (``--action
maintain`` calls :func:`maintain` with the job's session and ``catalog_name="lakehouse"``).

One pass over each table, in this order:

1. **Tags.** A load tag ``snapshot-D`` is kept while ``today - D <= tag_retention_days``
   and dropped after: an as-of beyond retention must be a clear error, not a silent answer.
   The retention is the home's one setting, silver's table property
   (:data:`catalog.iceberg.tables.TAG_RETENTION_PROPERTY`, default 400 days), which every
   writer reads too: maintenance given a retention stores it there first (so the next load
   does not re-create the tags it drops), and given none uses the stored one. The same
   retention applies to every table's tags. Iceberg's own expiry also drops a tag once its
   snapshot is older than the tag's ``max-ref-age-ms`` (measured from the *commit*, not
   from D); a kept tag whose age limit would run out before ``D + tag_retention_days`` is
   re-created with a longer one, so step 3 can never drop a tag this policy keeps. The rule is
   :func:`catalog.iceberg.tags.rule.plan_upkeep` (the same retention rule the writers never
   tag a day beyond), applied by :func:`catalog.iceberg.tags.with_spark.upkeep_load_tags`.
2. **Compaction** (``rewrite_data_files``, bin-pack, at least 2 files per partition). Its
   commit carries no ``snapshot_date``, so time travel ignores it, and tagged snapshots keep
   their own files: no as-of answer changes.
3. **Snapshot expiry** (``expire_snapshots``) of snapshots older than
   ``snapshot_retention_days`` that no ref (main, a kept tag) needs; the files only they used
   are deleted. Superseded loads of a re-loaded day and old compactions go; every tagged load
   stays, and :mod:`catalog.iceberg.timetravel` copes with the parent chain cut by expiry.
4. **Orphan files** (``remove_orphan_files``) older than ``orphan_min_age`` (never less than
   a day): files under the table location that no retained snapshot references.

A write in flight has uploaded data files that no snapshot references *yet*: they look like
orphans. Two guards: the age floor (a Glue run or a local day load takes minutes, never a
day), and, on one machine, the lakehouse lease (:func:`write_lease`): writers hold it shared,
maintenance exclusive and without waiting, so
:func:`catalog.runtime.maintenance.maintain_local` refuses to start while a write runs
(:class:`WriteInProgressError`) and a write waits for maintenance. On AWS the maintenance
run is the Glue job itself (``--action maintain``) and the job's
``MaxConcurrentRuns=1`` serializes it against the daily transform (docs/maintenance.md).

Athena's ``VACUUM`` must never run on these tables: it expires by age only (5 days by default)
and would take the daily tags' history with it (docs/maintenance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from catalog.errors import LakehouseError
from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import (
    ARTISTS_SILVER,
    NAMESPACE,
    TABLES,
    TAG_RETENTION_PROPERTY,
    tag_retention_of,
)
from catalog.iceberg.tags.with_spark import upkeep_load_tags

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Snapshots younger than this are never expired (Iceberg's own default is 5 days).
DEFAULT_SNAPSHOT_RETENTION_DAYS: Final = 7
#: Unreferenced files younger than this are never removed: a write may still be running.
MIN_ORPHAN_AGE: Final = timedelta(days=1)


class MaintenanceError(LakehouseError):
    """Maintenance cannot run as asked."""


@dataclass(frozen=True)
class TableMaintenance:
    """What one table's maintenance did."""

    table: str
    dropped_tags: tuple[str, ...]
    extended_tags: tuple[str, ...]
    rewritten_data_files: int
    added_data_files: int
    expired_snapshots: int
    deleted_files: int
    orphan_files: tuple[str, ...]


def maintain(
    spark: SparkSession,
    *,
    tables: Sequence[str] | None = None,
    snapshot_retention_days: int = DEFAULT_SNAPSHOT_RETENTION_DAYS,
    tag_retention_days: int | None = None,
    orphan_min_age: timedelta = MIN_ORPHAN_AGE,
    compact: bool = True,
    today: date | None = None,
    catalog_name: str = CATALOG_NAME,
) -> list[TableMaintenance]:
    """Maintain every table of :data:`catalog.iceberg.tables.TABLES` (or ``tables``) with Spark.

    ``tag_retention_days``: the home's new tag retention, stored on silver before anything
    else (:func:`settle_tag_retention`); ``None``: the stored one. ``today`` (UTC) anchors
    it; ``snapshot_retention_days=0`` expires every snapshot no ref needs. Tables that do
    not exist yet are skipped. The caller makes sure
    no write runs (:func:`catalog.runtime.maintenance.maintain_local` takes the lease; on AWS
    the Glue job's concurrency of one does).
    """
    if snapshot_retention_days < 0:
        raise ValueError(f"snapshot_retention_days must be >= 0, got {snapshot_retention_days}")
    if tag_retention_days is not None and tag_retention_days < 1:
        raise ValueError(f"tag_retention_days must be >= 1, got {tag_retention_days}")
    if orphan_min_age < MIN_ORPHAN_AGE:
        raise ValueError(
            f"orphan_min_age must be at least {MIN_ORPHAN_AGE} (a running write's new files "
            f"are unreferenced until it commits), got {orphan_min_age}"
        )
    names = list(TABLES) if tables is None else list(tables)
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; known: {sorted(TABLES)}")
    day = today or datetime.now(UTC).date()
    now = datetime.now(UTC)
    retention = settle_tag_retention(spark, catalog_name, tag_retention_days)
    results: list[TableMaintenance] = []
    for name in names:
        qualified = f"{catalog_name}.{NAMESPACE}.{name}"
        if not spark.catalog.tableExists(qualified):
            continue
        dropped, extended = upkeep_load_tags(
            spark, qualified, retention_days=retention, today=day, now=now
        )
        rewritten, added = _compact(spark, catalog_name, name) if compact else (0, 0)
        expired, deleted = _expire(
            spark, catalog_name, qualified, name, now - timedelta(days=snapshot_retention_days)
        )
        orphans = _remove_orphans(spark, catalog_name, name, now - orphan_min_age)
        results.append(
            TableMaintenance(
                table=f"{NAMESPACE}.{name}",
                dropped_tags=dropped,
                extended_tags=extended,
                rewritten_data_files=rewritten,
                added_data_files=added,
                expired_snapshots=expired,
                deleted_files=deleted,
                orphan_files=orphans,
            )
        )
    return results


def settle_tag_retention(
    spark: SparkSession, catalog_name: str = CATALOG_NAME, days: int | None = None
) -> int:
    """The home's tag retention for this pass: ``days``, first stored as silver's property
    (where it differs), or, with ``None``, the stored one (the default where silver has none
    or does not exist yet). Spark SQL: the Glue job's maintenance has no other catalog."""
    silver = f"{catalog_name}.{ARTISTS_SILVER.qualified_name}"
    if not spark.catalog.tableExists(silver):
        return tag_retention_of({} if days is None else {TAG_RETENTION_PROPERTY: str(days)})
    rows = spark.sql(f"SHOW TBLPROPERTIES {silver}").collect()
    stored = {str(r["key"]): str(r["value"]) for r in rows}
    if days is None:
        return tag_retention_of(stored)
    if stored.get(TAG_RETENTION_PROPERTY) != str(days):
        spark.sql(f"ALTER TABLE {silver} SET TBLPROPERTIES ('{TAG_RETENTION_PROPERTY}'='{days}')")
    return days


def _compact(spark: SparkSession, catalog: str, name: str) -> tuple[int, int]:
    row = _call(
        spark,
        f"CALL {catalog}.system.rewrite_data_files(table => '{NAMESPACE}.{name}', "
        "options => map('min-input-files', '2'))",
    )
    return int(row.get("rewritten_data_files_count", 0)), int(row.get("added_data_files_count", 0))


def _expire(
    spark: SparkSession, catalog: str, table: str, name: str, older_than: datetime
) -> tuple[int, int]:
    before = spark.sql(f"SELECT count(*) AS n FROM {table}.snapshots").collect()[0]["n"]
    row = _call(
        spark,
        f"CALL {catalog}.system.expire_snapshots(table => '{NAMESPACE}.{name}', "
        f"older_than => TIMESTAMP '{_timestamp(older_than)}', retain_last => 1)",
    )
    after = spark.sql(f"SELECT count(*) AS n FROM {table}.snapshots").collect()[0]["n"]
    deleted = sum(int(v or 0) for k, v in row.items() if k.startswith("deleted_"))
    return int(before) - int(after), deleted


def _remove_orphans(
    spark: SparkSession, catalog: str, name: str, older_than: datetime
) -> tuple[str, ...]:
    # prefix_listing: list the table's location through the table's own FileIO (S3FileIO on
    # AWS, HadoopFileIO locally) rather than a Hadoop FileSystem for the location's scheme;
    # Glue's s3:// connector changed in 5.1 (S3A replaced EMRFS), and the job should not
    # depend on which one answers for a listing that Iceberg can do itself.
    rows = spark.sql(
        f"CALL {catalog}.system.remove_orphan_files(table => '{NAMESPACE}.{name}', "
        f"older_than => TIMESTAMP '{_timestamp(older_than)}', prefix_listing => true)"
    ).collect()
    return tuple(sorted(str(r["orphan_file_location"]) for r in rows))


def _call(spark: SparkSession, sql: str) -> dict[str, Any]:
    rows = spark.sql(sql).collect()
    return rows[0].asDict() if rows else {}


def _timestamp(moment: datetime) -> str:
    """A Spark SQL timestamp literal in UTC (the session time zone is UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
