"""The data-quality verdicts of the home's loads, as ``quality`` and the demo report them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from catalog.paths import LakehousePaths
from expectations.results import RunSummary


def latest_quality_runs(paths: LakehousePaths, day: date | None = None) -> list[RunSummary]:
    """The latest data-quality run of every day (or of ``day``), by date.

    A home that has no catalog yet has no runs: the catalog file is not created just to
    say so.
    """
    if not paths.catalog_db.exists():
        return []
    from catalog.iceberg.profiles import local_catalog
    from expectations.persist import latest_runs

    return latest_runs(local_catalog(paths), day)


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
