"""Record a run: the HTML report, the day's quarantine rows, the dq_results rows.

Written through pyiceberg, not Spark: the quarantine and results tables are small, pyiceberg
commits them in a fraction of a Spark write, and a day refused by the bronze checks is
recorded without starting a SparkSession at all. Both catalogs (SQLite locally, Glue on
AWS) are pyiceberg catalogs, so the same code runs in both places.

* Quarantine: a re-run *replaces* the day's rows (one overwrite commit), and makes no
  commit when they would not change, so re-running an unchanged day leaves no trace there.
  A clean run of a day the table has no file of (every first load of a clean day) decides
  that from metadata alone (:func:`catalog.iceberg.writes.day_has_files`): no scan.
* Results: every run appends its rows: the history of checks is the point of the table.
  Nothing is deleted or rewritten, ever: one append per run.
Both commits carry ``snapshot_date``, ``run_id`` and ``validation_id`` in their snapshot
summary, like silver's loads.

Time travel (ARCHITECTURE.md, "Time travel by snapshot date"): every Iceberg table resolves
its own ``snapshot-D`` tags, so after each write of day D both tables get their tag, as the
load-tag rule decides: a write's tag goes into the write's own catalog commit
(:func:`catalog.iceberg.writes.commit_with_tags`), so a day costs each table one commit; a
day whose quarantine did not change still gets its tag there
(:func:`catalog.iceberg.tags.rule.plan_side_table_tag`, applied by
:func:`catalog.iceberg.tags.with_pyiceberg.tag_day`), and a day beyond the tag retention
none.

A commit whose outcome is unknown is settled by looking for the run's ``validation_id`` in
the table's snapshot summaries before anything is redone (:mod:`catalog.iceberg.commits`),
so an append that did land is never appended twice.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.tables import ARTISTS_QUARANTINE, DQ_RESULTS
from catalog.iceberg.tags import (
    DEFAULT_TAG_RETENTION_DAYS,
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    TagPlan,
    plan_load_tag,
)
from catalog.iceberg.tags.with_pyiceberg import tag_day
from catalog.iceberg.writes import commit_with_tags, day_has_files
from expectations.report import render_report
from expectations.results import QualityRun, RunSummary
from expectations.store import ReportStore, report_key

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table, Transaction
    from pyiceberg.table.snapshots import Snapshot

log = logging.getLogger(__name__)

#: Snapshot-summary property naming the validation run (:attr:`QualityRun.validation_id`)
#: that made a quarantine or dq_results commit: how a commit of unknown state is found.
SUMMARY_VALIDATION_ID = "validation_id"

#: Quarantine columns whose equality means "the same verdict on the same record".
_QUARANTINE_IDENTITY = ("run_id", "row_id", "source_file", "raw_record", "failed_expectations")


def _arrow(table: Table, records: list[dict[str, Any]]) -> pa.Table:
    """Records as Arrow in the live table's schema (its field ids are the catalog's)."""
    import pyarrow as pa

    return pa.Table.from_pylist(records, schema=table.schema().as_arrow())


def _day(day: date) -> BooleanExpression:
    from pyiceberg.expressions import EqualTo, Reference
    from pyiceberg.expressions.literals import literal

    return EqualTo(term=Reference("snapshot_date"), value=literal(day.isoformat()))


def _fingerprint(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        tuple(tuple(v) if isinstance(v, list) else v for v in (r[c] for c in _QUARANTINE_IDENTITY))
        for r in rows
    )


def _properties(run: QualityRun) -> dict[str, str]:
    """The snapshot summary of a commit made for ``run``."""
    return {
        SUMMARY_SNAPSHOT_DATE: run.snapshot_date.isoformat(),
        SUMMARY_RUN_ID: run.run_id,
        SUMMARY_VALIDATION_ID: run.validation_id,
    }


def _latest(snapshots: Iterable[Snapshot]) -> Snapshot | None:
    return max(snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms), default=None)


def run_snapshot(table: Table, validation_id: str) -> Snapshot | None:
    """The latest snapshot committed for the run ``validation_id``, if any landed."""
    return _latest(
        s
        for s in table.metadata.snapshots
        if s.summary is not None
        and s.summary.additional_properties.get(SUMMARY_VALIDATION_ID) == validation_id
    )


def _landed(catalog: Catalog, identifier: tuple[str, str], validation_id: str) -> int | None:
    """The id of the run's snapshot in the table as it is now (settles an unknown state)."""
    snapshot = run_snapshot(catalog.load_table(identifier), validation_id)
    return snapshot.snapshot_id if snapshot is not None else None


def replace_quarantine(
    catalog: Catalog,
    run: QualityRun,
    *,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
    today: date | None = None,
    table: Table | None = None,
) -> bool:
    """Make the day's quarantine rows exactly this run's; returns whether it committed.

    Then ``snapshot-D`` is set on the quarantine table (``today``, UTC, default now, anchors
    the tag retention), in the same catalog commit when the rows changed. A clean run of a
    day that has nothing there (every first load of a clean day) reads no data file: the
    table's metadata says the day has no file, so there is nothing to compare or replace.
    ``table``: the table as just read, used by the first attempt.
    """
    records = run.quarantine_records()
    properties = _properties(run)
    identifier = ARTISTS_QUARANTINE.identifier
    day = run.snapshot_date
    given = [table] if table is not None else []
    last: list[Table] = []

    def attempt() -> bool:
        loaded = given.pop() if given else catalog.load_table(identifier)
        last[:] = [loaded]
        if not records and not day_has_files(loaded, day):
            return False  # nothing of the day there, nothing to put there
        existing = (
            loaded.scan(row_filter=_day(day), selected_fields=_QUARANTINE_IDENTITY)
            .to_arrow()
            .to_pylist()
        )
        if _fingerprint(existing) == _fingerprint(records):
            return False

        def stage(transaction: Transaction) -> None:
            if records and not existing:
                transaction.append(_arrow(loaded, records), snapshot_properties=properties)
            elif records:
                transaction.overwrite(
                    _arrow(loaded, records),
                    overwrite_filter=_day(day),
                    snapshot_properties=properties,
                )
            else:
                transaction.delete(_day(day), snapshot_properties=properties)

        made = commit_with_tags(loaded, stage, _day_tag(day, tag_retention_days, today))
        return made is not None

    def landed() -> bool | None:
        return True if _landed(catalog, identifier, run.validation_id) is not None else None

    committed = retry_on_conflict(attempt, what=f"quarantine of {day}", landed=landed)
    if not committed:
        tag_day(
            catalog,
            identifier,
            day,
            summary=properties,
            retention_days=tag_retention_days,
            committed=False,
            today=today,
            table=last[0] if last else None,
        )
    return committed


