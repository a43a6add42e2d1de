"""Progress of long commands on stderr: a bar on a terminal, one line per item otherwise.

``backfill``, ``demo``, ``maintain`` and ``import-legacy`` work through a known list (days,
tables) for seconds to minutes. On a terminal a person wants to see how far along that is
and how long is left: a rich progress bar (items done / total, elapsed, time left), with
each finished item's line printed above it. Anywhere else (a log file, CI, a pipe) a bar is
noise, and escape codes are garbage: one plain line per finished item, numbered and timed,
and never an ANSI escape (whatever ``FORCE_COLOR`` or ``TTY_COMPATIBLE`` say, since the
file really is not a terminal). Every run that succeeds ends with one summary line.

The exit contract (:mod:`infra.cli.main`) is kept: a command that fails prints no summary,
and its reason is the last line on stderr. The bar is transient (erased when the run
stops, success or failure), so a terminal keeps only the finished items' lines and the
reason; those lines are printed as each item finishes and are not taken back when a later
item fails (the reason names the days that were done, too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from infra.cli.output import PlainAwareConsole, ingest_line, load_line, roster_error_line

if TYPE_CHECKING:
    from catalog.iceberg.maintenance import TableMaintenance
    from glue.transform import TransformResult
    from infra.local.pipeline import Progress as PipelineProgress
    from ingest.legacy import ImportedDay
    from ingest.pipeline import IngestResult

#: Bar redraws per second: enough to see the clock move, cheap on a busy machine.
REFRESH_PER_SECOND: Final = 4


def clock(seconds: float) -> str:
    """``H:MM:SS``, as the bar shows time."""
    return str(timedelta(seconds=max(0, round(seconds))))


def plural(count: int, noun: str) -> str:
    """``1 day``, ``2 days``: counts read as sentences."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class ItemProgress:
    """Progress over ``total`` items of one command, as a context manager.

    :meth:`item` reports an item as finished (one line); :meth:`finish` prints the summary
    line. On a terminal (``console.is_terminal``) the lines go above a transient bar;
    otherwise each is one plain write to the console's file (the current ``sys.stderr``), numbered
    ``command n/total`` and timed (elapsed, time left). ``total`` may be learned later
    (:meth:`set_total`: an import learns its days from the listing).
    """

    def __init__(
        self,
        command: str,
        total: int | None,
        *,
        unit: str = "day",
        console: Console | None = None,
    ) -> None:
        self.command = command
        self.total = total
        self.unit = unit
        self.console = console if console is not None else PlainAwareConsole(stderr=True)
        self.done = 0
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    @property
    def terminal(self) -> bool:
        return self.console.is_terminal

    def __enter__(self) -> Self:
        self.started = time.monotonic()
        if self.terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(f"{self.unit}s"),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                refresh_per_second=REFRESH_PER_SECOND,
                redirect_stdout=False,  # stdout is the command's result, never the bar's
            )
            self._bar.start()
            self._task = self._bar.add_task(self.command, total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _timing(self) -> str:
        elapsed = self.elapsed
        if self.total is None or self.done >= self.total or self.done == 0:
            return f"elapsed {clock(elapsed)}"
        left = elapsed / self.done * (self.total - self.done)
        return f"elapsed {clock(elapsed)}, about {clock(left)} left"

    def item(self, line: str) -> None:
        """One item finished: its line (numbered and timed off a terminal), the bar advanced."""
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.console.print(Text(line), soft_wrap=True)
            self._bar.advance(self._task)
            return
        total = "?" if self.total is None else str(self.total)
        self.say(f"{self.command} {self.done}/{total} {line} ({self._timing()})")

    def note(self, line: str) -> None:
        """A line that is not an item of its own (a header, a warning about an item)."""
        if self._bar is not None:
            self._bar.console.print(Text(line), soft_wrap=True)
        else:
            self.say(line)

    def say(self, line: str) -> None:
        """``line`` as it is: through rich on a terminal, a plain write anywhere else."""
        if self.terminal:
            self.console.print(Text(line), soft_wrap=True)
        else:
            print(line, file=self.console.file, flush=True)

    def finish(self, summary: str) -> None:
        """The bar erased, then ``command done in H:MM:SS: summary`` (after a success only)."""
        self._stop()
        self.say(f"{self.command} done in {clock(self.elapsed)}: {summary}")


# The pipeline's days --------------------------------------------------------------------------


@dataclass
class LoadTally:
    """What a range of loads added up to, for the summary line."""

    days: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    quarantined: int = 0
    commits: int = 0
    failed_checks: int = 0

    def add(self, result: TransformResult) -> None:
        self.days += 1
        self.inserted += result.inserted
        self.updated += result.updated
        self.deleted += result.deleted
        self.quarantined += result.quarantined
        self.commits += result.committed
        self.failed_checks += not result.quality.success


class DayProgress(ItemProgress):
    """Progress of a range of days through the pipeline (``backfill``, ``demo``): one item
    per loaded day, its fetch (when there is one) folded into the day's line."""

    def __init__(self, command: str, total: int, *, console: Console | None = None) -> None:
        super().__init__(command, total, unit="day", console=console)
        self.tally = LoadTally()
        self._fetched: dict[date, IngestResult] = {}

    def ingested(self, result: IngestResult) -> None:
        self._fetched[result.day] = result
        error = roster_error_line(result)
        if error is not None:
            self.note(error)

    def loaded(self, result: TransformResult) -> None:
        self.tally.add(result)
        line = load_line(result)
        fetched = self._fetched.pop(result.snapshot_date, None)
        if fetched is not None:
            line += f"; fetched {ingest_line(fetched)}"
        self.item(line)

    def pipeline(self) -> PipelineProgress:
        """The callbacks :class:`infra.local.pipeline.LocalPipeline` calls."""
        from infra.local.pipeline import Progress as PipelineProgress

        return PipelineProgress(ingested=self.ingested, loaded=self.loaded)

    def summary(self) -> str:
        t = self.tally
        return (
            f"{t.days} of {plural(self.total or 0, 'day')} loaded; rows: {t.inserted} inserted, "
            f"{t.updated} updated, {t.deleted} deleted, {t.quarantined} quarantined; "
            f"{plural(t.commits, 'commit')}; failures: "
            f"{plural(t.failed_checks, 'day')} failed data-quality checks"
        )


# Maintenance, table by table ------------------------------------------------------------------


def maintenance_line(table: str, result: TableMaintenance | None) -> str:
    """What maintenance did to the table named ``table`` (unqualified, a key of
    :data:`catalog.iceberg.tables.TABLES`), or that it does not exist yet."""
    if result is None:
        from catalog.iceberg.names import NAMESPACE

        return f"{NAMESPACE}.{table}: not created yet, nothing to maintain"
    compacted = (
        f"{result.rewritten_data_files} data files compacted into {result.added_data_files}"
        if result.rewritten_data_files
        else "no data files compacted"
    )
    return (
        f"{result.table}: {plural(result.expired_snapshots, 'snapshot')} expired, "
        f"{plural(result.deleted_files, 'file')} deleted, "
        f"{plural(len(result.orphan_files), 'orphan file')} removed, "
        f"{compacted}, {plural(len(result.dropped_tags), 'tag')} dropped"
    )


class TableProgress(ItemProgress):
    """Progress of ``maintain``: one item per table of the catalog."""

    def __init__(self, total: int, *, console: Console | None = None) -> None:
        super().__init__("maintain", total, unit="table", console=console)
        self.results: list[TableMaintenance] = []

    def table(self, name: str, result: TableMaintenance | None) -> None:
        if result is not None:
            self.results.append(result)
        self.item(maintenance_line(name, result))

    def summary(self) -> str:
        done = self.results
        return (
            f"{len(done)} of {plural(self.total or 0, 'table')} maintained; "
            f"{plural(sum(r.expired_snapshots for r in done), 'snapshot')} expired, "
            f"{plural(sum(r.deleted_files for r in done), 'file')} deleted, "
            f"{plural(sum(len(r.orphan_files) for r in done), 'orphan file')} removed, "
            f"{sum(r.rewritten_data_files for r in done)} data files compacted"
        )


# The legacy import, day by day ----------------------------------------------------------------

#: How each status of an imported day reads in its line.
LEGACY_STATUS: Final = {
    "imported": "imported",
    "already_complete": "already complete in bronze, left as it was (--force re-imports)",
    "nothing_usable": "nothing usable (no object is a JSON artist object), not imported",
}


class LegacyProgress(ItemProgress):
    """Progress of ``import-legacy``: one item per day of the old layout (the total is
    learned from the source's listing)."""

    def __init__(self, *, console: Console | None = None) -> None:
        super().__init__("import-legacy", None, unit="day", console=console)
        self.days: list[ImportedDay] = []

    def day(self, done: ImportedDay, total: int) -> None:
        if self.total != total:
            self.set_total(total)
        self.days.append(done)
        run = f", run {done.run_id}" if done.run_id else ""
        skipped = f", {len(done.skipped_keys)} object(s) skipped" if done.skipped_keys else ""
        followers = "" if done.followers_available else ", WITHOUT followers"
        self.item(
            f"{done.day}: {LEGACY_STATUS.get(done.status, done.status)}; "
            f"{plural(done.records, 'record')}{run}{skipped}{followers}"
        )

    def summary(self) -> str:
        by_status = {s: sum(d.status == s for d in self.days) for s in LEGACY_STATUS}
        records = sum(d.records for d in self.days if d.status == "imported")
        return (
            f"{by_status['imported']} of {plural(len(self.days), 'day')} imported "
            f"({records} records), {by_status['already_complete']} already complete; "
            f"{by_status['nothing_usable']} failure(s) (nothing usable)"
        )
