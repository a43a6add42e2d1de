"""The local runner: wires ingest, the Glue transform and the query engine on one machine.

It holds at most one SparkSession for its whole life (started on first use: 4-10 s), so a
demo or backfill of 30 days pays the JVM start once, and ``query`` never starts one. The
same goes for the data-quality context (Great Expectations: ~3 s to set up) and the catalog.
Each day's load holds the home's write lease (:func:`catalog.iceberg.lease.write_lease`), so
``maintain`` never runs while a day is being written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths
from glue.transform import JobContext, TransformResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class BackfillStoppedError(LakehouseError):
    """A day of a range failed; the days before it are committed, the rest not attempted."""

    def __init__(self, day: date, cause: Exception, completed: list[TransformResult]) -> None:
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
        self.completed = completed
        self.exit_code = cause.exit_code if isinstance(cause, LakehouseError) else 1


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive, in order."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@dataclass
class LocalRunner:
    """One lakehouse home and, once needed, its SparkSession."""

    paths: LakehousePaths
    _spark: SparkSession | None = None
    _owns_session: bool = False
    _context: JobContext | None = None

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            from pyspark.sql import SparkSession

            from catalog.runtime.spark import build_local_session

            # A session someone else started (a test suite, a notebook) is reused, not stopped.
            self._owns_session = SparkSession.getActiveSession() is None
            self._spark = build_local_session(self.paths)
        return self._spark

    @property
    def context(self) -> JobContext:
        """Catalog, report store and quality bounds, shared by every day this runner loads."""
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

    def transform(self, day: date) -> TransformResult:
        """Validate and load one day; the SparkSession starts only if rows are to be loaded."""
        from catalog.bronze.local import LocalBronzeStore
        from catalog.iceberg.lease import write_lease
        from glue.transform import transform_day

        with write_lease(self.paths, "write"):
            return transform_day(
                lambda: self.spark, LocalBronzeStore(self.paths.bronze), day, self.context
            )

    def backfill(
        self,
        days: list[date],
        *,
        before_each: Callable[[date], object] | None = None,
        after_each: Callable[[TransformResult], object] | None = None,
    ) -> list[TransformResult]:
        """Transform ``days`` in date order in this one session, one commit per changed day.

        The first failure stops the run: earlier days stay committed (each day is its own
        commit), ``after_each`` has already reported each of them, and
        :class:`BackfillStoppedError` names them with the cause. Re-running the range is
        safe: finished days change nothing and make no commit.
        """
        done: list[TransformResult] = []
        for day in sorted(days):
            try:
                if before_each is not None:
                    before_each(day)
                result = self.transform(day)
            except Exception as e:
                raise BackfillStoppedError(day, e, done) from e
            done.append(result)
            if after_each is not None:
                after_each(result)
        return done

    def close(self) -> None:
        if self._spark is not None and self._owns_session:
            self._spark.stop()
        self._spark = None
