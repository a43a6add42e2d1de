"""What a load would do, computed without writing anything: ``transform --dry-run``.

A dry run answers "what would this change" before anything is written, as SQLMesh's
``plan`` does for its models: for each day, the rows a load would insert, update and delete
in silver, the records it would quarantine, and, artist by artist, the business columns that
would change (old -> new). It composes the very pieces the load runs, so its answer is the
load's answer, not an estimate:

* :func:`glue.transform.prepare_day` reads the manifest and the parts it lists (the same
  refusals: no manifest, followers unavailable, an unreadable manifest);
* :func:`glue.transform.judge_day`, the judging :func:`glue.transform.validate_day` runs
  before its writes (one function for both, so they cannot drift apart): the bronze
  suite, silver's recent history (:func:`glue.history.read_history`), the silver suite and
  the quarantine verdict (:func:`expectations.quarantine.judge`); a day the load would
  refuse gets the load's refusal sentence and exception class, so the exit status is the
  load's too;
* :func:`plan_day` reads silver's current rows of the day (:func:`glue.transform._rows_of_day`,
  only when :func:`catalog.iceberg.writes.day_has_files` says the day may have rows) and
  diffs them with :func:`glue.merge.day_changes`, the function
  :func:`glue.transform.load_day` decides with; no row of the day means the load would be
  the first, an append of every good row.

Nothing is written: no report, no quarantine or dq_results row, no silver commit or tag, no
table created (a table the catalog does not have is read as empty), no lease taken. The
silver suite always runs on pandas here (the same suite the load runs on Spark for a day
larger than ``pandas_max_rows``: same expectations, same verdicts), so a dry run never
starts a JVM.

**Ranges** (:func:`plan_days`) are planned oldest first, as a backfill loads them, and each
day's would-be rows are carried forward: the history a later day is judged with (the
previous counts of the day-over-day bound, the trailing gains and previous load of the
cross-day checks) is read from silver *as it would be* after the earlier days of the
range loaded, not from silver as it is, so a dry run of a fresh range judges day 2 against
day 1's would-be rows exactly as the backfill will. A day the load would refuse adds
nothing (it loads nothing). Unlike the backfill, which stops at its first refused day, the
dry run judges every day of the range, so one run shows every problem; the caller exits
with the first refusal's status. The month-end compaction a range runs after a month's
last day rewrites files without changing a row, and is not part of the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from catalog.bronze.layout import BronzeStore
from catalog.errors import LakehouseError
from catalog.iceberg.tables import SILVER_BUSINESS_COLUMNS, TABLES
from catalog.iceberg.writes import day_has_files
from expectations.cross_day import SilverHistory, summarize_history
from expectations.store import HTML, ReportStore
from expectations.suites import HISTORY_WINDOW_DAYS, QualitySettings
from glue.merge import DayChanges, day_changes
from glue.transform import (
    BronzePartError,
    JobContext,
    JudgedDay,
    _rows_of_day,
    judge_day,
    prepare_day,
)

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


class DryRunStoppedError(LakehouseError):
    """A dry run of a range found a day the backfill would stop at. The exit status is that
    day's (3 for a day without followers, 1 otherwise), as the backfill's would be."""

    def __init__(self, plan: DayPlan, before: int) -> None:
        super().__init__(
            f"dry run: the backfill would stop at {plan.snapshot_date.isoformat()} ({before} "
            f"day(s) before it would load; nothing written): {plan.reason}"
        )
        self.exit_code = plan.exit_code


class NoReports(ReportStore):
    """The report store of a dry run: it writes nothing, and says so if anything tries."""

    def put(self, key: str, body: bytes, content_type: str = HTML) -> str:
        raise RuntimeError(f"a dry run writes no report (asked to write {key})")


def dry_run_context(catalog: Catalog, settings: QualitySettings | None = None) -> JobContext:
    """The job context of a dry run: ``catalog`` to read, a report store that writes nothing,
    and the quality bounds the load uses (``LAKEHOUSE_DQ_*``, as the CLI's load reads them)."""
    return JobContext(
        catalog=catalog,
        reports=NoReports(),
        settings=settings if settings is not None else QualitySettings.from_env(),
    )


#: What a dry run's refusal says where the load's names its report: nothing was recorded.

#: How a day's rows would reach silver: the day's first load appends, a re-load MERGEs,
#: a re-load that changes nothing makes no commit, a refused day loads nothing.
Write = Literal["append", "merge", "none", "refused"]
#: One artist's line in a plan. ``quarantine``: the record would be kept out of silver.
Change = Literal["insert", "update", "delete", "quarantine"]


@dataclass(frozen=True)
class ArtistChange:
    """One line of a plan: an artist's row inserted, deleted, quarantined, or one of its
    business columns updated (``column``, ``old`` -> ``new``)."""

    snapshot_date: date
    artist_id: str | None
    name: str | None
    change: Change
    column: str | None
    old: Any
    new: Any
    detail: str = ""

    FIELDS = ("snapshot_date", "artist_id", "name", "change", "column", "old", "new", "detail")

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in self.FIELDS]


