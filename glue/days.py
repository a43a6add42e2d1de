"""A range of days in one Spark session: the Glue job's ``--start_date``/``--end_date``.

On AWS the state machine sends a whole range (a chunk of at most ``backfill_chunk_days``
days; a chunk of one day, the daily run's, comes as ``--snapshot_date``) to one Glue run, so
a year of history is a dozen runs instead of 365, each paying the run's fixed cost (start,
wheels, imports) once. The days are
loaded oldest first through :func:`glue.transform.transform_day`, the one transform, each
its own commit and tag, exactly as one run per day would leave them:

* **stop at the first failed day**: a day that cannot be loaded (no manifest, followers
  unavailable, bronze that fails its checks, no valid row) ends the run with that day's exit
  status; the days before it stay loaded, the days after it are not attempted (a later day's
  quality checks compare with the days before it);
* **resumable**: a day whose load tag already points at a load of the bronze run that
  completes the day now (the manifest's ``run_id`` equals the tagged commit's ``run_id``) is
  skipped without reading its parts or validating it again: re-running a range after a
  failure, or a daily run re-started by hand, redoes only what is not done. Any other day is
  loaded, which is idempotent anyway (a re-load that changes nothing makes no commit): a day
  re-ingested since (a new run id), a day whose tag was dropped (beyond the tag retention),
  a day never loaded.

What is skipped is decided once, from the silver table's tags as the range starts: a day of
the range is only ever touched by its own load.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from catalog.bronze.layout import BronzeError, BronzeStore
from catalog.errors import LakehouseError
from catalog.iceberg.compaction import compact_month, ends_a_month
from catalog.iceberg.tables import TableDefinition
from glue.history import HistoryWindow
from glue.transform import JobContext, TransformResult, spark_table_name, transform_day

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

DayStatus = Literal["loaded", "skipped", "failed"]
#: Exit status of a day that failed with something other than a :class:`LakehouseError`
#: never happens here: such errors propagate (the run fails with its traceback).
FAILED_EXIT: Final = 1


class Transform(Protocol):
    """The one transform (:func:`glue.transform.transform_day`), replaceable in tests."""

    def __call__(
        self,
        spark: SparkSession | Callable[[], SparkSession],
        store: BronzeStore,
        day: date,
        context: JobContext,
        *,
        history: HistoryWindow | None = None,
    ) -> TransformResult: ...


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included, oldest first."""
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class DayOutcome:
    """What the range did with one day."""

    snapshot_date: date
    status: DayStatus
    #: The bronze run loaded (or already loaded, when skipped); None when the day failed
    #: before its manifest was read.
    run_id: str | None = None
    #: The day's transform result (loaded days only).
    result: TransformResult | None = None
    #: The one-line reason a day failed, and its exit status (1, or 3 for followers).
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "snapshot_date": self.snapshot_date.isoformat(),
            "status": self.status,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
        }
        if self.result is not None:
            out["result"] = asdict(self.result)
        if self.error is not None:
            out["error"] = self.error
            out["exit_code"] = self.exit_code
        return out


@dataclass(frozen=True)
class RangeOutcome:
    """What one run did with its range: a day at a time, up to the first failure."""

    start_date: date
    end_date: date
    days: list[DayOutcome] = field(default_factory=list)

    def _dates(self, status: DayStatus) -> list[date]:
        return [d.snapshot_date for d in self.days if d.status == status]

    @property
    def loaded(self) -> list[date]:
        return self._dates("loaded")

    @property
    def skipped(self) -> list[date]:
        return self._dates("skipped")

    @property
    def failed(self) -> DayOutcome | None:
        return next((d for d in self.days if d.status == "failed"), None)

    @property
    def not_attempted(self) -> list[date]:
        """Days of the range after the failed day."""
        done = {d.snapshot_date for d in self.days}
        return [d for d in days_between(self.start_date, self.end_date) if d not in done]

    @property
    def exit_code(self) -> int:
        failed = self.failed
        return failed.exit_code if failed is not None else 0

    def to_json(self) -> dict[str, Any]:
        failed = self.failed
        return {
            "action": "transform",
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "loaded": [d.isoformat() for d in self.loaded],
            "skipped": [d.isoformat() for d in self.skipped],
            "failed": failed.snapshot_date.isoformat() if failed is not None else None,
            "not_attempted": [d.isoformat() for d in self.not_attempted],
            "days": [d.to_json() for d in self.days],
        }


