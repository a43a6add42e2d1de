"""One day from bronze to silver: the transform the Glue job and the CLI both run.

bronze manifest -> bronze suite (parts present, sha256, counts, parse) -> candidate rows
-> silver suite (pandas copy or Spark frame) -> HTML report
-> the rows that passed into silver, tagged: the day's first load is an append with its
tag in the same commit, a re-load a MERGE (:mod:`glue.merge`) -> quarantine + dq_results.

The quarantine and dq_results come last, after silver's commit and tag: a dq_results row
says the run's outcome is final (refused, or loaded), so a run killed between its checks and
silver's commit (SIGKILL, a lost Glue worker) leaves no passing run behind for ``quality``
to report, and no quarantine of a run silver never got: the day keeps the run that did load
it, or has none (``gaps`` names it; re-running ``transform`` records it). dq_results stays
append-only, one append per run; a refused day (bronze checks, no valid row) is recorded as
soon as it is refused, since no load follows.

Every refusal that needs no data (no manifest, followers unavailable: exit 3) happens
before Great Expectations or Spark is touched; a day whose bronze fails its checks or where
no row passes is refused (exit 1) after its results and report are recorded, and before a
SparkSession is needed. A first load needs no SparkSession either (the session factory is
called only for a re-load's MERGE, or for a day large enough to validate on Spark). Raw data
is never touched.

Each table is read once per day (:func:`catalog.iceberg.tables.ensure_tables` at the start)
and that state is handed to every step that needs it; a step whose commit loses a race
reads its table again and decides again (:mod:`catalog.iceberg.commits`). Where the seconds
go is in :attr:`TransformResult.timings`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

from catalog.bronze.layout import BronzeError, BronzeStore, Manifest, sha256_hex
from catalog.errors import FollowersUnavailableError, LakehouseError
from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.compaction import MonthCompaction
from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import (
    ARTISTS_QUARANTINE,
    ARTISTS_SILVER,
    DQ_RESULTS,
    SILVER_BUSINESS_COLUMNS,
    TableDefinition,
    store_tag_retention,
    tag_retention_of,
)
from catalog.iceberg.tags import DEFAULT_TAG_RETENTION_DAYS, TagPlan, tag_name
from catalog.iceberg.tags.with_pyiceberg import LoadTagPlans, load_tag_plans
from catalog.iceberg.writes import commit_with_tags, day_has_files
from catalog.runtime.spark import spark_schema
from expectations.cross_day import SilverHistory, summarize_history
from expectations.frame import PartCheck, silver_check_rows
from expectations.persist import append_results, record_run, replace_quarantine
from expectations.quarantine import Verdict, judge
from expectations.report import render_report
from expectations.results import QualityRun, RunSummary
from expectations.runner import QualityContext, SuiteOutcome, quality_context
from expectations.store import ReportStore, report_key
from expectations.suites import (
    BRONZE_PART_PARSES,
    BRONZE_RECORDS_MATCH,
    BRONZE_SHA256_MATCHES,
    QualitySettings,
)
from glue.history import HistoryWindow
from glue.merge import (
    SUMMARY_DELETED,
    SUMMARY_INSERTED,
    SUMMARY_UPDATED,
    MergeOutcome,
    append_day,
    day_changes,
    merge_day,
    new_load_id,
    snapshot_of_load,
)
from glue.rows import DayRows, MalformedPartError, fetch_order, part_records, records_to_rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


#: What a refusal's reason says in place of the report when nothing was recorded (a dry run).
NOTHING_RECORDED: Final = "dry run: no report, quarantine or dq_results written"


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
    #: How many days the daily load tags are kept. ``None`` (every local run): the home's
    #: one setting, silver's table property (:func:`catalog.iceberg.tables.tag_retention_of`,
    #: set by ``maintain --tag-retention-days``). A number (the Glue job's
    #: ``--tag_retention_days``: the stack's setting) *becomes* the home's setting: it is
    #: stored on silver before the day is written (:func:`settle_retention`), never used for
    #: one run only, so a later load or maintenance cannot disagree with it.
    tag_retention_days: int | None = None
    definition: TableDefinition = ARTISTS_SILVER

    @property
    def quality(self) -> QualityContext:
        return quality_context()

    @property
    def retention(self) -> int:
        """The tag retention this day's writes use (settled by :func:`settle_retention`)."""
        if self.tag_retention_days is None:
            return DEFAULT_TAG_RETENTION_DAYS
        return self.tag_retention_days


