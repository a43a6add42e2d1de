"""Take a day back: ``delete-day`` removes the rows of day D (or of one artist on D) from
silver and from the quarantine, each table in one catalog commit that also sets its tag.

ARCHITECTURE.md: "``delete-day`` is the only other way rows leave silver". A load of D can
only replace D's rows with what bronze says; when a day should not be in the lakehouse at
all (a bad fetch, an artist who asked to be removed), this is the way. Bronze is never
touched: the raw answers stay the record of what Spotify said, and a later ``transform
--date D`` would load them again (that is how a deletion is undone).

**One commit per table, summary and tag included.** Each table's delete is staged in one
pyiceberg transaction with the tag it gets (:func:`catalog.iceberg.writes.commit_with_tags`,
as a first load's append is): pyiceberg's copy-on-write ``delete`` (whole files dropped,
files that also hold other rows rewritten without the deleted ones), then ``snapshot-D``
set on the new snapshot. The snapshot summary carries what a load's does, so the
``snapshots`` command and the as-of rule see it as a change of day D: ``snapshot_date``,
``run_id`` (the delete's own run id: no bronze run was loaded), ``deleted_rows``, and what
only a deletion has: ``delete_reason`` and, for one artist, ``delete_artist``.
One snapshot, too: pyiceberg's own ``Transaction.delete`` stages *two* when the rows lie
both in files of their own and in files shared with other days (a compacted month): a
``delete`` dropping the former, then an ``overwrite`` rewriting the latter, both with the
summary, so ``snapshots`` would list the deletion twice and ``deleted_rows`` would count
twice. :func:`stage_delete` makes that case one ``overwrite`` snapshot (what pyiceberg's
second step does, given the whole-file drops as well); a delete of whole files only stays
pyiceberg's metadata-only ``delete``.

**The tag: it moves to the delete commit, also when the whole day goes.** The load-tag
rule says ``snapshot-D`` names the latest commit of D on main
(:mod:`catalog.iceberg.tags.rule`), and a deletion is such a commit. So:

* as-of D afterwards reads the delete commit: the day without the deleted rows (for a
  whole day: every earlier day, and nothing of D). That is the lakehouse as it stood right
  after the last change of D, which is what the rule promises;
* as-of a later day E is unchanged: ``snapshot-E`` still names E's own load, which predates
  the deletion, so every answer given as of E before the deletion is given again after it
  ("earlier as-of answers stay reproducible"). Only as-of D changes, which is the point;
* removing the tag instead (when the whole day goes) was rejected: the rule's repair
  (:func:`~catalog.iceberg.tags.rule.plan_repairs`, run by every later load) would put it
  back on the delete commit anyway, since that commit carries ``snapshot_date=D``; and in
  between, as-of D would have answered with the previous day's tag, i.e. without any change
  made to earlier days after that tag was set. Never a fallback to current state either way.

Silver's tag follows the load rule (:func:`~catalog.iceberg.tags.with_pyiceberg.load_tag_plans`:
the day's tag on the commit, plus the repair of any other stale tag, as a load does); the
quarantine's follows the side-table rule
(:func:`~catalog.iceberg.tags.rule.plan_side_table_tag` with ``committed=True``). A day
beyond the tag retention gets no tag (maintenance drops it). A table with nothing to delete
gets no commit, and its tag stays where it was.

**Nothing to delete is an error**, with no commit anywhere (:class:`NothingToDeleteError`):
a typo in a date or an artist id should not look like a success. A deletion whose silver
commit landed but whose quarantine commit failed is finished by running it again: silver
then has nothing left to delete, the quarantine still has.

``dq_results`` is left alone: it is the history of the checks that ran, and they did run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from catalog.errors import LakehouseError
from catalog.iceberg.commits import retry_on_conflict
from catalog.iceberg.tables import (
    ARTISTS_QUARANTINE,
    ARTISTS_SILVER,
    TableDefinition,
    tag_retention_of,
)
from catalog.iceberg.tags.rule import (
    DEFAULT_TAG_RETENTION_DAYS,
    SUMMARY_RUN_ID,
    SUMMARY_SNAPSHOT_DATE,
    Hold,
    TagPlan,
    plan_side_table_tag,
    tag_name,
)
from catalog.iceberg.writes import DAY_COLUMN, commit_with_tags, day_has_files

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table, Transaction

#: Snapshot-summary property counting the rows a commit removed (the same key a silver
#: load uses for the artists a re-load removed).
SUMMARY_DELETED_ROWS: Final = "deleted_rows"
#: Snapshot-summary property holding the ``--reason`` a deletion was made for.
SUMMARY_DELETE_REASON: Final = "delete_reason"
#: Snapshot-summary property naming the one artist a deletion was limited to, if any.
SUMMARY_DELETE_ARTIST: Final = "delete_artist"
#: The column that names an artist in silver and in the quarantine.
ARTIST_COLUMN: Final = "artist_id"
#: Silver's columns a deletion reports for each row it removed.
SILVER_REPORTED: Final = (ARTIST_COLUMN, "name", "followers")
#: The quarantine's columns a deletion reads for each row it removed (name and followers
#: come out of the raw record, when it is a JSON object that has them).
QUARANTINE_REPORTED: Final = (ARTIST_COLUMN, "raw_record")


class NothingToDeleteError(LakehouseError):
    """No row of the day (or of the artist on the day) in silver nor in the quarantine."""


class TagOutcome(StrEnum):
    """What a deletion did to the table's ``snapshot-D`` tag."""

    MOVED = "moved"  # the day's tag now names the delete commit
    CREATED = "created"  # the day had no tag (lost): it names the delete commit now
    BEYOND_RETENTION = "none (beyond retention)"  # no tag for so old a day (rule)
    UNCHANGED = "unchanged"  # nothing deleted in this table: no commit, tag as it was


