"""The run the CLI is making, recorded in ``spotify.pipeline_runs`` when it ends.

Three parties, one run:

* :mod:`infra.cli.main` knows which command runs and how it ends (the exit status and the
  one reason line): it calls :func:`expect` before the command and :func:`finish` after.
* the command's work says when it has begun (:func:`begin`: the local pipeline when it is
  built, ``delete-day``, ``maintain`` and ``import-legacy`` after their checks), so bad usage
  and ``--help`` record nothing and never create a home;
* the work tells the run what it did as it goes (:func:`current` returns the
  :class:`LocalRun`, or None when no command expects one: a test driving
  :class:`~infra.local.pipeline.LocalPipeline` directly records nothing).

The row is written after the outcome is known, with the engine ``local``. Writing it never
fails the command nor changes its exit status or reason: a failure to record is one warning.
It is not written where writing would do harm: a home that does not exist (nothing ran
there), or one whose catalog lost tables its warehouse holds (a new catalog would start a
second history beside them; ``repair-catalog`` is the way out, and the reason says so).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

from catalog.iceberg.run_log import ResponseCounter, RunRecord, RunTally
from catalog.paths import LakehousePaths

if TYPE_CHECKING:
    from glue.transform import TransformResult
    from ingest.client import SpotifyClient
    from ingest.pipeline import IngestResult

log = logging.getLogger(__name__)

#: The engine of every run this module records.
ENGINE: Final = "local"


@dataclass
class LocalRun:
    """One command's run: what it is, since when, and what its work reported."""

    kind: str
    run_id: str
    started_at: datetime
    started: float  # time.perf_counter() at the start
    paths: LakehousePaths | None = None
    tally: RunTally = field(default_factory=RunTally)
    #: Set once the row is written (a command may write it early: ``demo``).
    recorded: RunRecord | None = None

    def day(self, day: date) -> None:
        """The run is about ``day`` (noted before the day's work, so a failed day counts)."""
        self.tally.day(day)

    def ingested(
        self,
        result: IngestResult,
        seconds: float,
        *,
        requests: int | None = None,
        waits: int | None = None,
    ) -> None:
        self.tally.add_fetch(
            day=result.day,
            records=0 if result.already_complete else result.records,
            bronze_run_id=result.run_id,
            seconds=seconds,
            api_requests=requests,
            rate_limit_waits=waits,
        )

    def loaded(self, result: TransformResult) -> None:
        self.tally.add_load(
            day=result.snapshot_date,
            inserted=result.inserted,
            updated=result.updated,
            deleted=result.deleted,
            quarantined=result.quarantined,
            snapshot_id=result.snapshot_id,
            bronze_run_id=result.run_id,
            timings=result.timings,
        )

    def record(self, exit_code: int, reason: str | None) -> RunRecord:
        """The row for this outcome (not written)."""
        return self.tally.record(
            run_id=self.run_id,
            kind=self.kind,
            engine=ENGINE,
            started_at=self.started_at,
            ended_at=datetime.now(UTC),
            exit_code=exit_code,
            error=reason,
            elapsed_s=time.perf_counter() - self.started,
        )


class FetchMeter:
    """The seconds, requests and 429 pauses of one fetch: the client's counts read before
    and after it. ``responses`` counts the answers of the client's session
    (:func:`count_responses`; None: requests are not known)."""

    def __init__(self, client: SpotifyClient, responses: ResponseCounter | None) -> None:
        self._client = client
        self._responses = responses
        self._requests = responses.count if responses is not None else 0
        self._waits = client.rate_limit_pauses
        self._started = time.perf_counter()

    def done(self) -> tuple[float, int | None, int]:
        """Seconds, requests (None: not counted) and 429 pauses since this meter started."""
        return (
            time.perf_counter() - self._started,
            self._responses.count - self._requests if self._responses is not None else None,
            self._client.rate_limit_pauses - self._waits,
        )


def count_responses(client: SpotifyClient) -> ResponseCounter | None:
    """Count every HTTP answer ``client`` receives from now on (install once per client);
    None for a client without a ``requests`` session (a stand-in): its session gets a
    response hook."""
    session = getattr(client, "session", None)
    return ResponseCounter(session) if session is not None else None


_expected: list[LocalRun] = []


def expect(kind: str) -> None:
    """The command about to run writes, as a run of ``kind``; its clock starts now."""
    from ingest.pipeline import new_run_id

    _expected[:] = [
        LocalRun(kind, new_run_id(), started_at=datetime.now(UTC), started=time.perf_counter())
    ]


def begin(paths: LakehousePaths) -> LocalRun | None:
    """The command's work begins in the home ``paths``; the run, if a command expects one."""
    run = _expected[0] if _expected else None
    if run is not None and run.paths is None:
        run.paths = paths
    return run


def current() -> LocalRun | None:
    """The run that has begun, if any."""
    run = _expected[0] if _expected else None
    return run if run is not None and run.paths is not None else None


def finish(exit_code: int, reason: str | None) -> RunRecord | None:
    """End the expected run: write its row if its work began and it is not written yet.
    Returns the row written (None: none). Never raises."""
    run = current()
    _expected.clear()
    if run is None or run.recorded is not None:
        return None
    return write(run, exit_code, reason)


def write(run: LocalRun, exit_code: int, reason: str | None) -> RunRecord | None:
    """Write ``run``'s row now (a command that reads its own history writes it early);
    None, with a warning, when it cannot be written. Never raises."""
    if run.recorded is not None or run.paths is None:
        return run.recorded
    try:
        record = run.record(exit_code, reason)
        if _writable(run.paths):
            from catalog.iceberg.profiles import local_catalog
            from catalog.iceberg.run_log import append_runs

            append_runs(local_catalog(run.paths), [record])
            run.recorded = record
            return record
    except Exception as e:  # the run's own outcome stands whatever happens here
        log.warning(
            "the %s run %s was not recorded in spotify.pipeline_runs: %s: %s",
            run.kind,
            run.run_id,
            type(e).__name__,
            " ".join(str(e).split())[:300],
        )
    return None


def _writable(paths: LakehousePaths) -> bool:
    """Whether a row may be written in ``paths``: the home exists and its catalog knows
    every table of its warehouse (else a write would fork history: repair-catalog first)."""
    from catalog.iceberg.repair import unknown_tables

    if not paths.home.is_dir():
        return False
    missing = unknown_tables(paths)
    if missing:
        log.info("run not recorded: the catalog of %s lacks tables (repair-catalog)", paths.home)
        return False
    return True