@dataclass(frozen=True)
class DayPlan:
    """What a load of one day would do: the counts its result would report, each artist's
    change, or the refusal (reason line and exit status) the load would end with."""

    snapshot_date: date
    run_id: str | None
    write: Write
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    quarantined: int = 0
    #: Quarantined artists whose row from an earlier load stays (neither updated nor deleted).
    kept: int = 0
    evaluated_rows: int = 0
    failed_expectations: tuple[str, ...] = ()
    changes: tuple[ArtistChange, ...] = ()
    #: The exception the load would end with (``None``: the day would load).
    error: LakehouseError | None = field(default=None, compare=False)
    #: The would-be followers of each artist of the day after the load (carried forward).
    followers_after: Mapping[str, int | None] = field(default_factory=dict, compare=False)

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error is not None else 0

    @property
    def reason(self) -> str:
        return str(self.error) if self.error is not None else ""

    def summary(self) -> str:
        """One line: what the load would do (or why it would be refused)."""
        day = self.snapshot_date.isoformat()
        if self.error is not None:
            return f"{day}: would be refused (exit {self.exit_code}): {self.reason}"
        counts = (
            f"would insert {self.inserted}, update {self.updated}, delete {self.deleted}, "
            f"quarantine {self.quarantined}"
        )
        if self.kept:
            counts += f" ({self.kept} keep their loaded row)"
        how = {
            "append": "first load of the day: one append commit, tag moved",
            "merge": "one MERGE commit, tag moved",
            "none": "nothing to change, no commit",
        }[self.write]
        failed = (
            f"; failed {', '.join(self.failed_expectations)}" if self.failed_expectations else ""
        )
        return f"{day}: {counts} ({how}; run {self.run_id}){failed}"

    def as_record(self) -> dict[str, Any]:
        """The day as ``--format json`` prints it: its summary fields and its changes."""
        return {
            "snapshot_date": self.snapshot_date,
            "run_id": self.run_id,
            "write": self.write,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "kept": self.kept,
            "evaluated_rows": self.evaluated_rows,
            "failed_expectations": list(self.failed_expectations),
            "exit_code": self.exit_code,
            "refusal": self.reason or None,
            "changes": [
                {k: v for k, v in zip(ArtistChange.FIELDS, c.values(), strict=True)}
                for c in self.changes
            ],
        }


