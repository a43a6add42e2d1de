"""Record a run: the HTML report, the day's quarantine rows, the dq_results rows.

Written through pyiceberg, not Spark: the quarantine and results tables are small, pyiceberg
commits them in a fraction of a Spark write, and a day refused by the bronze checks is
recorded without starting a SparkSession at all. Both catalogs (SQLite locally, Glue on
AWS) are pyiceberg catalogs, so the same code runs in both places.

* Quarantine: a re-run *replaces* the day's rows (one overwrite commit), and makes no
  commit when they would not change, so re-running an unchanged day leaves no trace there.
* Results: every run appends its rows: the history of checks is the point of the table.
Both commits carry ``snapshot_date`` and ``run_id`` in their snapshot summary, like silver.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.tables import ARTISTS_QUARANTINE, DQ_RESULTS
from catalog.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE
from expectations.conflicts import retry_on_conflict
from expectations.report import render_report
from expectations.results import QualityRun, RunSummary
from expectations.store import ReportStore, report_key
from expectations.suites import CRITICAL, SILVER_SUITE

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

log = logging.getLogger(__name__)

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


def replace_quarantine(catalog: Catalog, run: QualityRun) -> bool:
    """Make the day's quarantine rows exactly this run's; returns whether it committed."""
    records = run.quarantine_records()
    properties = {SUMMARY_SNAPSHOT_DATE: run.snapshot_date.isoformat(), SUMMARY_RUN_ID: run.run_id}

    def attempt() -> bool:
        table = catalog.load_table(ARTISTS_QUARANTINE.identifier)
        existing = (
            table.scan(row_filter=_day(run.snapshot_date), selected_fields=_QUARANTINE_IDENTITY)
            .to_arrow()
            .to_pylist()
        )
        if _fingerprint(existing) == _fingerprint(records):
            return False
        if records and not existing:
            table.append(_arrow(table, records), snapshot_properties=properties)
        elif records:
            table.overwrite(
                _arrow(table, records),
                overwrite_filter=_day(run.snapshot_date),
                snapshot_properties=properties,
            )
        else:
            table.delete(_day(run.snapshot_date), snapshot_properties=properties)
        return True

    return retry_on_conflict(attempt, what=f"quarantine of {run.snapshot_date}")


def append_results(catalog: Catalog, run: QualityRun, report: str | None) -> None:
    """Append the run's rows to ``spotify.dq_results`` (one per expectation)."""
    records = run.dq_records(report)
    properties = {SUMMARY_SNAPSHOT_DATE: run.snapshot_date.isoformat(), SUMMARY_RUN_ID: run.run_id}

    def attempt() -> None:
        table = catalog.load_table(DQ_RESULTS.identifier)
        table.append(_arrow(table, records), snapshot_properties=properties)

    retry_on_conflict(attempt, what=f"dq_results of {run.snapshot_date}")


def record_run(
    catalog: Catalog, run: QualityRun, reports: ReportStore, *, judged_rows: bool = True
) -> QualityRun:
    """Write the report, then the quarantine (when rows were judged), then the results.

    ``judged_rows`` is false when bronze refused the day: its records were never judged,
    so the quarantine keeps what the last judging run put there.
    """
    location = reports.put(report_key(run.snapshot_date, run.run_id), render_report(run).encode())
    if judged_rows:
        replace_quarantine(catalog, run)
    append_results(catalog, run, location)
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
    return [_summary(latest[d]) for d in sorted(latest)]


def _summary(results: list[dict[str, Any]]) -> RunSummary:
    failed = sorted(
        (r for r in results if not r["success"]),
        key=lambda r: (r["severity"] != CRITICAL, r["suite"], r["expectation"]),
    )
    silver = [r["evaluated_rows"] or 0 for r in results if r["suite"] == SILVER_SUITE]
    first = results[0]
    return RunSummary(
        snapshot_date=first["snapshot_date"],
        run_id=first["run_id"],
        success=all(r["success"] for r in results if r["severity"] == CRITICAL),
        evaluated_rows=max(silver, default=0),
        quarantined_rows=int(first["quarantined_rows"] or 0),
        failed_expectations=[r["expectation"] for r in failed],
        report=first["report"],
    )