@dataclass(frozen=True)
class DaySelection:
    """What to delete: every row of ``day``, or only ``artist_id``'s row(s) of it."""

    day: date
    artist_id: str | None = None

    @property
    def row_filter(self) -> BooleanExpression:
        """``snapshot_date = D`` (and ``artist_id = A``): a row with no artist id (a
        quarantined record that had none) is never one artist's."""
        from pyiceberg.expressions import And, EqualTo, Reference
        from pyiceberg.expressions.literals import literal

        by_day = EqualTo(term=Reference(DAY_COLUMN), value=literal(self.day.isoformat()))
        if self.artist_id is None:
            return by_day
        return And(by_day, EqualTo(term=Reference(ARTIST_COLUMN), value=literal(self.artist_id)))

    def describe(self) -> str:
        if self.artist_id is None:
            return self.day.isoformat()
        return f"artist {self.artist_id} on {self.day.isoformat()}"


@dataclass(frozen=True)
class RemovedRow:
    """One row a deletion removed, as the command prints it."""

    artist_id: str | None
    name: str | None
    followers: int | None


@dataclass(frozen=True)
class TableDeletion:
    """What a deletion did to one table: the rows it removed, its commit and its tag."""

    table: str
    rows: tuple[RemovedRow, ...]
    snapshot_id: int | None
    tag: str | None
    tag_outcome: TagOutcome

    @property
    def committed(self) -> bool:
        return self.snapshot_id is not None


@dataclass(frozen=True)
class DayDeletion:
    """A finished ``delete-day``: silver's part, the quarantine's part, and why."""

    selection: DaySelection
    reason: str
    run_id: str
    silver: TableDeletion
    quarantine: TableDeletion

    @property
    def tables(self) -> tuple[TableDeletion, TableDeletion]:
        return (self.silver, self.quarantine)

    @property
    def removed(self) -> int:
        return sum(len(t.rows) for t in self.tables)


def delete_properties(
    selection: DaySelection, run_id: str, reason: str, deleted: int
) -> dict[str, str]:
    """The snapshot summary of a delete commit (see the module docstring)."""
    properties = {
        SUMMARY_SNAPSHOT_DATE: selection.day.isoformat(),
        SUMMARY_RUN_ID: run_id,
        SUMMARY_DELETED_ROWS: str(deleted),
        SUMMARY_DELETE_REASON: reason,
    }
    if selection.artist_id is not None:
        properties[SUMMARY_DELETE_ARTIST] = selection.artist_id
    return properties


def _silver_row(row: Mapping[str, Any]) -> RemovedRow:
    return RemovedRow(row.get(ARTIST_COLUMN), row.get("name"), row.get("followers"))


def _quarantine_row(row: Mapping[str, Any]) -> RemovedRow:
    """A quarantined record as a removed row: name and followers read from its raw JSON
    where they are there and of the right type (the record failed validation: it may be
    anything)."""
    name: str | None = None
    followers: int | None = None
    try:
        raw = json.loads(row.get("raw_record") or "null")
    except ValueError:
        raw = None
    if isinstance(raw, dict):
        if isinstance(raw.get("name"), str):
            name = raw["name"]
        total = (
            raw.get("followers", {}).get("total")
            if isinstance(raw.get("followers"), dict)
            else None
        )
        if isinstance(total, int) and not isinstance(total, bool):
            followers = total
    return RemovedRow(row.get(ARTIST_COLUMN), name, followers)


