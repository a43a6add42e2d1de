"""The one definition of every Iceberg table in the lakehouse.

Spark, pyiceberg, the local DuckDB engine, Great Expectations and the CDK app all take the
schema, partitioning and properties from here; nothing else spells a column list. Tables are
created (and evolved) from these objects by :func:`ensure_table`, through whichever pyiceberg
catalog the profile gives: the SQLite catalog on one machine, the Glue Data Catalog on AWS.

Adding a silver column is a one-line change to the schema below: :func:`ensure_table` adds
any field the live table lacks (``union_by_name``), so the next job run applies it.

The home's one tag-retention setting lives here too, as a property of the silver table
(:data:`TAG_RETENTION_PROPERTY`): every writer (the job's loads of silver, the quarantine and
dq_results, on one machine or in Glue) and maintenance read it from the table they already
hold, so a retention shortened by ``maintain`` is the one the next load obeys, in a new
process, on AWS (a Glue Data Catalog table's Iceberg properties) as locally, with no file
beside the tables. Why silver alone: one value cannot disagree with itself; the quarantine
and dq_results tags follow silver's rule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import MonthTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from catalog.errors import LakehouseError
from catalog.iceberg.names import NAMESPACE as NAMESPACE  # re-exported: its owner is names
from catalog.iceberg.tags.rule import DEFAULT_TAG_RETENTION_DAYS

#: Properties every table shares. Copy-on-write keeps readers simple and fast (no delete
#: files for DuckDB or Athena to merge at read time); a daily MERGE of one day rewrites one
#: month's small file, which costs less than every query paying for merge-on-read.
COMMON_PROPERTIES: Final[dict[str, str]] = {
    "format-version": "2",
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "zstd",
    "write.merge.mode": "copy-on-write",
    "write.update.mode": "copy-on-write",
    "write.delete.mode": "copy-on-write",
    # Bounded metadata history: old metadata.json files go once 50 newer ones exist.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "50",
    # Manifests merged on append once 8 are open (Iceberg's default is 100, and pyiceberg
    # merges only when asked). Every daily load appends one small manifest to silver and
    # dq_results; scan planning opens each manifest whose partition range may match, and
    # "does silver hold day D" / "the day before's counts" are planned every day. Unmerged,
    # late in a month that was ~30 manifests per silver plan and, on the unpartitioned
    # dq_results, one more manifest per day for the whole history (365 in a year): the part
    # of a day's cost that grew with history (issue 15). Merging at 8 keeps every plan to a
    # handful of manifests for the cost of rewriting ~8 small ones once a week.
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "8",
}
#: Properties read at creation only: the format version is a field of the table metadata,
#: which pyiceberg takes from the properties when it creates the table and never stores.
CREATION_ONLY_PROPERTIES: Final = frozenset({"format-version"})


@dataclass(frozen=True)
class TableDefinition:
    """Everything needed to create or evolve one Iceberg table."""

    name: str
    schema: Schema
    partition_spec: PartitionSpec
    description: str
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def identifier(self) -> tuple[str, str]:
        return (NAMESPACE, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    @property
    def all_properties(self) -> dict[str, str]:
        return {**COMMON_PROPERTIES, "comment": self.description, **self.properties}

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.schema.fields]


#: Business columns of silver: a re-load of a day updates a row only when one of these
#: differs (null-safe). Lineage columns (fetched_at, run_id, source_file) never trigger one.
SILVER_BUSINESS_COLUMNS: Final = (
    "name",
    "followers",
    "popularity",
    "genres",
    "image_url",
    "spotify_url",
)

ARTISTS_SILVER: Final = TableDefinition(
    name="artists_silver",
    description="One row per (artist_id, snapshot_date): followers and profile fetched that day.",
    schema=Schema(
        NestedField(1, "artist_id", StringType(), required=True, doc="Spotify artist id"),
        NestedField(2, "snapshot_date", DateType(), required=True, doc="UTC day of the load"),
        NestedField(3, "name", StringType(), required=False),
        NestedField(4, "followers", LongType(), required=False),
        NestedField(5, "popularity", IntegerType(), required=False),
        NestedField(
            6,
            "genres",
            ListType(element_id=12, element_type=StringType(), element_required=False),
            required=False,
        ),
        NestedField(7, "image_url", StringType(), required=False),
        NestedField(8, "spotify_url", StringType(), required=False),
        NestedField(9, "fetched_at", TimestamptzType(), required=False),
        NestedField(10, "run_id", StringType(), required=False, doc="Ingest run that fetched it"),
        NestedField(11, "source_file", StringType(), required=False, doc="Bronze part read"),
        identifier_field_ids=[1, 2],
    ),
    # Monthly partitions: 20 artists make ~600 rows a month, 10,000 artists ~300,000. Daily
    # partitions would leave 365 tiny files a year for every query to open; one partition for
    # everything would make each daily MERGE rewrite the whole table (copy-on-write). A month
    # bounds the rewrite of a daily load to ~31 days of rows and still prunes date ranges.
    partition_spec=PartitionSpec(
        PartitionField(
            source_id=2, field_id=1000, transform=MonthTransform(), name="snapshot_month"
        )
    ),
)

ARTISTS_QUARANTINE: Final = TableDefinition(
    name="artists_quarantine",
    description=(
        "Records of a day that failed a critical data-quality expectation: the raw record as "
        "received and the names of the expectations it failed. A re-run replaces the day's rows."
    ),
    schema=Schema(
        NestedField(1, "snapshot_date", DateType(), required=True, doc="UTC day of the load"),
        NestedField(2, "run_id", StringType(), required=True, doc="Ingest run that fetched it"),
        NestedField(3, "row_id", LongType(), required=True, doc="Position of the record that day"),
        NestedField(4, "artist_id", StringType(), required=False, doc="As received, if any"),
        NestedField(5, "source_file", StringType(), required=False, doc="Bronze part read"),
        NestedField(
            6, "raw_record", StringType(), required=False, doc="The JSON record as received"
        ),
        NestedField(
            7,
            "failed_expectations",
            # Element id 10: pyiceberg assigns fresh ids at creation, nested after top-level.
            ListType(element_id=10, element_type=StringType(), element_required=False),
            required=False,
        ),
        NestedField(8, "validation_id", StringType(), required=False, doc="Job run that judged it"),
        NestedField(9, "validated_at", TimestamptzType(), required=False),
    ),
    # Monthly, like silver and for the same reason: a re-run replaces one day's rows, which
    # with copy-on-write rewrites only the files of that day's month. Quarantine is usually
    # empty or a handful of rows a day; daily partitions would leave a file per bad day.
    partition_spec=PartitionSpec(
        PartitionField(
            source_id=1, field_id=1000, transform=MonthTransform(), name="snapshot_month"
        )
    ),
)

DQ_RESULTS: Final = TableDefinition(
    name="dq_results",
    description=(
        "One row per data-quality run and expectation: what was checked on a day, whether it "
        "held, how many records broke it and what was observed."
    ),
    schema=Schema(
        NestedField(1, "snapshot_date", DateType(), required=True, doc="UTC day validated"),
        NestedField(2, "run_id", StringType(), required=True, doc="Ingest run validated"),
        NestedField(3, "validation_id", StringType(), required=True, doc="This job run"),
        NestedField(4, "validated_at", TimestamptzType(), required=True),
        NestedField(5, "suite", StringType(), required=True, doc="bronze or silver"),
        NestedField(6, "expectation", StringType(), required=True, doc="Stable check name"),
        NestedField(7, "severity", StringType(), required=True, doc="critical or warning"),
        NestedField(8, "success", BooleanType(), required=True),
        NestedField(9, "evaluated_rows", LongType(), required=False),
        NestedField(10, "unexpected_count", LongType(), required=False),
        NestedField(11, "observed_value", StringType(), required=False, doc="JSON text"),
        NestedField(12, "engine", StringType(), required=False, doc="pandas or spark"),
        NestedField(13, "quarantined_rows", LongType(), required=False, doc="Whole run"),
        NestedField(14, "report", StringType(), required=False, doc="Where the HTML report is"),
    ),
    # Unpartitioned: about a dozen rows per run, a few thousand a year, appended once per
    # run and read whole by `quality`. Any partition transform would only multiply the
    # number of tiny files; maintenance compacts the appends.
    partition_spec=PartitionSpec(),
)

#: Stages of a run, each a ``<stage>_seconds`` column of :data:`PIPELINE_RUNS`, in the order
#: a run goes through them. They do not overlap and ``other`` is the rest of the run's wall
#: time, so a run's stages add up to ``ended_at - started_at`` (the dashboard stacks them).
RUN_STAGES: Final = ("fetch", "read", "validate", "merge", "record", "compact", "other")

PIPELINE_RUNS: Final = TableDefinition(
    name="pipeline_runs",
    description=(
        "One row per pipeline run (ingest, transform, backfill, maintenance, delete-day, ...) "
        "on any engine: what it was asked, when, how it ended, where its time went and what "
        "it changed."
    ),
    schema=Schema(
        NestedField(1, "run_id", StringType(), required=True, doc="This run (not the bronze run)"),
        NestedField(2, "kind", StringType(), required=True, doc="ingest, transform, backfill, ..."),
        NestedField(3, "snapshot_date", DateType(), required=False, doc="First UTC day"),
        NestedField(4, "end_date", DateType(), required=False, doc="Last UTC day (one day: same)"),
        NestedField(5, "started_at", TimestamptzType(), required=True),
        NestedField(6, "ended_at", TimestamptzType(), required=False),
        NestedField(7, "status", StringType(), required=True, doc="succeeded, failed, ..."),
        NestedField(8, "exit_code", IntegerType(), required=False, doc="0, 1, 2 or 3"),
        NestedField(9, "engine", StringType(), required=True, doc="local, glue or lambda"),
        NestedField(10, "bronze_run_id", StringType(), required=False, doc="Last bronze run"),
        NestedField(11, "rows_fetched", LongType(), required=False, doc="Artist records"),
        NestedField(12, "rows_inserted", LongType(), required=False),
        NestedField(13, "rows_updated", LongType(), required=False),
        NestedField(14, "rows_deleted", LongType(), required=False),
        NestedField(15, "rows_quarantined", LongType(), required=False),
        NestedField(16, "api_requests", LongType(), required=False, doc="HTTP requests sent"),
        NestedField(17, "rate_limit_waits", LongType(), required=False, doc="429 pauses"),
        NestedField(18, "snapshot_id", LongType(), required=False, doc="Last silver commit"),
        *(
            NestedField(19 + i, f"{stage}_seconds", DoubleType(), required=False)
            for i, stage in enumerate(RUN_STAGES)
        ),
        NestedField(19 + len(RUN_STAGES), "error", StringType(), required=False, doc="Reason"),
    ),
    # Monthly by started_at: a few rows a day (a few thousand a year), each run one small
    # append that maintenance compacts. Daily partitions would keep at least a file per day
    # forever; none would make every compaction rewrite the whole history. A month bounds
    # the rewrite to the current month and lets `WHERE started_at >= ...` prune old months.
    # Fixed stage columns rather than a map: plain SQL (`avg(merge_seconds)`) in Athena and
    # DuckDB alike, one scalar per CSV cell, and a new stage is one added optional column.
    partition_spec=PartitionSpec(
        PartitionField(source_id=5, field_id=1000, transform=MonthTransform(), name="started_month")
    ),
)

#: Every table of the lakehouse, by name.
TABLES: Final[dict[str, TableDefinition]] = {
    t.name: t for t in (ARTISTS_SILVER, ARTISTS_QUARANTINE, DQ_RESULTS, PIPELINE_RUNS)
}
#: The tables a day's load writes, each with a commit carrying ``snapshot_date`` and the load
#: tag ``snapshot-D``. ``pipeline_runs`` is history about runs, not a load: no tags.
LOAD_TABLES: Final = (ARTISTS_SILVER.name, ARTISTS_QUARANTINE.name, DQ_RESULTS.name)


#: Property of the silver table: how many days the daily load tags of every table are kept
#: (:func:`catalog.iceberg.tags.rule.tag_retained`). Absent: the default, 400 days.
TAG_RETENTION_PROPERTY: Final = "spotify-lakehouse.tag-retention-days"


class TagRetentionSettingError(LakehouseError):
    """Silver's tag-retention property holds something other than a number of days."""