#: Python's threshold for an automatic full collection while a range runs: out of reach, so
#: the collector's full collections happen where :func:`collector_settled` makes them.
NO_AUTOMATIC_FULL_COLLECTION: Final = 1_000_000_000


@contextmanager
def collector_settled() -> Iterator[Callable[[], None]]:
    """A range's loop keeps Python's cyclic garbage collector off what its first day set up,
    and makes its full collections between days, where they are cheap.

    The first day leaves ~400,000 objects that live as long as the range does: the modules,
    Great Expectations' context, the catalog, the SparkSession's py4j objects. The call this
    yields, made after each day, collects once and, the first time, freezes what survived
    (:func:`gc.freeze`): later collections scan only what later days made.

    Python also starts a full collection by itself every ~11 young ones (with the default
    thresholds, about one a day at 10,000 artists), wherever the day happens to be: in the
    middle of a day it scans what is not frozen plus the day's live rows (the parsed bronze,
    the candidates, the frames), 42,000 objects a day early in a range and 60,000-96,000
    after 100 days, and its CPU grew from 0.036 to 0.05-0.07 s a day. During a range the
    automatic full collections are therefore off (:data:`NO_AUTOMATIC_FULL_COLLECTION`):
    young collections still run as usual, so a day's short-lived cycles are freed as it
    goes, and the full collection the yielded call makes after every day frees what is
    older when the day's rows are gone (it scans only what later days kept, ~210 objects a
    day: 14,000 objects after day 2, 38,000 after day 120). Measured side by side over 120
    days at 10,000 artists: the collector's CPU went from 14.5 s to 9.0 s (0.09-0.12 s a day
    to 0.06-0.08), with the same peak memory. Thresholds and frozen objects are put back
    when the range ends, however it ends.
    """
    thresholds = gc.get_threshold()
    frozen = False

    def settle() -> None:
        nonlocal frozen
        gc.collect()
        if not frozen:
            gc.freeze()
            frozen = True

    gc.set_threshold(thresholds[0], thresholds[1], NO_AUTOMATIC_FULL_COLLECTION)
    try:
        yield settle
    finally:
        gc.set_threshold(*thresholds)
        if frozen:
            gc.unfreeze()