def _sorted(rows: Iterable[RemovedRow]) -> tuple[RemovedRow, ...]:
    return tuple(sorted(rows, key=lambda r: (r.artist_id or "", r.name or "")))


def _landed(table: Table, run_id: str) -> int | None:
    """The latest snapshot this deletion's run committed to ``table``, if one landed."""
    found = [
        s
        for s in table.metadata.snapshots
        if s.summary is not None and s.summary.additional_properties.get(SUMMARY_RUN_ID) == run_id
    ]
    latest = max(found, key=lambda s: (s.sequence_number or 0, s.timestamp_ms), default=None)
    return latest.snapshot_id if latest is not None else None


def _private_writers() -> tuple[Any, Any, Any] | None:
    """pyiceberg's own helpers of its copy-on-write delete (0.12: ``ArrowScan``, the
    complement of a filter, the data-file writer); ``None`` in a pyiceberg without them."""
    try:
        from pyiceberg.io.pyarrow import (
            ArrowScan,
            _dataframe_to_data_files,
            _expression_to_complementary_pyarrow,
        )
    except ImportError:
        return None
    return ArrowScan, _expression_to_complementary_pyarrow, _dataframe_to_data_files


def stage_delete(
    transaction: Transaction, row_filter: BooleanExpression, properties: dict[str, str]
) -> None:
    """Stage the copy-on-write delete of ``row_filter``'s rows as one snapshot.

    Every file that may hold such a row is read: one that holds nothing else is dropped,
    one that also holds other rows is replaced by a file of those. With no file to replace,
    pyiceberg's ``delete`` (metadata only, one ``delete`` snapshot); otherwise one
    ``overwrite`` snapshot doing both, as pyiceberg's own rewrite step does (the predicate
    is given so it finds the manifests to rewrite). A pyiceberg without the helpers gets its
    own ``delete`` (then possibly two snapshots, see the module docstring).
    """
    import itertools
    import uuid

    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.expressions.visitors import bind

    helpers = _private_writers()
    if helpers is None:
        transaction.delete(row_filter, snapshot_properties=properties)
        return
    arrow_scan, complement, write_files = helpers
    metadata = transaction.table_metadata
    schema = metadata.schema()
    io = transaction._table.io
    keep = complement(bind(schema, row_filter, case_sensitive=True), schema)
    replaced: list[tuple[Any, Any]] = []
    for task in transaction._scan(row_filter=row_filter).plan_files():
        data = arrow_scan(
            table_metadata=metadata, io=io, projected_schema=schema, row_filter=AlwaysTrue()
        ).to_table(tasks=[task])
        kept = data.filter(keep)
        if kept.num_rows != data.num_rows:
            replaced.append((task.file, kept))
    if all(kept.num_rows == 0 for _, kept in replaced):
        transaction.delete(row_filter, snapshot_properties=properties)
        return
    commit_uuid = uuid.uuid4()
    counter = itertools.count(0)
    update = transaction.update_snapshot(snapshot_properties=properties)
    with update.overwrite(commit_uuid=commit_uuid) as overwrite:
        overwrite.delete_by_predicate(row_filter)
        for old, kept in replaced:
            overwrite.delete_data_file(old)
            if kept.num_rows:
                for new in write_files(
                    table_metadata=metadata, df=kept, io=io, write_uuid=commit_uuid, counter=counter
                ):
                    overwrite.append_data_file(new)