def tag_retention_of(properties: Mapping[str, str]) -> int:
    """The home's tag retention, in days, from silver's table ``properties`` (pyiceberg's
    ``table.properties``, or Spark's ``SHOW TBLPROPERTIES``); the default when unset."""
    raw = properties.get(TAG_RETENTION_PROPERTY)
    if raw is None:
        return DEFAULT_TAG_RETENTION_DAYS
    days = int(raw) if raw.strip().isdigit() else 0
    if days < 1:
        raise TagRetentionSettingError(
            f"the table {ARTISTS_SILVER.qualified_name} has {TAG_RETENTION_PROPERTY}={raw!r}, "
            "not a whole number of days >= 1: set it with `spotify-lakehouse maintain "
            f"--tag-retention-days N` (default {DEFAULT_TAG_RETENTION_DAYS})"
        )
    return days


def store_tag_retention(table: Table, days: int) -> Table:
    """Make ``days`` the home's tag retention: silver's property, set in one metadata commit
    when it differs (none when it already holds). Returns ``table``, refreshed by the commit."""
    if days < 1:
        raise ValueError(f"a tag retention is at least one day, got {days}")
    if table.properties.get(TAG_RETENTION_PROPERTY) != str(days):
        with table.transaction() as transaction:
            transaction.set_properties({TAG_RETENTION_PROPERTY: str(days)})
    return table