def compact_after(
    spark: Callable[[], SparkSession],
    day: date,
    result: TransformResult,
    context: JobContext,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> TransformResult:
    """Month-end compaction, folded into a range: once a range has loaded the last day of a
    month, that month of silver is rewritten as one file sorted by artist
    (:mod:`catalog.iceberg.compaction`: why, and what it saves), so a year's backfill
    leaves twelve files instead of 365 and no reader pays for the small ones. A day that
    changed nothing, or any other day, returns ``result`` as it is; the compaction's figures
    and seconds (``compact``) are added to the result otherwise.

    Only ranges do it (this module, :meth:`infra.local.pipeline.LocalPipeline.backfill`): a
    single day's load never starts a JVM just for this, and the weekly ``maintain`` compacts
    whatever a late re-load added to a finished month.
    """
    if not result.committed or not ends_a_month(day):
        return result
    started = clock()
    done = compact_month(spark(), spark_table_name(context.definition), day)
    log.info(
        "%s ends its month: %d file(s) of silver compacted into %d",
        day,
        done.rewritten_files,
        done.added_files,
    )
    timings = {**result.timings, "compact": clock() - started}
    return replace(result, compaction=done, timings=timings)


def tagged_load_runs(catalog: Catalog, definition: TableDefinition) -> dict[date, str]:
    """Each day whose load tag ``snapshot-D`` points at a retained load of D, with the
    ``run_id`` of that load (pyiceberg metadata only: no data file is read). Empty when
    the table does not exist yet."""
    from pyiceberg.exceptions import NoSuchTableError

    from catalog.iceberg.tags import SUMMARY_RUN_ID, SUMMARY_SNAPSHOT_DATE
    from catalog.iceberg.timetravel import load_tags

    try:
        table = catalog.load_table(definition.identifier)
    except NoSuchTableError:
        return {}
    runs: dict[date, str] = {}
    for tag in load_tags(table):
        snapshot = table.metadata.snapshot_by_id(tag.snapshot_id)
        if snapshot is None or snapshot.summary is None:
            continue
        properties = snapshot.summary.additional_properties
        run_id = properties.get(SUMMARY_RUN_ID)
        if run_id and properties.get(SUMMARY_SNAPSHOT_DATE) == tag.day.isoformat():
            runs[tag.day] = run_id
    return runs


def _manifest_run(store: BronzeStore, day: date) -> str | None:
    """The run id of ``day``'s manifest; None when there is none or it cannot be read
    (the transform then refuses the day with its own message)."""
    try:
        manifest = store.read_manifest(day)
    except (BronzeError, OSError):
        return None
    return manifest.run_id if manifest is not None else None


def load_range(
    spark: SparkSession | Callable[[], SparkSession],
    store: BronzeStore,
    days: Sequence[date],
    context: JobContext,
    *,
    transform: Transform = transform_day,
    clock: Callable[[], float] = time.perf_counter,
) -> RangeOutcome:
    """Load ``days`` (consecutive, oldest first) in order, one commit and tag per day;
    skip the days already loaded from their current bronze run; stop at the first day that
    fails (see the module docstring).

    ``spark`` may be a factory (called once, when the first day has rows to load); the one
    session and ``context`` (its Great Expectations context included) serve every day, and
    so does one :class:`glue.history.HistoryWindow`: silver's history window is read once
    and carried from day to day.
    """
    if not days:
        raise ValueError("a range needs at least one day")
    session: list[SparkSession] = []

    def shared() -> SparkSession:
        if not session:
            session.append(spark() if callable(spark) else spark)
        return session[0]

    done = tagged_load_runs(context.catalog, context.definition)
    history = HistoryWindow()
    outcomes: list[DayOutcome] = []
    with collector_settled() as settle:
        for day in days:
            started = clock()
            run_id: str | None = None
            try:
                run_id = _manifest_run(store, day)
                if run_id is not None and done.get(day) == run_id:
                    log.info("%s: already loaded from bronze run %s, skipped", day, run_id)
                    outcomes.append(DayOutcome(day, "skipped", run_id, seconds=clock() - started))
                    continue
                loaded = transform(shared, store, day, context, history=history)
                result = compact_after(shared, day, loaded, context)
            except LakehouseError as e:
                log.error("%s: %s; the range stops here", day, e)
                outcomes.append(
                    DayOutcome(
                        day,
                        "failed",
                        run_id,
                        error=str(e),
                        exit_code=e.exit_code or FAILED_EXIT,
                        seconds=clock() - started,
                    )
                )
                break
            outcomes.append(
                DayOutcome(day, "loaded", result.run_id, result, seconds=clock() - started)
            )
            settle()
    outcome = RangeOutcome(days[0], days[-1], outcomes)
    log.info(
        "range %s..%s: %d loaded, %d skipped, failed: %s",
        outcome.start_date,
        outcome.end_date,
        len(outcome.loaded),
        len(outcome.skipped),
        outcome.failed.snapshot_date if outcome.failed else None,
    )
    return outcome