def _delete_from(
    catalog: Catalog,
    definition: TableDefinition,
    selection: DaySelection,
    *,
    reason: str,
    run_id: str,
    columns: Sequence[str],
    to_row: Callable[[Mapping[str, Any]], RemovedRow],
    plan_tags: Callable[[Table, int], Iterable[TagPlan]],
) -> TableDeletion:
    """Delete ``selection``'s rows from one table with its tag, in one commit (none when it
    holds no such row). ``plan_tags(table, snapshot_id)`` gives the tag plans for the new
    snapshot; a lost race is redone from the new table state, and a commit of unknown
    outcome is looked up by ``run_id`` before anything is redone."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    name = tag_name(selection.day)
    row_filter = selection.row_filter
    seen: list[tuple[RemovedRow, ...]] = [()]
    outcome: list[TagOutcome] = [TagOutcome.UNCHANGED]

    def attempt() -> int | None:
        try:
            table = catalog.load_table(definition.identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            return None
        if not day_has_files(table, selection.day):
            return None
        found = table.scan(row_filter=row_filter, selected_fields=tuple(columns)).to_arrow()
        rows = _sorted(to_row(r) for r in found.to_pylist())
        seen[0] = rows
        if not rows:
            return None
        properties = delete_properties(selection, run_id, reason, len(rows))
        had_tag = name in table.metadata.refs

        def stage(transaction: Transaction) -> None:
            stage_delete(transaction, row_filter, properties)

        def tags(snapshot_id: int | None) -> Iterable[TagPlan]:
            assert snapshot_id is not None  # rows were found: the delete made a snapshot
            plans = list(plan_tags(table, snapshot_id))
            own = any(p.name == name and p.snapshot_id == snapshot_id for p in plans)
            if not own:
                outcome[0] = TagOutcome.BEYOND_RETENTION
            else:
                outcome[0] = TagOutcome.MOVED if had_tag else TagOutcome.CREATED
            return plans

        return commit_with_tags(table, stage, tags)

    def landed() -> int | None:
        return _landed(catalog.load_table(definition.identifier), run_id)

    made = retry_on_conflict(
        attempt,
        what=f"delete of {selection.describe()} from {definition.qualified_name}",
        landed=landed,
    )
    if made is None:
        return TableDeletion(definition.qualified_name, (), None, None, TagOutcome.UNCHANGED)
    tagged = outcome[0] in (TagOutcome.MOVED, TagOutcome.CREATED)
    return TableDeletion(
        definition.qualified_name, seen[0], made, name if tagged else None, outcome[0]
    )


def _stored_retention(catalog: Catalog) -> int:
    """The home's tag retention, as silver stores it (the default when silver is missing:
    then there is nothing to delete there anyway)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        silver = catalog.load_table(ARTISTS_SILVER.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return DEFAULT_TAG_RETENTION_DAYS
    return tag_retention_of(silver.properties)


def delete_day(
    catalog: Catalog,
    selection: DaySelection,
    *,
    reason: str,
    run_id: str,
    retention_days: int | None = None,
    today: date | None = None,
) -> DayDeletion:
    """Remove ``selection``'s rows from silver, then from the quarantine (one commit each,
    with its tag), for ``reason``. ``run_id`` names this deletion in both commits' summaries;
    ``today`` (UTC, default now) anchors the tag retention, which is the home's setting
    (silver's :data:`~catalog.iceberg.tables.TAG_RETENTION_PROPERTY`, what every writer
    uses) unless ``retention_days`` is given.

    Raises :class:`NothingToDeleteError` (no commit made) when neither table holds such a
    row, and ``ValueError`` for an empty reason: every deletion says why.
    """
    from catalog.iceberg.tags.with_pyiceberg import load_tag_plans

    reason = reason.strip()
    if not reason:
        raise ValueError("a deletion needs a reason (--reason TEXT): it is kept in the commit")
    anchor = today or datetime.now(UTC).date()
    if retention_days is None:
        retention_days = _stored_retention(catalog)

    def silver_tags(table: Table, snapshot_id: int) -> Iterable[TagPlan]:
        return load_tag_plans(
            table, selection.day, snapshot_id, retention_days=retention_days, today=anchor
        ).plans

    def quarantine_tags(table: Table, snapshot_id: int) -> Iterable[TagPlan]:
        decision = plan_side_table_tag(
            selection.day,
            committed=True,
            tagged=tag_name(selection.day) in table.metadata.refs,
            latest_load=snapshot_id,
            current=snapshot_id,
            retention_days=retention_days,
            today=anchor,
        )
        return [] if isinstance(decision, Hold) else [decision]

    silver = _delete_from(
        catalog,
        ARTISTS_SILVER,
        selection,
        reason=reason,
        run_id=run_id,
        columns=SILVER_REPORTED,
        to_row=_silver_row,
        plan_tags=silver_tags,
    )
    quarantine = _delete_from(
        catalog,
        ARTISTS_QUARANTINE,
        selection,
        reason=reason,
        run_id=run_id,
        columns=QUARANTINE_REPORTED,
        to_row=_quarantine_row,
        plan_tags=quarantine_tags,
    )
    if not silver.committed and not quarantine.committed:
        raise NothingToDeleteError(
            f"nothing to delete: {ARTISTS_SILVER.qualified_name} and "
            f"{ARTISTS_QUARANTINE.qualified_name} have no row of {selection.describe()}; "
            "nothing was committed (see the loaded days with `spotify-lakehouse snapshots`)"
        )
    return DayDeletion(selection, reason, run_id, silver, quarantine)
