"""Time travel by snapshot date: which Iceberg snapshot answers "as of day D".

The writer (the Glue job) makes every load of day D one commit whose summary carries
``snapshot_date=D`` and ``run_id=R``, then points the tag ``snapshot-D`` at it (see
:mod:`catalog.iceberg.tags`). The rule, fixed by the architecture:

    let d* be the latest date <= D that has a load tag ``snapshot-d*`` whose snapshot is in
    the table's main history; read that snapshot with ``snapshot_date <= D`` applied.

Why this shape: the tag of d* names the *latest* load of d* (a late re-load moves it), and
that commit already holds every earlier day as last loaded, so the read shows days up to D
as the pipeline last saw them. The filter keeps out days after D that a late re-load's
snapshot may already contain. Compaction and maintenance commits carry no snapshot_date
and no tag, so they never take part. There is no fallback to the current state: an as-of
with no tag at or before it is an error (:class:`NoSnapshotAsOfError`), because a silent
fallback would answer a question about the past with today's numbers.

Everything here is plain pyiceberg metadata work (no data files are read), so the CLI's
``snapshots`` command, the local DuckDB engine and the Athena engine share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from pyiceberg.expressions import And, BooleanExpression, LessThanOrEqual, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.table import DataScan, Table
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.snapshots import Snapshot

from catalog.errors import LakehouseError
from catalog.iceberg.tags import (
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    TAG_PREFIX,
    ChosenTag,
    LoadTag,
    as_of_tag,
    load_tag_date,
    retention_days_of,
)

# Re-exported: callers outside catalog (tests/views, tests/perf) import it from here.

#: The column every time-travelled table is filtered on (``snapshot_date <= D``).
SNAPSHOT_DATE_COLUMN = "snapshot_date"


class TimeTravelError(LakehouseError):
    """A time-travel read cannot be answered as asked."""


class NoSnapshotAsOfError(TimeTravelError):
    """No retained load tag at or before the as-of date: never fall back to current state."""

    def __init__(
        self,
        table: str,
        day: date,
        earliest: date | None,
        retention_days: int,
        skipped: tuple[str, ...] = (),
    ) -> None:
        if earliest is None:
            message = (
                f"{table} has no load tag ({TAG_PREFIX}YYYY-MM-DD) in its main history, so "
                f"nothing can be read as of {day.isoformat()}: load a day first "
                "(spotify-lakehouse run --date D), or query without --as-of."
            )
        else:
            message = (
                f"{table} has no load tag at or before {day.isoformat()}: the earliest "
                f"retained load date is {earliest.isoformat()} (daily tags are kept for "
                f"{retention_days} days). Use --as-of {earliest.isoformat()} or later."
            )
        if skipped:
            message += (
                " Ignored tags whose snapshot is not in the main history (rolled back or on "
                f"another branch): {', '.join(skipped)}."
            )
        super().__init__(message)
        self.table = table
        self.day = day
        self.earliest = earliest


class SnapshotNotFoundError(TimeTravelError):
    """An explicit version (snapshot id, ref name or timestamp) names no retained snapshot."""


class TableNotLoadedError(TimeTravelError):
    """The table (or the whole catalog) does not exist yet: nothing has been loaded."""


@dataclass(frozen=True)
class LoadSnapshot:
    """One load commit (a snapshot whose summary names a ``snapshot_date``).

    ``rows`` is the summary's ``total-records``: the rows in the table right after this
    commit, before any as-of filter. ``added_records``/``deleted_records`` are the
    summary's counts of rows in files the commit added/removed; with copy-on-write MERGE
    they include the unchanged rows of every rewritten file, so they measure write volume,
    not the number of changed rows.
    """

    snapshot_id: int
    snapshot_date: date
    committed_at: datetime
    operation: str
    run_id: str | None
    rows: int | None
    added_records: int | None
    deleted_records: int | None
    tag: str | None
    in_main_history: bool


@dataclass(frozen=True)
class AsOf(ChosenTag):
    """What an as-of read of one table resolved to (:class:`~catalog.iceberg.tags.ChosenTag`:
    ``day`` D, ``tag_date`` d*, ``snapshot_id``). Read it with :attr:`row_filter` applied.
    """

    @property
    def row_filter(self) -> BooleanExpression:
        return snapshot_date_filter(self.day)


@dataclass(frozen=True)
class MainHistory:
    """The snapshots of the main branch, as far as retained metadata can prove.

    Walking parent pointers from main's head proves ancestry. Snapshot expiry removes
    untagged snapshots (a compaction, a superseded load) and so cuts the walk: Java Iceberg
    leaves the child's parent id dangling, pyiceberg resets it to none, so the two look
    alike only in that the walk ends. ``floor_sequence`` is the sequence number where it
    ended. Below it the metadata no longer records ancestry, so a retained (tagged) snapshot
    older than the floor is taken as main history: maintenance keeps daily tags on purpose
    and the pipeline never writes to another branch. When the walk reached the table's first
    commit, nothing retained is older, so the floor admits nothing extra. Above the floor, a
    tagged snapshot that is not an ancestor was rolled back or written to another branch,
    and is excluded.

    Below the floor, lineage still rules some snapshots out (``excluded_ids``): a rollback
    followed by an expiry that cuts the chain leaves the rolled-back load retained (its tag
    keeps it) and older than the floor, where it would otherwise pass for main history. Main
    is one line of descent, so where the retained parents of the newest snapshot below the
    floor reach down past a snapshot without passing through it, that snapshot is on another
    line: it was rolled back. (The newest one stands for main there: later commits built on
    it, unless it was itself rolled back with main's own snapshot at the cut expired, which
    metadata can no longer tell.)
    """

    ancestor_ids: frozenset[int]
    floor_sequence: int | None
    excluded_ids: frozenset[int] = frozenset()

    def contains(self, snapshot: Snapshot) -> bool:
        if snapshot.snapshot_id in self.ancestor_ids:
            return True
        if snapshot.snapshot_id in self.excluded_ids:
            return False
        if self.floor_sequence is None or snapshot.sequence_number is None:
            return False
        return snapshot.sequence_number < self.floor_sequence


def table_name(table: Table) -> str:
    """``namespace.table`` for messages."""
    return ".".join(table.name()[-2:])


def snapshot_date_filter(day: date) -> BooleanExpression:
    """``snapshot_date <= day``: the days an as-of read may show."""
    return LessThanOrEqual(term=Reference(SNAPSHOT_DATE_COLUMN), value=literal(day))


def main_history(table: Table) -> MainHistory:
    """Snapshot ids on the main branch's lineage (see :class:`MainHistory` for expiry gaps)."""
    metadata = table.metadata
    by_id = {s.snapshot_id: s for s in metadata.snapshots}  # one lookup per step: linear
    ref = metadata.refs.get(MAIN_BRANCH)
    snapshot = by_id.get(ref.snapshot_id) if ref is not None else None
    ids: set[int] = set()
    floor: int | None = None
    while snapshot is not None:
        ids.add(snapshot.snapshot_id)
        floor = snapshot.sequence_number
        parent_id = snapshot.parent_snapshot_id
        snapshot = by_id.get(parent_id) if parent_id is not None else None
    excluded = _off_the_line_below(metadata.snapshots, floor) if floor is not None else set()
    return MainHistory(frozenset(ids), floor, frozenset(excluded))