def settle_retention(
    context: JobContext, tables: Mapping[str, Table]
) -> tuple[JobContext, dict[str, Table]]:
    """``context`` with the home's tag retention for the day, read from silver as just read
    (no extra catalog read), or, when the context names one, stored there first; and
    ``tables`` with silver as it is after (a stored setting is a metadata commit)."""
    settled = dict(tables)
    silver = settled.get(context.definition.name)
    if silver is None:
        return replace(context, tag_retention_days=context.retention), settled
    if context.tag_retention_days is None:
        return replace(context, tag_retention_days=tag_retention_of(silver.properties)), settled
    settled[context.definition.name] = store_tag_retention(silver, context.tag_retention_days)
    return context, settled


@dataclass(frozen=True)
class TransformResult:
    """What one day's run did, for the CLI, the logs and the tests."""

    snapshot_date: date
    run_id: str
    rows: int  # rows that passed validation and went into silver
    inserted: int
    updated: int
    snapshot_id: int | None
    tag: str | None
    quality: RunSummary
    repaired_tags: list[str] = field(default_factory=list)
    #: Seconds per stage: what the run spent where. ``bronze_read`` (manifest and parts),
    #: ``tables`` (each table read once), ``bronze_checks`` (bronze suite),
    #: ``history`` (silver's history window: carried in a range, else read) and
    #: ``validation`` (silver suite, the former included),
    #: ``record`` (= ``report`` + ``quarantine`` + ``dq_results``, the last two written
    #: after silver's load and tag), and ``merge``: silver's
    #: whole load (= ``silver_check``, the metadata check for rows of the day, + ``write``,
    #: the append or the MERGE, + ``tag`` when the tag is a commit of its own).
    timings: dict[str, float] = field(default_factory=dict)
    #: Rows of the day deleted by a re-load (artists its bronze run no longer has).
    deleted: int = 0
    #: How silver took the day: ``append`` (first load), ``merge`` (a re-load that changed
    #: something) or ``none`` (nothing changed, no commit).
    write: str = "none"
    #: The month-end compaction a range ran after this day (:func:`glue.days.compact_after`).
    compaction: MonthCompaction | None = None

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


def _check_part(
    store: BronzeStore, key: str, sha256: str, records: int
) -> tuple[PartCheck, list[Any]]:
    """The part's check and its records, decoded once: the check counts them (the
    manifest's record count), the rows flatten them."""
    try:
        body = store.get(key)
    except FileNotFoundError:
        return PartCheck(key, sha256, None, records, None, False, "missing"), []
    actual = sha256_hex(body)
    try:
        found = part_records(body, key)
    except MalformedPartError as e:
        return PartCheck(key, sha256, actual, records, None, False, str(e)), []
    return PartCheck(key, sha256, actual, records, len(found), True), found