def ensure_namespace(catalog: Catalog) -> None:
    """Create the ``spotify`` namespace (Glue database) if it does not exist yet."""
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(NAMESPACE)


def ensure_table(catalog: Catalog, definition: TableDefinition) -> Table:
    """Create the table from its definition, or add the columns and properties the live
    table lacks.

    Safe to call on every run and from concurrent processes: a table created by someone
    else in between is loaded instead, and evolution only ever adds optional fields, and
    properties the table does not have (a value someone set is never changed: a home made
    before a property was added to :data:`COMMON_PROPERTIES` gets it once). The
    table is read first and created only when it is missing: a create attempt writes a
    metadata file before the catalog refuses it, so trying it on every run would leave an
    orphan file each time (and cost a write).
    """
    try:
        table = catalog.load_table(definition.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        ensure_namespace(catalog)
        try:
            return catalog.create_table(
                identifier=definition.identifier,
                schema=definition.schema,
                partition_spec=definition.partition_spec,
                properties=definition.all_properties,
            )
        except TableAlreadyExistsError:
            table = catalog.load_table(definition.identifier)
    live = {f.name for f in table.schema().fields}
    if any(name not in live for name in definition.column_names):
        with table.update_schema() as update:
            update.union_by_name(definition.schema)
        table = catalog.load_table(definition.identifier)
    missing = {
        k: v
        for k, v in definition.all_properties.items()
        if k not in table.properties and k not in CREATION_ONLY_PROPERTIES
    }
    if missing:
        with table.transaction() as transaction:
            transaction.set_properties(missing)
    return table


def ensure_tables(catalog: Catalog) -> dict[str, Table]:
    """Ensure every table of :data:`TABLES` exists in ``catalog``; returns them by name."""
    return {name: ensure_table(catalog, definition) for name, definition in TABLES.items()}