def _off_the_line_below(snapshots: list[Snapshot], floor: int) -> set[int]:
    """Retained snapshots older than ``floor`` that lineage shows are off main's line.

    The newest of them is taken as main's; every snapshot newer than where its retained
    parents end, and not among them, is on another line. Below that end (another expiry
    cut), the same again.
    """
    by_id = {s.snapshot_id: s for s in snapshots}
    below = sorted(
        (s for s in snapshots if s.sequence_number is not None and s.sequence_number < floor),
        key=lambda s: s.sequence_number or 0,
        reverse=True,
    )
    excluded: set[int] = set()
    while below:
        line: set[int] = set()
        bottom = below[0].sequence_number or 0
        current: Snapshot | None = below[0]
        while current is not None:
            line.add(current.snapshot_id)
            bottom = min(bottom, current.sequence_number or 0)
            parent = current.parent_snapshot_id
            current = by_id.get(parent) if parent is not None else None
        excluded.update(
            s.snapshot_id
            for s in below
            if s.snapshot_id not in line and (s.sequence_number or 0) > bottom
        )
        below = [s for s in below if (s.sequence_number or 0) < bottom]
    return excluded


def load_tags(table: Table) -> list[LoadTag]:
    """Every ``snapshot-YYYY-MM-DD`` tag whose snapshot is still retained, oldest day first."""
    tags: list[LoadTag] = []
    retained = {s.snapshot_id for s in table.metadata.snapshots}
    for name, ref in table.metadata.refs.items():
        day = load_tag_date(name, ref.snapshot_ref_type.value)
        if day is None:
            continue
        if ref.snapshot_id not in retained:
            continue
        tags.append(LoadTag(name, day, ref.snapshot_id, ref.max_ref_age_ms))
    return sorted(tags, key=lambda t: t.day)


