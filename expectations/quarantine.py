"""From the suite's verdict to the rows that load and the rows that are quarantined.

A record is quarantined when it fails any critical row-level expectation. Duplicates of
an artist on one day (a roster listing it twice, a fallback fetch) all fail the
uniqueness expectation; among the copies that fail nothing else, the one the caller
prefers (the job: the latest fetch) is loaded and the others are quarantined, so the day
still has the artist and the superseded copies stay visible and explained.
Warnings never quarantine: the row loads and the warning is reported.

A critical day-level cross-day check that failed (the roster shrank, the row count moved
too far from the previous load's: :data:`expectations.suites.DAY_LEVEL_CROSS_DAY_CHECKS`)
refuses the day: every record is quarantined with that check's name (beside any row-level
failure of its own), so no row loads and the job refuses the day as it does one where no
row passed, with the records kept and explained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from catalog.bronze.payload import storable_text
from expectations.frame import Candidate
from expectations.runner import SuiteOutcome
from expectations.suites import ARTIST_DAY_UNIQUE, DAY_LEVEL_CROSS_DAY_CHECKS, WARNING


@dataclass(frozen=True)
class QuarantinedRow:
    """A record kept out of silver, with what it failed."""

    candidate: Candidate
    failed_expectations: tuple[str, ...]

    def as_record(
        self, *, day: date, run_id: str, validation_id: str, validated_at: datetime
    ) -> dict[str, Any]:
        """The row of ``spotify.artists_quarantine``.

        Its text is made storable here too (:func:`catalog.bronze.payload.storable_text`):
        the quarantine is where a record with text UTF-8 cannot encode must land, so the
        writer never trusts that whoever built the candidate escaped it already.
        """
        artist_id = self.candidate.artist_id
        return {
            "snapshot_date": day,
            "run_id": run_id,
            "row_id": self.candidate.row_id,
            "artist_id": storable_text(artist_id) if artist_id is not None else None,
            "source_file": storable_text(self.candidate.source_file),
            "raw_record": storable_text(self.candidate.raw),
            "failed_expectations": list(self.failed_expectations),
            "validation_id": validation_id,
            "validated_at": validated_at,
        }


@dataclass(frozen=True)
class Verdict:
    """The day split: rows to MERGE, rows to quarantine, warnings on loaded rows."""

    good: list[Candidate]
    quarantined: list[QuarantinedRow]
    warnings: dict[int, list[str]] = field(default_factory=dict)


def judge(
    candidates: Sequence[Candidate],
    outcome: SuiteOutcome,
    *,
    preference: Callable[[Candidate], Any],
) -> Verdict:
    """Split ``candidates`` by ``outcome``; ``preference`` ranks duplicate copies (max wins)."""
    failures = outcome.row_failures()
    refusing = tuple(
        r.name
        for r in outcome.results
        if r.critical and not r.success and r.name in DAY_LEVEL_CROSS_DAY_CHECKS
    )
    if refusing:  # nothing loads, so no row is "loaded with warnings"
        return Verdict(
            good=[],
            quarantined=[
                QuarantinedRow(c, (*failures.get(c.row_id, []), *refusing))
                for c in sorted(candidates, key=lambda c: c.row_id)
            ],
        )
    quarantined: list[QuarantinedRow] = []
    clean: list[Candidate] = []
    duplicates: dict[str | None, list[Candidate]] = {}
    for candidate in candidates:
        failed = failures.get(candidate.row_id, [])
        others = [name for name in failed if name != ARTIST_DAY_UNIQUE]
        if others:
            quarantined.append(QuarantinedRow(candidate, tuple(failed)))
        elif failed:
            duplicates.setdefault(candidate.artist_id, []).append(candidate)
        else:
            clean.append(candidate)
    for copies in duplicates.values():
        keep = max(copies, key=preference)
        clean.append(keep)
        quarantined.extend(QuarantinedRow(c, (ARTIST_DAY_UNIQUE,)) for c in copies if c is not keep)
    clean.sort(key=lambda c: c.row_id)
    quarantined.sort(key=lambda q: q.candidate.row_id)
    return Verdict(
        good=clean,
        quarantined=quarantined,
        warnings=outcome.row_failures(severity=WARNING),
    )
