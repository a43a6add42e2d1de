"""The data-quality verdicts of the home's loads, as ``quality`` and the demo report them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Final

from catalog.paths import LakehousePaths
from expectations.results import RunSummary

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def latest_quality_runs(paths: LakehousePaths, day: date | None = None) -> list[RunSummary]:
    """The latest data-quality run of every day (or of ``day``), by date.

    A home that has no catalog yet has no runs: the catalog file is not created just to
    say so.
    """
    if not paths.catalog_db.exists():
        return []
    from catalog.iceberg.profiles import local_catalog
    from expectations.persist import latest_runs

    catalog = local_catalog(paths)
    return unloaded_runs_failed(catalog, latest_runs(catalog, day))


#: What a passing run whose load never committed lists among its failures.
NOT_LOADED: Final = "load_not_committed"


def unloaded_runs_failed(catalog: Catalog, runs: list[RunSummary]) -> list[RunSummary]:
    """``runs`` with a passing day that silver never loaded turned into a failure.

    The job appends a run's dq_results rows after silver's commit and tag
    (:mod:`glue.transform`), so a run killed before them (SIGKILL, a full disk) leaves no
    passing run behind. This guards what that order cannot: a home written by a job that
    recorded its checks before its MERGE, or a silver put back to an earlier metadata file
    by hand. Such a day is listed as failed (``load_not_committed``: run ``transform``
    again), never as a success. A day counts as loaded when a silver commit or tag names it
    or silver holds rows of it, so a re-run that changed nothing (no commit) stays a success.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from catalog.iceberg.tables import ARTISTS_SILVER

    suspects = [r for r in runs if r.success and r.evaluated_rows > r.quarantined_rows]
    if not suspects:
        return runs
    try:
        silver = catalog.load_table(ARTISTS_SILVER.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        silver = None
    named: set[str] = set()
    if silver is not None:
        for snapshot in silver.metadata.snapshots:
            summary = snapshot.summary.additional_properties if snapshot.summary else {}
            named.add(str(summary.get("snapshot_date", "")))
        named |= {name.removeprefix("snapshot-") for name in silver.metadata.refs}

    def loaded(day: date) -> bool:
        if day.isoformat() in named:
            return True
        if silver is None or silver.current_snapshot() is None:
            return False
        rows = silver.scan(row_filter=f"snapshot_date = '{day.isoformat()}'", limit=1)
        return len(rows.to_arrow()) > 0

    unloaded = {r.snapshot_date for r in suspects if not loaded(r.snapshot_date)}
    return [
        replace(
            r,
            success=False,
            failed_expectations=[*r.failed_expectations, NOT_LOADED],
        )
        if r.snapshot_date in unloaded
        else r
        for r in runs
    ]


@dataclass(frozen=True)
class QualitySummary:
    """The data quality of a window of days, in one paragraph's figures."""

    days: int
    passed: int
    evaluated_rows: int
    quarantined_rows: int
    #: Expectations that failed or warned on any day of the window, by name.
    failed_expectations: tuple[str, ...]
    #: The report of the window's latest day, when it wrote one.
    latest_report: str | None

    @classmethod
    def of(cls, runs: Iterable[RunSummary], window: Collection[date]) -> QualitySummary:
        """The runs of the days in ``window``."""
        inside = [r for r in runs if r.snapshot_date in window]
        latest = max(inside, key=lambda r: r.snapshot_date, default=None)
        return cls(
            days=len(inside),
            passed=sum(r.success for r in inside),
            evaluated_rows=sum(r.evaluated_rows for r in inside),
            quarantined_rows=sum(r.quarantined_rows for r in inside),
            failed_expectations=tuple(sorted({n for r in inside for n in r.failed_expectations})),
            latest_report=latest.report if latest is not None else None,
        )
