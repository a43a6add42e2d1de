"""One validation run of a day, as recorded: dq_results rows, quarantine rows, the summary.

A *run* is one execution of the job for a day (``validation_id``); ``run_id`` is the
ingest run whose bronze it validated, so quarantine rows point at the bronze folder
``run_id=R`` their raw records came from. Re-validating the same bronze is a new run of
the same ``run_id``; ``spotify-lakehouse quality`` shows the latest per day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from expectations.frame import Candidate
from expectations.quarantine import QuarantinedRow
from expectations.runner import Engine, ExpectationOutcome, SuiteOutcome, jsonable
from expectations.suites import SILVER_SUITE


@dataclass(frozen=True)
class QualityRun:
    """What one run found on one day, across its suites."""

    snapshot_date: date
    run_id: str
    validation_id: str
    validated_at: datetime
    outcomes: tuple[SuiteOutcome, ...]
    quarantined: tuple[QuarantinedRow, ...] = ()
    #: Loaded rows that failed a warning, with the names (reported, never quarantined).
    warned: tuple[tuple[Candidate, tuple[str, ...]], ...] = ()
    #: A sentence for the report and the logs when the day was refused.
    refusal: str = ""
    #: Artists whose record failed this run and who keep the row an earlier load of the day
    #: put in silver (a re-load never removes a validated row for a failed one).
    kept: tuple[str, ...] = ()
    report: str | None = field(default=None, compare=False)
    #: Set only on a run rebuilt from ``spotify.dq_results`` (:meth:`from_records`), whose
    #: quarantined rows are not loaded: the count its rows recorded.
    recorded_quarantined_rows: int | None = field(default=None, compare=False)

    @property
    def success(self) -> bool:
        """Every critical expectation of every suite held."""
        return all(o.success for o in self.outcomes)

    @property
    def results(self) -> list[ExpectationOutcome]:
        return [r for o in self.outcomes for r in o.results]

    @property
    def failed_expectations(self) -> list[str]:
        """Names of the expectations that failed, critical first, then warnings."""
        failed = [r for r in self.results if not r.success]
        return [r.name for r in sorted(failed, key=lambda r: not r.critical)]

    @property
    def evaluated_rows(self) -> int:
        """Candidate rows the silver suite judged (0 when bronze refused the day)."""
        return sum(o.evaluated_rows for o in self.outcomes if o.suite == SILVER_SUITE)

    @property
    def quarantined_rows(self) -> int:
        """Rows this run quarantined."""
        if self.recorded_quarantined_rows is not None:
            return self.recorded_quarantined_rows
        return len(self.quarantined)

    @property
    def engine(self) -> str:
        silver = [o.engine for o in self.outcomes if o.suite == SILVER_SUITE]
        return silver[0] if silver else "pandas"

    @property
    def seconds(self) -> float:
        return sum(o.seconds for o in self.outcomes)

    def dq_records(self, report: str | None) -> list[dict[str, Any]]:
        """The rows of ``spotify.dq_results`` for this run, one per expectation."""
        return [
            {
                "snapshot_date": self.snapshot_date,
                "run_id": self.run_id,
                "validation_id": self.validation_id,
                "validated_at": self.validated_at,
                "suite": r.suite,
                "expectation": r.name,
                "severity": r.severity,
                "success": r.success,
                "evaluated_rows": r.evaluated_rows,
                "unexpected_count": r.unexpected_count,
                "observed_value": (
                    None
                    if r.observed_value is None
                    else json.dumps(jsonable(r.observed_value), sort_keys=True)
                ),
                "engine": outcome.engine,
                "quarantined_rows": self.quarantined_rows,
                "report": report,
            }
            for outcome in self.outcomes
            for r in outcome.results
        ]

    def summary(self) -> RunSummary:
        """The run as ``spotify-lakehouse quality`` and ``run`` print it.

        The one place a summary is built: the job summarizes the run it just made, and
        ``quality`` the runs it rebuilds from ``spotify.dq_results`` (:meth:`from_records`).
        """
        return RunSummary(
            snapshot_date=self.snapshot_date,
            run_id=self.run_id,
            success=self.success,
            evaluated_rows=self.evaluated_rows,
            quarantined_rows=self.quarantined_rows,
            failed_expectations=self.failed_expectations,
            report=self.report,
        )

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]]) -> QualityRun:
        """A run rebuilt from its ``spotify.dq_results`` rows (all of one ``validation_id``).

        The rows keep the order :meth:`dq_records` wrote them in (one append, one data file
        per run), so suites and expectations come back in the order they ran. A suite's
        ``evaluated_rows`` is the most rows any of its expectations evaluated; timings,
        quarantined and warned rows are not recorded there (the quarantine count is).
        """
        if not records:
            raise ValueError("a run needs at least one dq_results row")
        first = records[0]
        by_suite: dict[str, list[Mapping[str, Any]]] = {}
        for record in records:
            by_suite.setdefault(record["suite"], []).append(record)
        outcomes = tuple(
            SuiteOutcome(
                suite=suite,
                engine=cast("Engine", rows[0]["engine"]),
                results=tuple(
                    ExpectationOutcome(
                        suite=suite,
                        name=r["expectation"],
                        severity=r["severity"],
                        success=bool(r["success"]),
                        evaluated_rows=r["evaluated_rows"],
                        unexpected_count=r["unexpected_count"],
                        observed_value=(
                            None if r["observed_value"] is None else json.loads(r["observed_value"])
                        ),
                    )
                    for r in rows
                ),
                seconds=0.0,
                evaluated_rows=max((r["evaluated_rows"] or 0 for r in rows), default=0),
            )
            for suite, rows in by_suite.items()
        )
        return cls(
            snapshot_date=first["snapshot_date"],
            run_id=first["run_id"],
            validation_id=first["validation_id"],
            validated_at=first["validated_at"],
            outcomes=outcomes,
            report=first["report"],
            recorded_quarantined_rows=int(first["quarantined_rows"] or 0),
        )

    def quarantine_records(self) -> list[dict[str, Any]]:
        """The rows of ``spotify.artists_quarantine`` for this day."""
        return [
            q.as_record(
                day=self.snapshot_date,
                run_id=self.run_id,
                validation_id=self.validation_id,
                validated_at=self.validated_at,
            )
            for q in self.quarantined
        ]


@dataclass(frozen=True)
class RunSummary:
    """The latest run of a day, as ``spotify-lakehouse quality`` prints it."""

    snapshot_date: date
    run_id: str
    success: bool
    evaluated_rows: int
    quarantined_rows: int
    failed_expectations: list[str]
    report: str | None

    #: The JSON contract's fields, in order (ARCHITECTURE.md, ``quality --format json``).
    FIELDS = (
        "snapshot_date",
        "run_id",
        "success",
        "evaluated_rows",
        "quarantined_rows",
        "failed_expectations",
        "report",
    )

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in self.FIELDS]