def summary_snapshot_date(snapshot: Snapshot) -> date | None:
    """The ``snapshot_date`` a commit loaded, or ``None`` for maintenance commits."""
    if snapshot.summary is None:
        return None
    raw = snapshot.summary.additional_properties.get(SUMMARY_SNAPSHOT_DATE)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _summary_int(snapshot: Snapshot, key: str) -> int | None:
    if snapshot.summary is None:
        return None
    raw = snapshot.summary.additional_properties.get(key)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def load_snapshots(table: Table) -> list[LoadSnapshot]:
    """The table's retained load commits, oldest first (for the ``snapshots`` command).

    A commit without ``snapshot_date`` in its summary (compaction, maintenance, a schema
    change's data rewrite) is not a load and is left out. ``tag`` is the load tag pointing at
    the commit, preferring the one for the commit's own date.
    """
    history = main_history(table)
    tags_by_snapshot: dict[int, list[LoadTag]] = {}
    for load_tag in load_tags(table):
        tags_by_snapshot.setdefault(load_tag.snapshot_id, []).append(load_tag)
    loads: list[LoadSnapshot] = []
    ordered = sorted(
        table.metadata.snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms)
    )
    for snapshot in ordered:
        day = summary_snapshot_date(snapshot)
        if day is None or snapshot.summary is None:
            continue
        candidates = sorted(
            tags_by_snapshot.get(snapshot.snapshot_id, []), key=lambda t: (t.day != day, t.day)
        )
        loads.append(
            LoadSnapshot(
                snapshot_id=snapshot.snapshot_id,
                snapshot_date=day,
                committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
                operation=snapshot.summary.operation.value,
                run_id=snapshot.summary.additional_properties.get(SUMMARY_RUN_ID),
                rows=_summary_int(snapshot, "total-records"),
                added_records=_summary_int(snapshot, "added-records"),
                deleted_records=_summary_int(snapshot, "deleted-records"),
                tag=candidates[0].name if candidates else None,
                in_main_history=history.contains(snapshot),
            )
        )
    return loads


def main_history_tags(table: Table, tags: list[LoadTag] | None = None) -> list[LoadTag]:
    """The load tags (``tags``, else the table's) the as-of rule may choose: those whose
    snapshot is in the table's main history (a tag left on a rolled-back line never answers).
    The query's plan cache stores exactly these (:func:`views.scan.table_entry`)."""
    history = main_history(table)
    admitted: list[LoadTag] = []
    for load_tag in load_tags(table) if tags is None else tags:
        snapshot = table.metadata.snapshot_by_id(load_tag.snapshot_id)
        if snapshot is not None and history.contains(snapshot):
            admitted.append(load_tag)
    return admitted


