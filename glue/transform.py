"""One day from bronze to silver: the transform the Glue job and the CLI both run.

bronze manifest -> bronze suite (parts present, sha256, counts, parse) -> candidate rows
-> silver suite (pandas copy or Spark frame) -> quarantine + dq_results + HTML report
-> MERGE of the rows that passed -> tag.

Every refusal that needs no data (no manifest, followers unavailable: exit 3) happens
before Great Expectations or Spark is touched; a day whose bronze fails its checks or where
no row passes is refused (exit 1) after its results and report are recorded, and before a
SparkSession is needed. Raw data is never touched.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from catalog.bronze.layout import BronzeError, BronzeStore, Manifest, sha256_hex
from catalog.errors import FollowersUnavailableError, LakehouseError
from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import ARTISTS_SILVER, TableDefinition
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS
from catalog.iceberg.tags.with_spark import repair_load_tags, set_load_tag
from catalog.runtime.spark import spark_schema
from expectations.frame import PartCheck, PreviousCount, silver_check_rows
from expectations.persist import record_run
from expectations.quarantine import Verdict, judge
from expectations.results import QualityRun, RunSummary
from expectations.runner import QualityContext, SuiteOutcome, quality_context
from expectations.store import ReportStore
from expectations.suites import (
    BRONZE_PART_PARSES,
    BRONZE_RECORDS_MATCH,
    BRONZE_SHA256_MATCHES,
    PREVIOUS_SNAPSHOT_LOOKBACK_DAYS,
    QualitySettings,
)
from glue.merge import MergeOutcome, merge_day
from glue.rows import DayRows, MalformedPartError, day_rows, fetch_order, part_records

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
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
    """Not one record of the day passed validation; silver is left unchanged."""


class BronzePartError(LakehouseError):
    """A manifest-listed part is missing, unreadable or not what the manifest vouches for."""


@dataclass(frozen=True)
class JobContext:
    """Everything a day's run needs besides Spark: where results go and the bounds.

    One per process (the CLI's runner, a backfill, the Glue job): the GX context inside
    :func:`expectations.runner.quality_context` is shared by every day it runs.
    """

    catalog: Catalog
    reports: ReportStore
    settings: QualitySettings = field(default_factory=QualitySettings)
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS
    definition: TableDefinition = ARTISTS_SILVER

    @property
    def quality(self) -> QualityContext:
        return quality_context()


@dataclass(frozen=True)
class TransformResult:
    """What one day's run did, for the CLI, the logs and the tests."""

    snapshot_date: date
    run_id: str
    rows: int  # rows that passed validation and went into the MERGE
    inserted: int
    updated: int
    snapshot_id: int | None
    tag: str | None
    quality: RunSummary
    repaired_tags: list[str] = field(default_factory=list)
    #: Seconds per stage (bronze_checks, validation, record, merge): what the run spent where.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def committed(self) -> bool:
        return self.snapshot_id is not None

    @property
    def quarantined(self) -> int:
        return self.quality.quarantined_rows


def spark_table_name(definition: TableDefinition) -> str:
    return f"{CATALOG_NAME}.{definition.qualified_name}"


@dataclass(frozen=True)
class PreparedDay:
    """A day read from bronze: its manifest, what each listed part holds, its candidates."""

    day: date
    manifest: Manifest
    parts: list[PartCheck]
    rows: DayRows

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


def _check_part(store: BronzeStore, key: str, sha256: str, records: int) -> tuple[PartCheck, bytes]:
    try:
        body = store.get(key)
    except FileNotFoundError:
        return PartCheck(key, sha256, None, records, None, False, "missing"), b""
    actual = sha256_hex(body)
    try:
        found = len(part_records(body, key))  # the manifest's record count
    except MalformedPartError as e:
        return PartCheck(key, sha256, actual, records, None, False, str(e)), body
    return PartCheck(key, sha256, actual, records, found, True), body


def prepare_day(store: BronzeStore, day: date) -> PreparedDay:
    """Read ``day``'s manifest and every part it lists; refuse what needs no checking.

    Pure Python and no Great Expectations: an incomplete day or a followers-less day
    (exit 3) is refused in milliseconds. Parts are read whatever their state; the bronze
    suite judges them (:func:`check_bronze`).
    """
    try:
        manifest = store.read_manifest(day)
    except BronzeError as e:
        raise BronzePartError(f"{e}; re-ingest {day.isoformat()} with --force") from e
    if manifest is None:
        raise DayIncompleteError(day, store.location)
    if not manifest.followers_available:
        raise FollowersUnavailableError(day, f"bronze run {manifest.run_id}")
    checks: list[PartCheck] = []
    readable = []
    try:
        for part in manifest.parts:
            check, body = _check_part(store, part.key, part.sha256, part.records)
            checks.append(check)
            if check.parses and check.sha256_actual == part.sha256:
                readable.append((part, body))
    except (OSError, BronzeError) as e:
        raise BronzePartError(
            f"cannot read bronze for {day.isoformat()} from {store.location}: {e}; check the "
            "store is reachable and readable, then re-run"
        ) from e
    rows = day_rows(readable, day=day, run_id=manifest.run_id)
    return PreparedDay(day=day, manifest=manifest, parts=checks, rows=rows)


def _bronze_refusal(prepared: PreparedDay, outcome: SuiteOutcome) -> str:
    failed = {r.name: r for r in outcome.failed if r.critical}
    by_key = {p.key: p for p in prepared.parts}
    problems = []
    for result in failed.values():
        for row_id in result.unexpected_row_ids[:3]:
            part = prepared.parts[row_id]
            if result.name == BRONZE_SHA256_MATCHES and part.sha256_actual is None:
                problems.append(f"bronze part {part.key} is listed in the manifest but missing")
            elif result.name == BRONZE_SHA256_MATCHES:
                problems.append(
                    f"bronze part {part.key} does not match its manifest (sha256 "
                    f"{(part.sha256_actual or '')[:12]}..., expected {part.sha256_listed[:12]}...)"
                )
            elif result.name == BRONZE_PART_PARSES and by_key[part.key].sha256_actual:
                problems.append(by_key[part.key].problem or f"bronze part {part.key} is malformed")
            elif result.name == BRONZE_RECORDS_MATCH:
                problems.append(
                    f"bronze part {part.key} holds {part.records_found} records, its manifest "
                    f"says {part.records_listed}"
                )
    detail = "; ".join(dict.fromkeys(problems)) or ", ".join(failed)
    return (
        f"bronze for {prepared.day.isoformat()} failed its checks: {detail}; nothing loaded, "
        f"bronze run {prepared.run_id} left as it is: re-ingest the day with --force"
    )


def _new_run(prepared: PreparedDay, outcomes: tuple[SuiteOutcome, ...]) -> QualityRun:
    return QualityRun(
        snapshot_date=prepared.day,
        run_id=prepared.run_id,
        validation_id=uuid.uuid4().hex,
        validated_at=datetime.now(UTC),
        outcomes=outcomes,
    )


def check_bronze(prepared: PreparedDay, context: JobContext) -> SuiteOutcome:
    """Run the bronze suite; on failure record the run and refuse the day (exit 1)."""
    outcome = context.quality.validate_bronze(prepared.parts)
    if not outcome.success:
        message = _bronze_refusal(prepared, outcome)
        run = _new_run(prepared, (outcome,))
        record_run(
            context.catalog,
            replace(run, refusal=message),
            context.reports,
            judged_rows=False,
            tag_retention_days=context.tag_retention_days,
        )
        raise BronzePartError(message)
    return outcome


def previous_counts(
    catalog: Catalog, definition: TableDefinition, day: date
) -> dict[str, PreviousCount]:
    """Each artist's latest silver count within the lookback before ``day`` (pyiceberg)."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan, Reference
    from pyiceberg.expressions.literals import literal

    table = catalog.load_table(definition.identifier)
    start = day - timedelta(days=PREVIOUS_SNAPSHOT_LOOKBACK_DAYS)
    rows = (
        table.scan(
            row_filter=And(
                LessThan(term=Reference("snapshot_date"), value=literal(day.isoformat())),
                GreaterThanOrEqual(
                    term=Reference("snapshot_date"), value=literal(start.isoformat())
                ),
            ),
            selected_fields=("artist_id", "snapshot_date", "followers"),
        )
        .to_arrow()
        .to_pylist()
    )
    latest: dict[str, PreviousCount] = {}
    for row in rows:
        if row["followers"] is None:
            continue
        known = latest.get(row["artist_id"])
        if known is None or row["snapshot_date"] > known.snapshot_date:
            latest[row["artist_id"]] = PreviousCount(row["snapshot_date"], int(row["followers"]))
    return latest


@dataclass(frozen=True)
class ValidatedDay:
    """A day judged and recorded: the rows to MERGE and the run that judged them."""

    prepared: PreparedDay
    verdict: Verdict
    run: QualityRun
    timings: dict[str, float]


def validate_day(
    prepared: PreparedDay,
    context: JobContext,
    *,
    spark: Callable[[], SparkSession] | None = None,
) -> ValidatedDay:
    """Bronze suite, then the silver suite, then record results, quarantine and report.

    ``spark`` (a factory) is called only when the day is large enough to validate on Spark.
    Raises :class:`BronzePartError` or :class:`NoValidRowsError` after recording the run.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    bronze = check_bronze(prepared, context)
    timings["bronze_checks"] = time.perf_counter() - started

    started = time.perf_counter()
    candidates = prepared.rows.candidates
    check_rows = silver_check_rows(
        candidates,
        day=prepared.day,
        previous=previous_counts(context.catalog, context.definition, prepared.day),
        backdated=prepared.manifest.backdated,
    )
    on_spark = len(check_rows) > context.settings.pandas_max_rows and spark is not None
    silver = context.quality.validate_silver(
        check_rows,
        day=prepared.day,
        max_rows=prepared.manifest.roster_size or None,
        max_daily_follower_change=context.settings.max_daily_follower_change,
        engine="spark" if on_spark else "pandas",
        spark=spark() if on_spark and spark is not None else None,
    )
    verdict = judge(candidates, silver, preference=fetch_order)
    by_id = {c.row_id: c for c in candidates}
    run = replace(
        _new_run(prepared, (bronze, silver)),
        quarantined=tuple(verdict.quarantined),
        warned=tuple(
            (by_id[row_id], tuple(names)) for row_id, names in sorted(verdict.warnings.items())
        ),
    )
    timings["validation"] = time.perf_counter() - started
    if not verdict.good:
        reasons = ", ".join(r.name for r in silver.failed if r.critical) or "no records"
        message = (
            f"no row of {prepared.day.isoformat()} passed validation ({len(candidates)} "
            f"evaluated, failed: {reasons}); silver unchanged, bronze run {prepared.run_id} "
            "kept; see the quarantine table or the report"
        )
        run = record_run(
            context.catalog,
            replace(run, refusal=message),
            context.reports,
            tag_retention_days=context.tag_retention_days,
        )
        raise NoValidRowsError(f"{message} ({run.report})")
    started = time.perf_counter()
    run = record_run(
        context.catalog, run, context.reports, tag_retention_days=context.tag_retention_days
    )
    timings["record"] = time.perf_counter() - started
    return ValidatedDay(prepared=prepared, verdict=verdict, run=run, timings=timings)


def load_day(spark: SparkSession, validated: ValidatedDay, context: JobContext) -> TransformResult:
    """MERGE the rows that passed into silver and tag the load. No change, no commit.

    A commit conflict (another writer committed first) redoes the MERGE from the new table
    state, a bounded number of times (:func:`catalog.iceberg.commits.retry_on_conflict`).
    """
    prepared, definition = validated.prepared, context.definition
    table = spark_table_name(definition)
    columns = definition.column_names
    started = time.perf_counter()
    frame = spark.createDataFrame(
        [tuple(c.row.get(name) for name in columns) for c in validated.verdict.good],
        schema=spark_schema(definition.schema),
    )
    repaired = repair_load_tags(spark, table, context.tag_retention_days)

    def merge() -> MergeOutcome:
        return merge_day(spark, table, frame, day=prepared.day, run_id=prepared.run_id)

    # Redoing a MERGE whose commit did land changes nothing: it recomputes its changes.
    outcome = retry_on_conflict(
        merge, what=f"MERGE of {prepared.day} into {table}", idempotent=True
    )
    tag = None
    if outcome.snapshot_id is not None:
        tag = set_load_tag(
            spark, table, prepared.day, outcome.snapshot_id, context.tag_retention_days
        )
    timings = {**validated.timings, "merge": time.perf_counter() - started}
    log.info("loaded %s: %s", prepared.day, {k: round(v, 3) for k, v in timings.items()})
    return TransformResult(
        snapshot_date=prepared.day,
        run_id=prepared.run_id,
        rows=len(validated.verdict.good),
        inserted=outcome.inserted,
        updated=outcome.updated,
        snapshot_id=outcome.snapshot_id,
        tag=tag,
        quality=validated.run.summary(),
        repaired_tags=repaired,
        timings=timings,
    )


def transform_day(
    spark: SparkSession | Callable[[], SparkSession],
    store: BronzeStore,
    day: date,
    context: JobContext,
) -> TransformResult:
    """Validate and load ``day`` from ``store``. Safe to re-run: nothing changed, no commit.

    ``spark`` may be a factory: it is called only when rows passed (or the day is large
    enough to be validated on Spark), so a refused day never waits for a JVM.
    """
    from catalog.iceberg.tables import ensure_tables

    factory: Callable[[], SparkSession] = spark if callable(spark) else (lambda: spark)
    prepared = prepare_day(store, day)
    ensure_tables(context.catalog)
    validated = validate_day(prepared, context, spark=factory)
    return load_day(factory(), validated, context)