def _day_tag(
    day: date, retention_days: int, today: date | None
) -> Callable[[int | None], list[TagPlan]]:
    """The tag a commit of ``day`` on a quarantine or results table gets in that commit:
    ``snapshot-D`` on it, unless the day is beyond the tag retention (then none)."""
    anchor = today or datetime.now(UTC).date()

    def plans(snapshot_id: int | None) -> list[TagPlan]:
        if snapshot_id is None:
            return []
        plan = plan_load_tag(day, snapshot_id, retention_days, anchor)
        return [plan] if plan is not None else []

    return plans


def append_results(
    catalog: Catalog,
    run: QualityRun,
    report: str | None,
    *,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
    today: date | None = None,
    table: Table | None = None,
) -> int:
    """Append the run's rows to ``spotify.dq_results`` (one per expectation), tag the day.

    One catalog commit: the append and ``snapshot-D`` on it (every run's rows are kept: it
    is an append, nothing is ever deleted). Returns the snapshot id of the append. A commit of
    unknown state is looked up by the run's ``validation_id`` before it is redone, so the
    run's rows are never appended twice. ``table``: the table as just read, used by the
    first attempt.
    """
    records = run.dq_records(report)
    properties = _properties(run)
    identifier = DQ_RESULTS.identifier
    given = [table] if table is not None else []
    tags = _day_tag(run.snapshot_date, tag_retention_days, today)

    def attempt() -> int:
        loaded = given.pop() if given else catalog.load_table(identifier)
        rows = _arrow(loaded, records)

        def stage(transaction: Transaction) -> None:
            transaction.append(rows, snapshot_properties=properties)

        made = commit_with_tags(loaded, stage, tags)
        assert made is not None  # an append always makes a snapshot
        return made

    return retry_on_conflict(
        attempt,
        what=f"dq_results of {run.snapshot_date}",
        landed=lambda: _landed(catalog, identifier, run.validation_id),
    )


def record_run(
    catalog: Catalog,
    run: QualityRun,
    reports: ReportStore,
    *,
    judged_rows: bool = True,
    tag_retention_days: int = DEFAULT_TAG_RETENTION_DAYS,
    today: date | None = None,
    tables: Mapping[str, Table] | None = None,
    timings: dict[str, float] | None = None,
) -> QualityRun:
    """Write the report, then the quarantine (when rows were judged), then the results.

    ``judged_rows`` is false when bronze refused the day: its records were never judged,
    so the quarantine keeps what the last judging run put there (and its tags).
    ``tag_retention_days`` is how long the ``snapshot-D`` tags set on both tables are kept;
    ``today`` (UTC, default now) anchors it: a day beyond it gets no tag. ``tables``: the
    tables as just read, by name (:func:`catalog.iceberg.tables.ensure_tables`), so they are
    not read again; ``timings`` receives the seconds of each step (report, quarantine,
    dq_results).
    """
    tables = tables or {}
    spent = timings if timings is not None else {}
    started = time.perf_counter()
    location = reports.put(report_key(run.snapshot_date, run.run_id), render_report(run).encode())
    spent["report"] = time.perf_counter() - started
    if judged_rows:
        started = time.perf_counter()
        replace_quarantine(
            catalog,
            run,
            tag_retention_days=tag_retention_days,
            today=today,
            table=tables.get(ARTISTS_QUARANTINE.name),
        )
        spent["quarantine"] = time.perf_counter() - started
    started = time.perf_counter()
    append_results(
        catalog,
        run,
        location,
        tag_retention_days=tag_retention_days,
        today=today,
        table=tables.get(DQ_RESULTS.name),
    )
    spent["dq_results"] = time.perf_counter() - started
    log.info(
        "data quality %s run %s: %s, %d quarantined, report %s",
        run.snapshot_date,
        run.run_id,
        "pass" if run.success else f"failed {', '.join(run.failed_expectations)}",
        len(run.quarantined),
        location,
    )
    return replace(run, report=location)


def latest_runs(catalog: Catalog, day: date | None = None) -> list[RunSummary]:
    """The latest run of every day (or of ``day``) from ``spotify.dq_results``, by date."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
    from pyiceberg.expressions import AlwaysTrue

    try:
        table = catalog.load_table(DQ_RESULTS.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return []
    rows = table.scan(row_filter=_day(day) if day else AlwaysTrue()).to_arrow().to_pylist()
    runs: dict[tuple[date, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        runs[(row["snapshot_date"], row["validation_id"])].append(row)
    latest: dict[date, list[dict[str, Any]]] = {}
    for (snapshot_date, _), results in runs.items():
        current = latest.get(snapshot_date)
        if current is None or results[0]["validated_at"] > current[0]["validated_at"]:
            latest[snapshot_date] = results
    return [QualityRun.from_records(latest[d]).summary() for d in sorted(latest)]