def resolve_as_of(table: Table, day: date) -> AsOf:
    """Apply the as-of rule to one table; raise :class:`NoSnapshotAsOfError` if it has none.

    Each table resolves its own tags: two tables loaded on different days each answer with
    their own latest load at or before ``day``.
    """
    tags = load_tags(table)
    on_main = main_history_tags(table, tags)
    admitted = {t.name for t in on_main}
    skipped = [t.name for t in tags if t.name not in admitted and t.day <= day]
    chosen = as_of_tag(on_main, day)
    if chosen is None:
        earliest = on_main[0].day if on_main else None
        from catalog.iceberg.tables import TAG_RETENTION_PROPERTY, tag_retention_of

        retention = (  # the home's setting (on silver) where the table carries it
            tag_retention_of(table.properties)
            if TAG_RETENTION_PROPERTY in table.properties
            else retention_days_of(t.max_ref_age_ms for t in tags)
        )
        raise NoSnapshotAsOfError(table_name(table), day, earliest, retention, tuple(skipped))
    return AsOf(snapshot_id=chosen.snapshot_id, tag_date=chosen.day, day=day)


def scan_as_of(
    table: Table,
    as_of: AsOf,
    selected_fields: tuple[str, ...] = ("*",),
    row_filter: BooleanExpression | None = None,
) -> DataScan:
    """The scan that reads ``table`` as of ``as_of``: its snapshot, ``snapshot_date <= D``.

    ``row_filter`` (the query's own pushable predicates) is AND-ed with the as-of filter.
    """
    if SNAPSHOT_DATE_COLUMN not in {f.name for f in table.schema().fields}:
        raise TimeTravelError(
            f"{table_name(table)} has no {SNAPSHOT_DATE_COLUMN} column, so it cannot be read "
            "by snapshot date: query it without --as-of."
        )
    combined = as_of.row_filter if row_filter is None else And(as_of.row_filter, row_filter)
    return table.scan(
        row_filter=combined, selected_fields=selected_fields, snapshot_id=as_of.snapshot_id
    )


def snapshot_for_version(table: Table, version: int | str) -> Snapshot:
    """The snapshot an explicit ``FOR VERSION AS OF`` names: a snapshot id or a ref name."""
    snapshot = (
        table.metadata.snapshot_by_id(version)
        if isinstance(version, int)
        else table.snapshot_by_name(version)
    )
    if snapshot is None:
        raise SnapshotNotFoundError(
            f"{table_name(table)} has no retained snapshot or ref {version!r}: list them with "
            "`spotify-lakehouse snapshots`."
        )
    return snapshot


def snapshot_at(table: Table, moment: datetime) -> Snapshot:
    """The main-branch snapshot current at ``moment`` (``FOR TIMESTAMP AS OF``)."""
    timestamp_ms = int(moment.timestamp() * 1000)
    snapshot = table.snapshot_as_of_timestamp(timestamp_ms)
    if snapshot is None:
        first = min((e.timestamp_ms for e in table.history()), default=None)
        hint = (
            f" Its retained history starts at {datetime.fromtimestamp(first / 1000, UTC)}."
            if first is not None
            else " It has no snapshot yet."
        )
        raise SnapshotNotFoundError(
            f"{table_name(table)} had no snapshot at {moment.isoformat()}.{hint}"
        )
    return snapshot


def utc_from_millis(millis: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds (``unix_millis(committed_at)``).

    Commit times are selected as epoch milliseconds, never collected as timestamps: PySpark
    converts a collected ``TimestampType`` in the Python process's local zone, whatever the
    session's zone is.
    """
    return datetime.fromtimestamp(millis / 1000, UTC)