def existing_tables(catalog: Catalog | None) -> dict[str, Table]:
    """The tables ``catalog`` has, by name, read once; a table it does not have (or no
    catalog at all) is left out, never created (a dry run writes nothing)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    found: dict[str, Table] = {}
    if catalog is None:
        return found
    for name, definition in TABLES.items():
        try:
            found[name] = catalog.load_table(definition.identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            continue
    return found


def _refused(day: date, run_id: str | None, error: LakehouseError, **counts: Any) -> DayPlan:
    return DayPlan(snapshot_date=day, run_id=run_id, write="refused", error=error, **counts)


def plan_day(
    store: BronzeStore,
    day: date,
    context: JobContext,
    tables: Mapping[str, Table],
    *,
    history: SilverHistory | None = None,
) -> DayPlan:
    """What loading ``day`` from ``store`` would do to silver as ``tables`` hold it.

    A day the load would refuse gives a plan with the load's exception (its reason line and
    exit status) instead of raising it. ``history``: silver's recent history to judge with
    (default: silver's, as the load reads it).
    """
    try:
        prepared = prepare_day(store, day)
    except LakehouseError as e:
        return _refused(day, None, e)
    judged = judge_day(prepared, context, tables, history=history)
    silver = tables.get(context.definition.name)
    existing = (
        _rows_of_day(silver, day) if silver is not None and day_has_files(silver, day) else []
    )
    before = {r["artist_id"]: r for r in existing}
    error = judged.refusal_error(None)
    verdict = judged.verdict
    if error is not None or verdict is None:
        return _refused(
            day,
            prepared.run_id,
            error or BronzePartError(judged.run.refusal),
            evaluated_rows=judged.run.evaluated_rows,
            quarantined=len(judged.run.quarantined),
            kept=len(judged.run.kept),
            failed_expectations=tuple(judged.run.failed_expectations),
            changes=tuple(_quarantine_lines(day, judged, before)),
        )
    rows = [c.row for c in verdict.good]
    present = {c.artist_id for c in prepared.rows.candidates if c.artist_id}
    # As load_day decides: no row of the day, an append of every good row; else the diff.
    changes = (
        day_changes(existing, rows, present_ids=present)
        if existing
        else DayChanges(tuple(r["artist_id"] for r in rows), (), ())
    )
    after = {r["artist_id"]: r for r in rows}
    warned = {c.artist_id: names for c, names in judged.run.warned if c.artist_id}
    lines = [
        *_row_lines(day, changes, before, after, warned),
        *_quarantine_lines(day, judged, before),
    ]
    followers_after = {a: r.get("followers") for a, r in before.items()}
    for artist in changes.deleted:
        followers_after.pop(artist, None)
    followers_after.update({a: r.get("followers") for a, r in after.items()})
    write: Write = "append" if not existing else ("merge" if changes.any else "none")
    return DayPlan(
        snapshot_date=day,
        run_id=prepared.run_id,
        write=write,
        inserted=len(changes.inserted),
        updated=len(changes.updated),
        deleted=len(changes.deleted),
        quarantined=len(judged.run.quarantined),
        kept=len(judged.run.kept),
        evaluated_rows=judged.run.evaluated_rows,
        failed_expectations=tuple(judged.run.failed_expectations),
        changes=tuple(lines),
        followers_after=followers_after,
    )


def _row_lines(
    day: date,
    changes: DayChanges,
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    warned: Mapping[str, Sequence[str]],
) -> Iterable[ArtistChange]:
    """Inserts and deletes as one line each (their followers), updates as one line per
    business column that differs (the comparison :func:`glue.merge.day_changes` makes); a
    row loaded with a failed warning-level expectation says which."""

    def note(artist: str) -> str:
        names = warned.get(artist)
        return f"loaded with warning: {', '.join(names)}" if names else ""

    for artist in changes.inserted:
        row = after[artist]
        yield ArtistChange(
            day,
            artist,
            row.get("name"),
            "insert",
            "followers",
            None,
            row.get("followers"),
            note(artist),
        )
    for artist in changes.updated:
        old, new = before[artist], after[artist]
        for column in SILVER_BUSINESS_COLUMNS:
            if old.get(column) != new.get(column):
                yield ArtistChange(
                    day,
                    artist,
                    new.get("name"),
                    "update",
                    column,
                    old.get(column),
                    new.get(column),
                    note(artist),
                )
    for artist in changes.deleted:
        row = before[artist]
        yield ArtistChange(
            day,
            artist,
            row.get("name"),
            "delete",
            "followers",
            row.get("followers"),
            None,
            "not in the day's latest bronze run",
        )


def _quarantine_lines(
    day: date, judged: JudgedDay, before: Mapping[str, Mapping[str, Any]]
) -> Iterable[ArtistChange]:
    """One line per record the load would quarantine: what it failed, the value it brought,
    and whether the artist keeps the row an earlier load put in silver."""
    kept = set(judged.run.kept)
    for row in judged.run.quarantined:
        candidate = row.candidate
        artist = candidate.artist_id
        loaded = before.get(artist) if artist is not None else None
        detail = f"failed {', '.join(row.failed_expectations)}"
        if artist in kept:
            detail += "; its loaded row stays"
        yield ArtistChange(
            day,
            artist,
            candidate.row.get("name"),
            "quarantine",
            "followers",
            loaded.get("followers") if loaded is not None else None,
            candidate.row.get("followers"),
            detail,
        )


def plan_days(
    store: BronzeStore,
    days: Sequence[date],
    context: JobContext,
    tables: Mapping[str, Table],
    *,
    on_day: Callable[[DayPlan], object] | None = None,
) -> list[DayPlan]:
    """Plan ``days`` oldest first, each judged against silver as the range's earlier days
    would leave it (see the module docstring); ``on_day`` hears each plan when it is made."""
    silver = tables.get(context.definition.name)
    would_be: dict[date, Mapping[str, int | None]] = {}
    plans: list[DayPlan] = []
    for day in sorted(days):
        window = [d for d in would_be if day - timedelta(HISTORY_WINDOW_DAYS) <= d < day]
        history = _history_with(silver, day, would_be, context) if window else None
        plan = plan_day(store, day, context, tables, history=history)
        if not plan.refused:
            would_be[day] = plan.followers_after
        plans.append(plan)
        if on_day is not None:
            on_day(plan)
    return plans


def would_be_window(
    silver: Table | None,
    day: date,
    would_be: Mapping[date, Mapping[str, int | None]],
    window_days: int = HISTORY_WINDOW_DAYS,
) -> list[dict[str, Any]]:
    """Silver's rows of ``[day - window_days, day)`` (``artist_id``, ``snapshot_date``,
    ``followers``) as they would be once the days of ``would_be`` loaded: those days' rows
    replaced by their would-be rows (artist -> followers). The rows the load's checks read
    before ``day``, for a day of a range that follows days not loaded yet."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan, Reference
    from pyiceberg.expressions.literals import literal

    start = day - timedelta(days=window_days)
    rows: list[dict[str, Any]] = []
    if silver is not None and silver.metadata.current_snapshot_id is not None:
        column = Reference("snapshot_date")
        scan = silver.scan(
            row_filter=And(
                LessThan(term=column, value=literal(day.isoformat())),
                GreaterThanOrEqual(term=column, value=literal(start.isoformat())),
            ),
            selected_fields=("artist_id", "snapshot_date", "followers"),
        )
        rows.extend(r for r in scan.to_arrow().to_pylist() if r["snapshot_date"] not in would_be)
    for when, followers in sorted(would_be.items()):
        if start <= when < day:
            rows.extend(
                {"artist_id": artist, "snapshot_date": when, "followers": value}
                for artist, value in followers.items()
            )
    return rows


def _history_with(
    silver: Table | None,
    day: date,
    would_be: Mapping[date, Mapping[str, int | None]],
    context: JobContext,
) -> SilverHistory:
    """:func:`glue.history.read_history` on silver as it would be (:func:`would_be_window`):
    the previous counts and the cross-day history of ``day``."""
    return summarize_history(
        would_be_window(silver, day, would_be, HISTORY_WINDOW_DAYS),
        day,
        min_gains=context.settings.cross_day.min_gain_history,
        window_days=HISTORY_WINDOW_DAYS,
    )