def prepare_day(store: BronzeStore, day: date) -> PreparedDay:
    """Read ``day``'s manifest and every part it lists; refuse what needs no checking.

    Pure Python and no Great Expectations: an incomplete day or a followers-less day
    (exit 3) is refused in milliseconds. Parts are read whatever their state; the bronze
    suite judges them (:func:`judge_day`).
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
            check, found = _check_part(store, part.key, part.sha256, part.records)
            checks.append(check)
            if check.parses and check.sha256_actual == part.sha256:
                readable.append((part, found))
    except (OSError, BronzeError) as e:
        raise BronzePartError(
            f"cannot read bronze for {day.isoformat()} from {store.location}: {e}; check the "
            "store is reachable and readable, then re-run"
        ) from e
    rows = records_to_rows(readable, day=day, run_id=manifest.run_id)
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


@dataclass(frozen=True)
class ValidatedDay:
    """A day judged, its report written: the rows to load and the run that judged them (its
    quarantine and dq_results rows are written once silver has the load)."""

    prepared: PreparedDay
    verdict: Verdict
    run: QualityRun
    timings: dict[str, float]
    #: The tables as read at the start of the day, by name (the first attempts use them).
    tables: Mapping[str, Table] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgedDay:
    """A day judged as the load judges it, nothing written: the run the load would record
    (with its refusal sentence when the day would be refused) and the verdict on its rows.

    ``verdict`` is ``None`` when bronze failed its checks: the records were never judged
    (the load then records the run with ``judged_rows=False``).
    """

    prepared: PreparedDay
    run: QualityRun
    verdict: Verdict | None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return bool(self.run.refusal)

    def refusal_error(self, report: str | None) -> LakehouseError | None:
        """The exception the load raises for this day once its run is recorded (``report``:
        where its report went; ``None`` for a dry run, which records nothing). ``None`` when
        the day would load."""
        if not self.refused:
            return None
        if self.verdict is None:
            return BronzePartError(self.run.refusal)
        return NoValidRowsError(f"{self.run.refusal} ({report or NOTHING_RECORDED})")


def judge_day(
    prepared: PreparedDay,
    context: JobContext,
    tables: Mapping[str, Table],
    *,
    spark: Callable[[], SparkSession] | None = None,
    history: SilverHistory | HistoryWindow | None = None,
) -> JudgedDay:
    """Judge ``prepared``: what :func:`validate_day` (the load) and the dry run
    (:mod:`glue.dry_run`) both decide with, writing nothing.

    Bronze suite; if it fails, the run with the load's refusal sentence. Otherwise the
    history (``history`` as given; from the range's carried :class:`glue.history.
    HistoryWindow`; else read from silver as ``tables`` hold it: the previous counts and
    the cross-day checks' window), the silver suite
    (on Spark only when ``spark`` is given and the day is larger than ``pandas_max_rows``),
    the quarantine verdict, the artists that keep their loaded row, and the refusal when no
    row passes. ``tables``: the tables as just read, by name; a table missing from it does
    not exist yet (a home never loaded): silver is then empty.

    :func:`validate_day` is this plus its writes: it records the run and raises
    :meth:`JudgedDay.refusal_error` when refused, and writes the report otherwise.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    bronze = context.quality.validate_bronze(prepared.parts)
    timings["bronze_checks"] = time.perf_counter() - started
    if not bronze.success:
        run = replace(_new_run(prepared, (bronze,)), refusal=_bronze_refusal(prepared, bronze))
        return JudgedDay(prepared, run, None, timings)

    started = time.perf_counter()
    candidates = prepared.rows.candidates
    silver_table = tables.get(context.definition.name)
    min_gains = context.settings.cross_day.min_gain_history
    if isinstance(history, SilverHistory):
        pass  # given as it is (the dry run's would-be history)
    elif silver_table is None:  # no silver yet: nothing to compare with
        history = summarize_history((), prepared.day, min_gains=min_gains)
    else:
        window = history if history is not None else HistoryWindow()
        history = window.history(silver_table, prepared.day, min_gains=min_gains)
    timings["history"] = time.perf_counter() - started
    check_rows = silver_check_rows(
        candidates,
        day=prepared.day,
        backdated=prepared.manifest.backdated,
        history=history,
    )
    on_spark = spark is not None and len(check_rows) > context.settings.pandas_max_rows
    silver = context.quality.validate_silver(
        check_rows,
        day=prepared.day,
        max_rows=prepared.manifest.roster_size or None,
        max_daily_follower_change=context.settings.max_daily_follower_change,
        engine="spark" if on_spark else "pandas",
        spark=spark() if on_spark and spark is not None else None,
        cross_day=context.settings.cross_day,
        previous_load=history.previous_load,
    )
    verdict = judge(candidates, silver, preference=fetch_order)
    by_id = {c.row_id: c for c in candidates}
    kept = _kept_rows(context, tables, prepared.day, verdict) if silver_table is not None else ()
    run = replace(
        _new_run(prepared, (bronze, silver)),
        quarantined=tuple(verdict.quarantined),
        kept=kept,
        warned=tuple(
            (by_id[row_id], tuple(names)) for row_id, names in sorted(verdict.warnings.items())
        ),
    )
    if not verdict.good:
        reasons = ", ".join(r.name for r in silver.failed if r.critical) or "no records"
        run = replace(
            run,
            refusal=(
                f"no row of {prepared.day.isoformat()} passed validation ({len(candidates)} "
                f"evaluated, failed: {reasons}); silver unchanged, bronze run "
                f"{prepared.run_id} kept; see the quarantine table or the report"
            ),
        )
    timings["validation"] = time.perf_counter() - started
    return JudgedDay(prepared, run, verdict, timings)


def validate_day(
    prepared: PreparedDay,
    context: JobContext,
    *,
    spark: Callable[[], SparkSession] | None = None,
    tables: Mapping[str, Table] | None = None,
    history: HistoryWindow | None = None,
) -> ValidatedDay:
    """:func:`judge_day`, then what the load writes before silver: the report (or, for a
    refused day, the whole run: report, quarantine, dq_results, since no load follows).

    The run's quarantine and dq_results rows of a day that loads are not written here:
    :func:`load_day` writes them once silver holds the load (see the module docstring).
    ``spark`` (a factory) is called only when the day is large enough to validate on Spark.
    ``tables``: the tables as just read, by name (not read again); ``history``: the
    range's carried history window (None: read silver's). Raises
    :class:`BronzePartError` or :class:`NoValidRowsError` after recording the run.
    """
    tables = tables or {}
    judged = judge_day(prepared, context, tables, spark=spark, history=history)
    timings = dict(judged.timings)
    if judged.refused:
        run = record_run(
            context.catalog,
            judged.run,
            context.reports,
            judged_rows=judged.verdict is not None,
            tag_retention_days=context.retention,
            tables=tables,
        )
        error = judged.refusal_error(run.report)
        assert error is not None
        raise error
    assert judged.verdict is not None  # a day that is not refused had its rows judged
    started = time.perf_counter()
    run = _record_report(context, judged.run, timings)
    timings["record"] = time.perf_counter() - started
    return ValidatedDay(
        prepared=prepared, verdict=judged.verdict, run=run, timings=timings, tables=dict(tables)
    )


def _record_report(context: JobContext, run: QualityRun, timings: dict[str, float]) -> QualityRun:
    """What a run that goes on to load leaves before silver is written: its HTML report (a
    file of its own per bronze run, read by no one until dq_results names it). Returns the
    run with the report's location."""
    started = time.perf_counter()
    key = report_key(run.snapshot_date, run.run_id)
    location = context.reports.put(key, render_report(run).encode())
    timings["report"] = time.perf_counter() - started
    return replace(run, report=location)


def _record_outcome(context: JobContext, validated: ValidatedDay) -> dict[str, float]:
    """Once silver holds the load: the day's quarantine rows, then the run's dq_results
    rows (each with the day's tag); from here on ``quality`` reports the run. Returns the
    seconds of each."""
    run, tables = validated.run, validated.tables
    started = time.perf_counter()
    replace_quarantine(
        context.catalog,
        run,
        tag_retention_days=context.retention,
        table=tables.get(ARTISTS_QUARANTINE.name),
    )
    quarantine = time.perf_counter() - started
    started = time.perf_counter()
    append_results(
        context.catalog,
        run,
        run.report,
        tag_retention_days=context.retention,
        table=tables.get(DQ_RESULTS.name),
    )
    results = time.perf_counter() - started
    log.info(
        "data quality %s run %s: %s, %d quarantined, report %s",
        run.snapshot_date,
        run.run_id,
        "pass" if run.success else f"failed {', '.join(run.failed_expectations)}",
        len(run.quarantined),
        run.report,
    )
    return {"quarantine": quarantine, "dq_results": results}


def _kept_rows(
    context: JobContext, tables: Mapping[str, Table], day: date, verdict: Verdict
) -> tuple[str, ...]:
    """Artists quarantined now whose row of ``day``, from an earlier load, stays in silver
    (the load neither updates nor deletes it). Only a re-load with quarantined rows reads
    anything: silver's metadata says whether the day has rows at all."""
    loaded = {c.artist_id for c in verdict.good}
    failed = {q.candidate.artist_id for q in verdict.quarantined if q.candidate.artist_id}
    failed -= loaded
    if not failed:
        return ()
    table = tables.get(context.definition.name)
    if table is None:
        table = context.catalog.load_table(context.definition.identifier)
    if not day_has_files(table, day):
        return ()
    there = {row["artist_id"] for row in _rows_of_day(table, day)}
    return tuple(sorted(str(a) for a in failed if a in there))


def _rows_of_day(table: Table, day: date) -> list[dict[str, Any]]:
    """Silver's rows of ``day`` (artist and business columns), read with pyiceberg."""
    from pyiceberg.expressions import EqualTo, Reference
    from pyiceberg.expressions.literals import literal

    rows: list[dict[str, Any]] = (
        table.scan(
            row_filter=EqualTo(term=Reference("snapshot_date"), value=literal(day.isoformat())),
            selected_fields=("artist_id", *SILVER_BUSINESS_COLUMNS),
        )
        .to_arrow()
        .to_pylist()
    )
    return rows


def _landed_load(table: Table, load_id: str) -> MergeOutcome | None:
    """The outcome of the load ``load_id`` if its commit is in ``table`` (its counts read
    back from the commit's summary): settles a commit whose outcome was unknown."""
    snapshot_id = snapshot_of_load(table, load_id)
    snapshot = table.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snapshot is None or snapshot.summary is None:
        return None
    summary = snapshot.summary.additional_properties

    def count(key: str) -> int:
        return int(summary.get(key, "0"))

    return MergeOutcome(
        count(SUMMARY_INSERTED),
        count(SUMMARY_UPDATED),
        snapshot.snapshot_id,
        count(SUMMARY_DELETED),
        appended=snapshot.summary.operation.value == "append",
    )


def _tag_silver(
    catalog: Catalog, definition: TableDefinition, day: date, snapshot_id: int | None, days: int
) -> LoadTagPlans:
    """After a MERGE (or a load that changed nothing): the day's tag on its commit and the
    repair of every other missing or stale tag, in one metadata commit (none if all hold)."""

    def attempt() -> LoadTagPlans:
        table = catalog.load_table(definition.identifier)
        decided = load_tag_plans(table, day, snapshot_id, retention_days=days)
        if decided.plans:
            commit_with_tags(table, None, lambda _: decided.plans)
        return decided

    return retry_on_conflict(attempt, what=f"tags of {definition.qualified_name}", idempotent=True)


def load_day(
    spark: SparkSession | Callable[[], SparkSession],
    validated: ValidatedDay,
    context: JobContext,
    *,
    table: Table | None = None,
    history: HistoryWindow | None = None,
) -> TransformResult:
    """Load the rows that passed into silver, tag the load, then write the run's quarantine
    and dq_results rows (:func:`_record_outcome`). No change, no silver commit (the run is
    still recorded).

    Silver's metadata says whether the day may have rows; if it may, they are read (the
    day's files only). No row of the day: the rows are appended with the day's tag (and any
    tag repair) in one commit (:func:`glue.merge.append_day`). Rows that the load would not
    change (an unchanged re-run): nothing is written. Otherwise the changed rows are MERGEd
    (:func:`glue.merge.merge_day`, which also deletes the artists the day's bronze run no
    longer has) and tagged. ``spark`` may be a factory: it is called for a MERGE only.

    A commit conflict (another writer committed first) redoes the load from the new table
    state, a bounded number of times (:func:`catalog.iceberg.commits.retry_on_conflict`),
    deciding again between append and MERGE; a commit of unknown state is looked up by its
    load id first. ``table``: silver as just read, used by the first attempt. ``history``:
    the range's carried window, told of a first load's rows (any other outcome it sees
    for itself: silver's snapshot is not the one it carries).
    """
    prepared, definition, catalog = validated.prepared, context.definition, context.catalog
    day, name = prepared.day, spark_table_name(definition)
    rows = [c.row for c in validated.verdict.good]
    present = {c.artist_id for c in prepared.rows.candidates if c.artist_id}
    retention = context.retention
    given = [table] if table is not None else []
    spent = {"silver_check": 0.0, "write": 0.0, "tag": 0.0}
    load_ids: list[str] = []
    decided: list[LoadTagPlans] = []
    started = time.perf_counter()

    def attempt() -> MergeOutcome:
        loaded = given.pop() if given else catalog.load_table(definition.identifier)
        checked = time.perf_counter()
        existing = _rows_of_day(loaded, day) if day_has_files(loaded, day) else []
        changes = day_changes(existing, rows, present_ids=present) if existing else None
        spent["silver_check"] += time.perf_counter() - checked
        load_id = new_load_id()
        load_ids[:] = [load_id]
        writing = time.perf_counter()
        try:
            if changes is None:  # no row of the day: the first load (or the first since
                # the day was deleted)

                def tags(snapshot_id: int) -> tuple[TagPlan, ...]:
                    plans = load_tag_plans(loaded, day, snapshot_id, retention_days=retention)
                    decided[:] = [plans]
                    return plans.plans

                return append_day(
                    loaded, rows, day=day, run_id=prepared.run_id, load_id=load_id, tags=tags
                )
            if not changes.any:
                return MergeOutcome(0, 0, None)  # an unchanged re-run: no commit, no Spark
            session = spark() if callable(spark) else spark
            # Glue's catalog caches tables: the appends and tags made with pyiceberg are not
            # in its cache, and the MERGE must see the table as it is.
            session.sql(f"REFRESH TABLE {name}")
            changed = set(changes.inserted) | set(changes.updated)
            frame = session.createDataFrame(
                [
                    tuple(row.get(c) for c in definition.column_names)
                    for row in rows
                    if row["artist_id"] in changed
                ],
                schema=spark_schema(definition.schema),
            )
            # The MERGE computes its changes again, against the table as Spark reads it.
            return merge_day(
                session,
                name,
                frame,
                day=day,
                run_id=prepared.run_id,
                present_ids=present,
                load_id=load_id,
                find_snapshot=lambda lid: snapshot_of_load(
                    catalog.load_table(definition.identifier), lid
                ),
            )
        finally:
            spent["write"] += time.perf_counter() - writing

    def landed() -> MergeOutcome | None:
        return _landed_load(catalog.load_table(definition.identifier), load_ids[-1])

    outcome = retry_on_conflict(attempt, what=f"load of {day} into {name}", landed=landed)
    if history is not None and outcome.appended:
        history.loaded(day, rows, outcome.snapshot_id)
    if outcome.appended and decided:
        tagged = decided[-1]  # in the append's own commit
    else:
        tagging = time.perf_counter()
        tagged = _tag_silver(catalog, definition, day, outcome.snapshot_id, retention)
        spent["tag"] = time.perf_counter() - tagging
    if outcome.committed and tagged.tag is None:
        log.warning(
            "not tagging %s: %s is more than %d days before today (tag retention), so an "
            "as-of read of that day stays an error",
            tag_name(day),
            day.isoformat(),
            retention,
        )
    if tagged.aged_out:
        log.info(
            "%d load day(s) of %s are beyond the %d-day tag retention, their tags are not "
            "repaired (%s .. %s)",
            len(tagged.aged_out),
            name,
            retention,
            tagged.aged_out[0].isoformat(),
            tagged.aged_out[-1].isoformat(),
        )
    timings = {**validated.timings, **spent, "merge": time.perf_counter() - started}
    recorded = _record_outcome(context, validated)
    timings.update(recorded)
    timings["record"] = timings.get("record", 0.0) + sum(recorded.values())
    log.info("loaded %s: %s", day, {k: round(v, 3) for k, v in timings.items()})
    return TransformResult(
        snapshot_date=day,
        run_id=prepared.run_id,
        rows=len(rows),
        inserted=outcome.inserted,
        updated=outcome.updated,
        snapshot_id=outcome.snapshot_id,
        tag=tagged.tag,
        quality=validated.run.summary(),
        repaired_tags=list(tagged.repaired),
        timings=timings,
        deleted=outcome.deleted,
        write=("append" if outcome.appended else "merge") if outcome.committed else "none",
    )


def transform_day(
    spark: SparkSession | Callable[[], SparkSession],
    store: BronzeStore,
    day: date,
    context: JobContext,
    *,
    history: HistoryWindow | None = None,
) -> TransformResult:
    """Validate and load ``day`` from ``store``. Safe to re-run: nothing changed, no commit.

    ``spark`` may be a factory: it is called only when a re-load MERGEs (or the day is large
    enough to be validated on Spark), so a refused day, and a first load, never wait for a
    JVM. ``history``: the silver history window a range carries from day to day (None:
    this day reads its own).
    """
    from catalog.iceberg.tables import ensure_tables

    factory: Callable[[], SparkSession] = spark if callable(spark) else (lambda: spark)
    started = time.perf_counter()
    prepared = prepare_day(store, day)
    read = time.perf_counter() - started
    started = time.perf_counter()
    context, tables = settle_retention(context, ensure_tables(context.catalog))
    opened = time.perf_counter() - started
    validated = validate_day(prepared, context, spark=factory, tables=tables, history=history)
    validated.timings.update(bronze_read=read, tables=opened)
    return load_day(
        factory, validated, context, table=tables.get(context.definition.name), history=history
    )
