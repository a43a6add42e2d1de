"""One day from bronze to silver: the transform the Glue job and the CLI both run.

bronze manifest -> verified parts -> silver rows (one per artist) -> MERGE -> tag.
A day without a manifest is incomplete and is refused; a day whose manifest says the app
could not read followers is refused with exit 3; raw data is never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from catalog.bronze import BronzeStore, PartIntegrityError
from catalog.errors import FollowersUnavailableError, LakehouseError
from catalog.profiles import CATALOG_NAME
from catalog.spark import spark_schema
from catalog.tables import ARTISTS_SILVER, TableDefinition
from catalog.tags import DEFAULT_TAG_RETENTION_DAYS
from glue.merge import merge_day, repair_tags, set_load_tag
from glue.rows import DayRows, MalformedPartError, RejectedRecord, day_rows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


class DayIncompleteError(LakehouseError):
    """The day has no bronze manifest: ingest has not completed it, so it is not loaded."""

    def __init__(self, day: date, location: str) -> None:
        super().__init__(
            f"bronze day {day.isoformat()} is incomplete (no _manifest.json under {location}); "
            f"run `spotify-lakehouse ingest --date {day.isoformat()}` first"
        )


class NoValidRowsError(LakehouseError):
    """Not one record of the day can be loaded; silver is left unchanged."""


class BronzePartError(LakehouseError):
    """A manifest-listed part is unreadable or does not match its checksum."""


@dataclass(frozen=True)
class TransformResult:
    """What one day's load did, for the CLI, the logs and the tests."""

    snapshot_date: date
    run_id: str
    rows: int
    inserted: int
    updated: int
    snapshot_id: int | None
    tag: str | None
    rejected: list[RejectedRecord] = field(default_factory=list)
    duplicates: int = 0
    repaired_tags: list[str] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        return self.snapshot_id is not None


def spark_table_name(definition: TableDefinition) -> str:
    return f"{CATALOG_NAME}.{definition.qualified_name}"


@dataclass(frozen=True)
class PreparedDay:
    """A day read and checked from bronze, ready to load; built without Spark."""

    day: date
    run_id: str
    rows: DayRows


def prepare_day(store: BronzeStore, day: date) -> PreparedDay:
    """Read ``day``'s manifest-listed parts and flatten them; every refusal happens here.

    Pure Python on purpose: an incomplete day, a followers-less day (exit 3) or a tampered
    part is refused in milliseconds, before a SparkSession (4-10 s) is even started.
    """
    manifest = store.read_manifest(day)
    if manifest is None:
        raise DayIncompleteError(day, store.location)
    if not manifest.followers_available:
        raise FollowersUnavailableError(day, f"bronze run {manifest.run_id}")
    try:
        bodies = [(part, store.read_part(part)) for part in manifest.parts]
        prepared = day_rows(bodies, day=day, run_id=manifest.run_id)
    except (MalformedPartError, PartIntegrityError, OSError) as e:
        raise BronzePartError(f"{e}; bronze for {day.isoformat()} was left as it is") from e
    if not prepared.rows:
        reasons = sorted({r.reason for r in prepared.rejected}) or ["no artist objects"]
        raise NoValidRowsError(
            f"no row of {day.isoformat()} can be loaded ({'; '.join(reasons)}); "
            f"silver unchanged, bronze run {manifest.run_id} kept for inspection"
        )
    for record in prepared.rejected:
        log.warning("rejected record in %s: %s", record.source_file, record.reason)
    return PreparedDay(day=day, run_id=manifest.run_id, rows=prepared)


def load_day(
    spark: SparkSession,
    prepared: PreparedDay,
    *,
    definition: TableDefinition = ARTISTS_SILVER,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
) -> TransformResult:
    """MERGE a prepared day into silver and tag the load. No change, no commit."""
    table = spark_table_name(definition)
    columns = definition.column_names
    frame = spark.createDataFrame(
        [tuple(row.get(c) for c in columns) for row in prepared.rows.rows],
        schema=spark_schema(definition.schema),
    )
    repaired = repair_tags(spark, table, tag_retention_days)
    outcome = merge_day(spark, table, frame, day=prepared.day, run_id=prepared.run_id)
    tag = None
    if outcome.snapshot_id is not None:
        tag = set_load_tag(spark, table, prepared.day, outcome.snapshot_id, tag_retention_days)
    return TransformResult(
        snapshot_date=prepared.day,
        run_id=prepared.run_id,
        rows=len(prepared.rows.rows),
        inserted=outcome.inserted,
        updated=outcome.updated,
        snapshot_id=outcome.snapshot_id,
        tag=tag,
        rejected=prepared.rows.rejected,
        duplicates=prepared.rows.duplicates,
        repaired_tags=repaired,
    )


def transform_day(
    spark: SparkSession,
    store: BronzeStore,
    day: date,
    *,
    definition: TableDefinition = ARTISTS_SILVER,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
) -> TransformResult:
    """Load ``day`` from ``store`` into silver. Safe to re-run: nothing changed, no commit."""
    return load_day(
        spark,
        prepare_day(store, day),
        definition=definition,
        tag_retention_days=tag_retention_days,
    )
