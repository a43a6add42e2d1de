"""The pipeline on one machine: fetch a day into bronze, load it into silver, day after day.

:class:`LocalPipeline` is what ``demo``, ``run``, ``ingest``, ``transform`` and ``backfill``
call. It wires the stage code AWS runs (:mod:`ingest`, :mod:`glue`) to the home's folders
and SQLite catalog, and holds what is slow to start for its whole life, each started on
first use: one SparkSession (4-10 s: a 30-day backfill pays it once, a refused day never),
the data-quality context (Great Expectations, ~3 s), the catalog, and the Spotify
connection (the simulator starts once per run). Each day's load holds the home's write
lease (:func:`catalog.iceberg.lease.write_lease`), so ``maintain`` never runs while a day is
being written.

A command of the CLI records its run in ``spotify.pipeline_runs`` (:mod:`infra.local.runs`):
the pipeline tells that run each day it starts, each fetch (records, seconds, requests, 429
pauses) and each load (rows, stage seconds, the commit), whatever the outcome. Built outside
a command (tests, notebooks), it records nothing.

Every step returns what it did as a frozen value, and tells :class:`Progress` as soon as a
stage of a day is done, so a long backfill reports day by day rather than at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from catalog.bronze.local import LocalBronzeStore
from catalog.errors import LakehouseError
from catalog.iceberg.lease import write_lease
from catalog.iceberg.repair import require_known_tables
from catalog.paths import LakehousePaths
from glue.days import collector_settled, compact_after
from glue.history import HistoryWindow
from glue.transform import JobContext, TransformResult, transform_day
from infra.local import runs
from infra.local.plans import warm_query_plans
from infra.local.spotify import SpotifyFetch, open_connection
from ingest.pipeline import IngestResult, ingest_day

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from catalog.iceberg.run_log import ResponseCounter
    from ingest.connection import SpotifyConnection


def _ignore(_: object) -> None:
    """No one listens."""


@dataclass(frozen=True)
class Progress:
    """Who hears about each stage of a day as soon as it is done (the CLI prints a line)."""

    ingested: Callable[[IngestResult], object] = _ignore
    loaded: Callable[[TransformResult], object] = _ignore


@dataclass(frozen=True)
class DayRun:
    """One day through the pipeline: its fetch (None when loaded from bronze as it was)
    and its load."""

    day: date
    ingest: IngestResult | None
    transform: TransformResult


@dataclass(frozen=True)
class BackfillResult:
    """Every day of a range, in date order, each loaded (one commit per changed day)."""

    days: tuple[DayRun, ...]

    @property
    def transforms(self) -> tuple[TransformResult, ...]:
        return tuple(d.transform for d in self.days)

    @property
    def commits(self) -> int:
        return sum(d.transform.committed for d in self.days)


class BackfillStoppedError(LakehouseError):
    """A day of a range failed; the days before it are committed, the rest not attempted.

    The exit status is the cause's (3 for a day without followers, 1 otherwise).
    """

    def __init__(self, day: date, cause: Exception, completed: Sequence[TransformResult]) -> None:
        commits = sum(r.committed for r in completed)
        loaded = (
            f"{completed[0].snapshot_date}..{completed[-1].snapshot_date} done, "
            f"{commits} of them committed"
            if completed
            else "no day loaded"
        )
        super().__init__(
            f"stopped at {day.isoformat()} ({loaded}): {cause}; fix it and re-run the range, "
            "finished days are not loaded twice"
        )
        self.day = day
        self.completed = list(completed)
        self.exit_code = cause.exit_code if isinstance(cause, LakehouseError) else 1


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive, in order."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


class LocalPipeline:
    """One lakehouse home, and what its runs need once started: Spark, the quality context,
    the Spotify connection.

    ``fetch`` says where days come from; a pipeline without one loads bronze as it is (and
    cannot ingest). Use it as a context manager, or call :meth:`close`: the connection
    closes (the simulator stops) and a SparkSession this pipeline started stops.
    """

    def __init__(
        self,
        paths: LakehousePaths,
        *,
        fetch: SpotifyFetch | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.paths = paths
        self.fetch = fetch
        self.progress = progress or Progress()
        self._spark: SparkSession | None = None
        self._owns_session = False
        self._context: JobContext | None = None
        self._connection: SpotifyConnection | None = None
        self._responses: ResponseCounter | None = None
        self._open = ExitStack()
        #: The CLI command's run this pipeline reports to (None outside a command).
        self.run_log = runs.begin(paths)
        #: Whether the warehouse was checked for tables the catalog lost (once per life).
        self._tables_known = False
        #: Whether a load of this pipeline committed to silver (then the query plan is warmed).
        self._committed = False

    def __enter__(self) -> LocalPipeline:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # the steps ------------------------------------------------------------------------------

    def ingest(self, day: date) -> IngestResult:
        """Fetch ``day`` into the home's bronze folder (a completed day is left alone unless
        the fetch says ``force``)."""
        fetch = self._fetch()
        if self.run_log is not None:
            self.run_log.day(day)  # first: a day whose fetch fails is still the run's day
        connection = self._connect(fetch)
        meter = (
            runs.FetchMeter(connection.client, self._responses)
            if self.run_log is not None
            else None
        )
        result = ingest_day(
            day,
            store=LocalBronzeStore(self.paths.ensure().bronze),
            client=connection.client,
            roster=fetch.roster,
            source=connection.source,
            allow_backdated=fetch.allow_backdated,
            force=fetch.force,
            top=fetch.top,
        )
        if self.run_log is not None and meter is not None:
            seconds, requests, waits = meter.done()
            self.run_log.ingested(result, seconds, requests=requests, waits=waits)
        self.progress.ingested(result)
        return result

    def transform(self, day: date) -> TransformResult:
        """Validate and load ``day`` from bronze; Spark starts only if rows are to be loaded."""
        result = self._load(day)
        self._loaded(result)
        return result

    def run(self, day: date) -> DayRun:
        """Ingest ``day``, then load it."""
        fetched = self.ingest(day)
        return DayRun(day, fetched, self.transform(day))

    def backfill(self, days: Sequence[date]) -> BackfillResult:
        """Load ``days`` in date order, each fetched first when the pipeline has a fetch.

        The first failure stops the run: earlier days stay committed (each day is its own
        commit) and reported, and :class:`BackfillStoppedError` names them with the cause.
        Re-running the range is safe: finished days change nothing and make no commit.
        """
        if self.fetch is not None:
            self._connect(self.fetch)  # first: a Spotify that cannot be reached fails no day
        done: list[DayRun] = []
        history = HistoryWindow()  # silver's history window, carried from day to day
        with collector_settled() as settle:
            for day in sorted(days):
                try:
                    fetched = self.ingest(day) if self.fetch is not None else None
                    loaded = self._load(day, history)
                    result = compact_after(lambda: self.spark, day, loaded, self.context)
                except Exception as e:
                    raise BackfillStoppedError(day, e, [d.transform for d in done]) from e
                done.append(DayRun(day, fetched, result))
                self._loaded(result)
                settle()
        return BackfillResult(tuple(done))

    def close(self) -> None:
        """Close the Spotify connection, then stop the SparkSession if this pipeline began it;
        after a commit, write silver's query plan first (:mod:`infra.local.plans`)."""
        try:
            if self._committed and self._context is not None:
                warm_query_plans(self.paths, self._context.catalog)
            self._open.close()
        finally:
            self._connection = None
            if self._spark is not None and self._owns_session:
                self._spark.stop()
            self._spark = None

    # what the steps share -------------------------------------------------------------------

    @property
    def spark(self) -> SparkSession:
        """The one SparkSession, started on first use."""
        if self._spark is None:
            from pyspark.sql import SparkSession

            from catalog.runtime.spark import build_local_session

            # A session someone else started (a test suite, a notebook) is reused, not stopped.
            self._owns_session = SparkSession.getActiveSession() is None
            self._spark = build_local_session(self.paths)
        return self._spark

    @property
    def context(self) -> JobContext:
        """Catalog, report store and quality bounds, shared by every day this pipeline loads."""
        if self._context is None:
            from catalog.iceberg.profiles import local_catalog
            from expectations.store import LocalReportStore
            from expectations.suites import QualitySettings

            self._context = JobContext(
                catalog=local_catalog(self.paths),
                reports=LocalReportStore(self.paths.reports),
                settings=QualitySettings.from_env(),
            )
        return self._context

    def _loaded(self, result: TransformResult) -> None:
        self._committed = self._committed or result.committed
        if self.run_log is not None:
            self.run_log.loaded(result)
        self.progress.loaded(result)

    def _load(self, day: date, history: HistoryWindow | None = None) -> TransformResult:
        if self.run_log is not None:
            self.run_log.day(day)
        # A lost catalog (``rm catalog.db*``) would make this load start a new history
        # beside the warehouse's tables: refused until ``repair-catalog`` registers them.
        # Asked before the first write only: the check lists every table's metadata folder,
        # which grows with history, and a backfill's own writes cannot lose the catalog.
        if not self._tables_known:
            require_known_tables(self.paths)
            self._tables_known = True
        with write_lease(self.paths, "write"):
            return transform_day(
                lambda: self.spark,
                LocalBronzeStore(self.paths.bronze),
                day,
                self.context,
                history=history,
            )

    def _fetch(self) -> SpotifyFetch:
        if self.fetch is None:
            raise ValueError("this pipeline has no fetch: pass fetch=SpotifyFetch(...) to ingest")
        return self.fetch

    def _connect(self, fetch: SpotifyFetch) -> SpotifyConnection:
        if self._connection is None:
            self._connection = self._open.enter_context(
                open_connection(fetch.simulator, fetch.seed, fetch.roster)
            )
            if self.run_log is not None:
                self._responses = runs.count_responses(self._connection.client)
        return self._connection
